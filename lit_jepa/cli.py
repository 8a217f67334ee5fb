"""The ``lit-jepa`` command: one jsonargparse root parser whose subcommands are typed functions (as litgpt's).

- ``lit-jepa fit|validate|test|predict --config RECIPE``: a LightningCLI over any lit_jepa task module
  (``model: class_path: ...``, or a short name: ``--model AttentiveProbe``) and DataModule (``--data
  ToyWorldDataModule``); ``RECIPE`` is a path or a shipped recipe's name (:func:`lit_jepa.recipes.resolve`).
  ``lit-jepa fit --help`` lists the options and the task and data classes, ``--model.help AttentiveProbe`` a
  class's options, and ``--print_config`` prints a complete recipe. Linked arguments (``LINKS``): the clip length
  and resolution of the data set the encoder's and predictor's, and the predictor follows the encoder's patch,
  tubelet and width. The tasks own their optimisers and schedules, so there is no ``--optimizer``.
- ``lit-jepa plan``, ``lit-jepa data check|materialize|toyworld|toyvqa``, ``lit-jepa bench``: the functions of
  :data:`COMMANDS` and :data:`DATA_COMMANDS`, whose signatures and docstrings are the options and their help
  (a function taking one dataclass, such as ``plan``, has the dataclass's fields as options). Each takes
  ``--config FILE.yaml`` with the option names as keys, and ``--print_config`` prints one. Options are snake_case;
  the older dashed spellings (``--goal-npz``) are read as the snake_case ones.

``lit-jepa --help`` lists the commands; a mistyped command exits 2 naming it and the closest command. Bad input (a
missing or malformed file, an invalid value: :func:`input_errors`, also when jsonargparse wraps it while building a
recipe's classes) ends the command with one line naming the file and exit status 2; ``--debug`` anywhere on the
command line, or ``LIT_JEPA_DEBUG=1``, shows the traceback instead.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import inspect
import logging
import os
import pickle
import sys
import typing
from contextlib import contextmanager

DESCRIPTION = ("V-JEPA 2 on PyTorch Lightning: video JEPA pretraining, frozen-encoder probes, action-conditioned "
               "world models with planning, and video QA.")
TRAINER_COMMANDS: dict[str, str] = {
    "fit": "Train a task module on a DataModule (LightningCLI: --config RECIPE, --model, --data, --trainer).",
    "validate": "Run a task module's validation loop (LightningCLI).",
    "test": "Run a task module's test loop (LightningCLI).",
    "predict": "Run a task module's predict loop (LightningCLI).",
}
# command -> (one-line help, "module:function"); the function's signature and docstring are the command's options
COMMANDS: dict[str, tuple[str, str]] = {
    "plan": ("Plan with a world-model checkpoint in an environment or toward recorded goal images.",
             "lit_jepa.planning.cli:plan"),
    "bench": ("Run a benchmark suite and write its run records and leaderboard tables.", "lit_jepa.bench:bench"),
}
DATA_COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("Decode every entry of an annotation file as training would and report the failures.",
              "lit_jepa.data.doctor:check"),
    "materialize": ("Write an annotation file's clips into litdata chunks.",
                    "lit_jepa.data.streaming:materialize_annotation"),
    "toyworld": ("Write a ToyWorld dataset to disk.", "lit_jepa.data.toyworld.cli:toyworld"),
    "toyvqa": ("Write the ToyWorld VQA dataset (JSONL + MP4) to disk.", "lit_jepa.vqa.cli:toyvqa"),
}
# commands whose required arguments are positional (the others' are required options: --task, --out)
POSITIONAL = ("check", "materialize")
DATA_HELP = "Dataset tools: check, materialize, toyworld, toyvqa."
# imported before LightningCLI parses, so that --model/--data/encoders/callbacks take lit_jepa classes by short name
CLI_MODULES = ("lit_jepa.tasks", "lit_jepa.data.datamodule", "lit_jepa.data.toyworld.datamodule",
               "lit_jepa.data.features", "lit_jepa.data.trajectory_features", "lit_jepa.data.vqa", "lit_jepa.encoders",
               "lit_jepa.callbacks")
# (source, target) config keys: the target follows the source wherever both exist in a recipe, after command-line
# overrides. Class counts are read from the DataModule by the task modules at setup (they are known only once
# the annotation files are read).
LINKS: tuple[tuple[str, str], ...] = (
    ("data.init_args.spec.frames_per_clip", "model.init_args.encoder.init_args.num_frames"),
    ("data.init_args.spec.frames_per_clip", "model.init_args.predictor.init_args.num_frames"),
    ("data.init_args.resolution", "model.init_args.encoder.init_args.img_size"),
    ("data.init_args.resolution", "model.init_args.predictor.init_args.img_size"),
    ("model.init_args.encoder.init_args.patch_size", "model.init_args.predictor.init_args.patch_size"),
    ("model.init_args.encoder.init_args.tubelet_size", "model.init_args.predictor.init_args.tubelet_size"),
    ("model.init_args.encoder.init_args.embed_dim", "model.init_args.predictor.init_args.embed_dim"),
)


def _has(config, key: str) -> bool:
    try:
        return config[key] is not None
    except (KeyError, AttributeError, TypeError):
        return False


def _link_stacked_width(config) -> None:
    """A world model with ``pool_mode: stack`` feeds its predictor ``pool ** 2`` encoder widths per token."""
    model = "model.init_args"
    width = f"{model}.predictor.init_args.embed_dim"
    if _has(config, f"{model}.pool_mode") and config[f"{model}.pool_mode"] == "stack" and _has(config, width):
        from lit_jepa.planning.model import token_width

        pool = config[f"{model}.pool"] if _has(config, f"{model}.pool") else 1
        config[width] = token_width(config[f"{model}.encoder.init_args.embed_dim"], pool, "stack")


@contextmanager
def _argv(args: list[str]):
    """``sys.argv`` is ``lit-jepa ARGS`` meanwhile: LightningCLI reads it (given ``args`` as well, it warns), and a
    multi-process strategy relaunches it."""
    saved = sys.argv
    sys.argv = [saved[0] if saved else "lit-jepa", *args]
    try:
        yield
    finally:
        sys.argv = saved


def resolve_configs(args: list[str]) -> list[str]:
    """``args`` with each ``--config`` value resolved by :func:`lit_jepa.recipes.resolve` (a path or a shipped
    recipe's name)."""
    from lit_jepa.recipes import resolve

    out, follows_flag = [], False
    for arg in args:
        if follows_flag:
            arg = str(resolve(arg))
        elif arg.startswith("--config="):
            arg = f"--config={resolve(arg.split('=', 1)[1])}"
        out.append(arg)
        follows_flag = arg == "--config"
    return out


def lightning_cli(args: list[str] | None = None, run: bool = True):
    """Build (and by default run) the LightningCLI over ``args`` (default: the command line); tests call it with
    ``run=False`` to parse recipes."""
    import lightning as L
    from lightning.pytorch.cli import LightningCLI

    for module in CLI_MODULES:
        importlib.import_module(module)

    class LitJepaCLI(LightningCLI):
        def before_instantiate_classes(self) -> None:
            config = self.config[self.subcommand] if self.subcommand else self.config
            for source, target in LINKS:
                if _has(config, source) and _has(config, target) and config[target] != config[source]:
                    config[target] = config[source]
            _link_stacked_width(config)

        def add_arguments_to_parser(self, parser) -> None:
            # checkpoints are written beside their final name and renamed, on any filesystem (lit_jepa.checkpoint_io)
            parser.set_defaults({"trainer.logger": {"class_path": "lightning.pytorch.loggers.TensorBoardLogger",
                                                    "init_args": {"save_dir": "runs", "default_hp_metric": False}},
                                 "trainer.plugins": [{"class_path": "lit_jepa.checkpoint_io.AtomicCheckpointIO"}]})

    with _argv(resolve_configs(sys.argv[1:] if args is None else list(args))):
        return LitJepaCLI(L.LightningModule, L.LightningDataModule, subclass_mode_model=True,
                          subclass_mode_data=True, run=run, save_config_kwargs={"overwrite": True},
                          auto_configure_optimizers=False)


def _config_class(fn) -> type | None:
    """The dataclass ``fn`` takes as its only parameter (its fields are then the command's options), else ``None``."""
    params = list(inspect.signature(fn).parameters)
    hint = typing.get_type_hints(fn).get(params[0]) if len(params) == 1 else None
    return hint if isinstance(hint, type) and dataclasses.is_dataclass(hint) else None


def _new_parser(config: bool = True, **kwargs):
    """A jsonargparse parser; ``config``: with ``--config FILE`` (and so ``--print_config``)."""
    from jsonargparse import ActionConfigFile, ArgumentParser

    parser = ArgumentParser(**kwargs)
    if config:
        parser.add_argument("--config", action=ActionConfigFile,
                            help="a YAML file of options, the option names as keys (--print_config prints one)")
    return parser


def _function(target: str):
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)


