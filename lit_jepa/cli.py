"""The ``lit-jepa`` command.

- ``lit-jepa fit|validate|test|predict --config recipe.yaml``: a LightningCLI over any lit_jepa task module
  (``model: class_path: ...``) and DataModule (``data: class_path: ...``); ``lit-jepa fit --help`` lists the
  options and ``--print_config`` prints a complete recipe. Linked arguments (``LINKS``): the clip length and
  resolution of the data set the encoder's and predictor's, and the predictor follows the encoder's patch,
  tubelet and width.
- ``lit-jepa data <command> ...``: the data tools, each in its own module (``DATA_COMMANDS``).
- ``lit-jepa plan ...``: CEM planning with a trained world model (``lit_jepa.planning.cli``).
- ``lit-jepa bench --suite NAME``: the benchmark runner of ``benchmarks/`` (from a clone of the repository).

Bad input (a missing or malformed file, an invalid value: :func:`input_errors`, also when jsonargparse wraps it
while building a recipe's classes) ends the command with one line naming the file and exit status 2; ``--debug``
anywhere on the command line, or ``LIT_JEPA_DEBUG=1``, shows the traceback instead.
"""

from __future__ import annotations

import importlib
import os
import pickle
import sys

# command name -> "module:function"; each function takes the remaining argv and returns an exit status.
DATA_COMMANDS: dict[str, str] = {
    "check": "lit_jepa.data.doctor:main",
    "materialize": "lit_jepa.data.streaming:main",
    "toyworld": "lit_jepa.data.toyworld.cli:main",
    "toyvqa": "lit_jepa.vqa.cli:main",
}
TRAINER_COMMANDS = ("fit", "validate", "test", "predict")
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
USAGE = f"""usage: lit-jepa {{{",".join(TRAINER_COMMANDS)}}} --config RECIPE.yaml [options]
       lit-jepa data {{{",".join(DATA_COMMANDS)}}} ...
       lit-jepa plan --checkpoint CKPT (--env ID | --goal-npz NPZ) [options]
       lit-jepa bench --suite {{toy,perf,...}} [options]
"""


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


def lightning_cli(args: list[str] | None = None, run: bool = True):
    """Build (and by default run) the LightningCLI; tests call it with ``run=False`` to parse recipes."""
    import lightning as L
    from lightning.pytorch.cli import LightningCLI

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

    return LitJepaCLI(L.LightningModule, L.LightningDataModule, subclass_mode_model=True, subclass_mode_data=True,
                      args=args, run=run, save_config_kwargs={"overwrite": True},
                      )


def bench(argv: list[str]) -> int:
    """``lit-jepa bench``: the options of :func:`lit_jepa.bench.bench` on the command line."""
    import argparse

    from lit_jepa.bench import bench as run_bench

    parser = argparse.ArgumentParser(prog="lit-jepa bench", description=run_bench.__doc__.split("\n\n")[0])
    parser.add_argument("--suite", default="toy", help="a shipped suite's name (toy, perf, planning, probe, "
                                                       "encoders) or the path of a suite YAML file")
    parser.add_argument("--only", nargs="+", metavar="RUN", help="run only these runs of the suite")
    parser.add_argument("--workdir", default="runs/bench", help="data, logs, checkpoints and perf results")
    parser.add_argument("--records", help="folder of run records (default: WORKDIR/records)")
    parser.add_argument("--out", help="folder for LEADERBOARD.md, leaderboard.csv and plots/ (default: the records "
                                      "folder's parent)")
    parser.add_argument("--force", action="store_true", help="rerun runs that already have a finished record")
    parser.add_argument("--tables-only", action="store_true", help="only regenerate the leaderboard outputs")
    return run_bench(**vars(parser.parse_args(argv)))


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


def main(argv: list[str] | None = None) -> int:
    """Run a ``lit-jepa`` command; bad input is one line on stderr and exit status 2 (module docstring)."""
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
    if argv[:1] == ["data"] and len(argv) >= 2 and argv[1] in DATA_COMMANDS:
        module, func = DATA_COMMANDS[argv[1]].split(":")
        return int(getattr(importlib.import_module(module), func)(argv[2:]) or 0)
    if argv[:1] == ["bench"]:
        return bench(argv[1:])
    if argv[:1] == ["plan"]:
        from lit_jepa.planning.cli import main as plan_main

        return plan_main(argv[1:])
    if argv[:1] and argv[0] in TRAINER_COMMANDS:
        lightning_cli(None if from_command_line else argv)
        return 0
    sys.stderr.write(USAGE)
    return 0 if argv[:1] in (["-h"], ["--help"]) else 2


if __name__ == "__main__":
    sys.exit(main())