def root_parser(command: list[str] | None = None):
    """The root parser: every command with its one-line help; only ``command`` (``["plan"]``, ``["data",
    "check"]``) gets its options, so that ``lit-jepa --help`` imports nothing heavy. LightningCLI parses the
    trainer commands itself (:func:`lightning_cli`); here they are listed."""
    command = command or []
    root = _new_parser(config=False, prog="lit-jepa", description=DESCRIPTION)
    commands = root.add_subcommands(required=True, dest="command")
    for name, help in TRAINER_COMMANDS.items():
        commands.add_subcommand(name, _new_parser(), help=help)
    for name, (help, target) in COMMANDS.items():
        parser = _command_parser(name, target if command == [name] else None, help)
        commands.add_subcommand(name, parser, help=help)
    data = _new_parser(config=False)
    commands.add_subcommand("data", data, help=DATA_HELP)  # jsonargparse: levels in order
    data_commands = data.add_subcommands(required=True, dest="command")
    for name, (help, target) in DATA_COMMANDS.items():
        parser = _command_parser(name, target if command == ["data", name] else None, help)
        data_commands.add_subcommand(name, parser, help=help)
    return root


def _command_parser(name: str, target: str | None, help: str):
    """A subcommand's parser, with the options of ``target``'s function (or of its one dataclass parameter); a
    boolean option alone (``--trust_checkpoint``) means true."""
    parser = _new_parser(description=help)
    if target is not None:
        fn = _function(target)
        config = _config_class(fn)
        if config is None:
            parser.add_function_arguments(fn, as_positional=name in POSITIONAL)
        else:
            parser.add_class_arguments(config)
        for action in parser._actions:
            if getattr(action, "_typehint", None) is bool:  # jsonargparse's type of the option
                action.nargs, action.const = "?", True
    return parser


def run_command(argv: list[str]) -> int:
    """Parse ``argv`` (``plan ...``, ``data check ...``, ``bench ...``) with :func:`root_parser` and call the
    command's function with the options."""
    command = argv[:2] if argv[:1] == ["data"] else argv[:1]
    parser = root_parser(command)
    config = parser.parse_args([*command, *snake_case(argv[len(command):])])
    options = parser.instantiate(config)
    for name in command:
        options = options[name]
    kwargs = {k: v for k, v in vars(options).items() if k != "config"}
    fn = _function((DATA_COMMANDS if command[0] == "data" else COMMANDS)[command[-1]][1])
    config_class = _config_class(fn)
    status = fn(config_class(**kwargs)) if config_class else fn(**kwargs)
    return int(status or 0)


def snake_case(args: list[str]) -> list[str]:
    """``args`` with option names spelt the snake_case way (``--goal-npz x`` is ``--goal_npz x``)."""
    out = []
    for arg in args:
        if arg.startswith("--") and not arg.startswith("---"):
            name, sep, value = arg[2:].partition("=")
            arg = "--" + name.replace("-", "_") + sep + value
        out.append(arg)
    return out


def unknown_command(argv: list[str]) -> str | None:
    """The error for a command word that names no command (with the closest one), else ``None``."""
    levels = [("lit-jepa", [*TRAINER_COMMANDS, *COMMANDS, "data"], argv[:1])]
    if argv[:1] == ["data"]:
        levels.append(("lit-jepa data", list(DATA_COMMANDS), argv[1:2]))
    for prog, names, word in levels:
        if not word:
            return f"{prog}: error: a command is required: {', '.join(names)}"
        if word[0] not in names and not word[0].startswith("-"):
            close = difflib.get_close_matches(word[0], names, n=1, cutoff=0.5)
            hint = f"; did you mean {close[0]!r}?" if close else f"; the commands: {', '.join(names)}"
            return f"{prog}: error: unknown command {word[0]!r}{hint}"
    return None


def _raised_by(err: BaseException) -> str:
    """The module whose code raised ``err``."""
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_globals.get("__name__", "") if tb is not None else ""


def input_errors() -> tuple[type[BaseException], ...]:
    """The errors that mean bad input (files, values) rather than a bug (imported here: the data layer is slow to
    import)."""
    from lit_jepa.atomic import FolderBusyError
    from lit_jepa.data.decode import SampleError

    return OSError, ValueError, KeyError, pickle.UnpicklingError, SampleError, FolderBusyError


def input_error(err: BaseException) -> BaseException | None:
    """``err``, or for an error jsonargparse raised while handling another (a class of the recipe it failed to
    build) that other error, when it is one of :func:`input_errors`; else ``None`` (a bug: keep the traceback)."""
    while _raised_by(err).startswith("jsonargparse") and (inner := err.__cause__ or err.__context__) is not None:
        err = inner
    return err if isinstance(err, input_errors()) else None


def one_line(err: BaseException) -> str:
    """The message of an input error (a ``KeyError``'s without the quotes ``str`` adds)."""
    message = err.args[0] if isinstance(err, KeyError) and len(err.args) == 1 else str(err)
    return str(message) or type(err).__name__


class NoVendorTips(logging.Filter):
    """Drops Lightning's "Tip" advertisement for its cloud logger, which every ``Trainer`` logs at INFO (a suite
    would print it once per run); every other message of that logger passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("\N{ELECTRIC LIGHT BULB} Tip:")


def main(argv: list[str] | None = None) -> int:
    """Run a ``lit-jepa`` command; bad input is one line on stderr and exit status 2 (module docstring)."""
    rank_zero_log = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    if not any(isinstance(f, NoVendorTips) for f in rank_zero_log.filters):
        rank_zero_log.addFilter(NoVendorTips())
    from_command_line = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--debug" in argv:
        argv = [a for a in argv if a != "--debug"]
        os.environ["LIT_JEPA_DEBUG"] = "1"  # also for the processes a run starts (DDP ranks)
        if from_command_line:
            sys.argv[1:] = argv  # LightningCLI reads sys.argv itself
    debug = os.environ.get("LIT_JEPA_DEBUG", "") not in ("", "0")
    try:
        return dispatch(argv, from_command_line)
    except Exception as err:
        cause = input_error(err)
        if debug or cause is None:
            raise
        name = " ".join(argv[:2] if argv[:1] == ["data"] else argv[:1])
        sys.stderr.write(f"lit-jepa {name}: error: {one_line(cause)} (--debug or LIT_JEPA_DEBUG=1 for the "
                         "traceback)\n")
        return 2


def dispatch(argv: list[str], from_command_line: bool = False) -> int:
    """Run the command ``argv`` names and return its exit status (``from_command_line``: ``argv`` is
    ``sys.argv[1:]``, which LightningCLI reads itself)."""
    if argv[:1] and argv[0] in TRAINER_COMMANDS:
        lightning_cli(None if from_command_line else argv)
        return 0
    if argv[:1] in (["-h"], ["--help"]) or argv[:2] in (["data", "-h"], ["data", "--help"]):
        root_parser().parse_args(argv)  # prints the help and exits 0
    error = unknown_command(argv)
    if error is not None:
        sys.stderr.write(f"{error} (lit-jepa --help lists the commands)\n")
        return 2
    return run_command(argv)


if __name__ == "__main__":
    sys.exit(main())
