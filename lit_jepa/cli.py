"""The ``lit-jepa`` command.

- ``lit-jepa fit|validate|test|predict --config recipe.yaml``: a LightningCLI over any lit_jepa task module
  (``model: class_path: ...``) and DataModule (``data: class_path: ...``); ``lit-jepa fit --help`` lists the
  options and ``--print_config`` prints a complete recipe. Linked arguments (``LINKS``): the clip length and
  resolution of the data set the encoder's and predictor's, and the predictor follows the encoder's patch,
  tubelet and width.
- ``lit-jepa data <command> ...``: the data tools, each in its own module (``DATA_COMMANDS``).
- ``lit-jepa plan ...``: CEM planning with a trained world model (``lit_jepa.planning.cli``).
- ``lit-jepa bench --suite NAME``: the benchmark runner of ``benchmarks/`` (from a clone of the repository).
"""

from __future__ import annotations

import importlib
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
       lit-jepa plan --checkpoint CKPT (--env tabletop | --goal-npz NPZ) [options]
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
    """Run ``benchmarks/run.py`` of the checkout this package was installed from."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    if not (root / "benchmarks" / "run.py").is_file():
        sys.stderr.write(f"lit-jepa bench: no benchmarks/ next to {root / 'lit_jepa'}; run it from a clone "
                         "installed with `pip install -e .`\n")
        return 2
    sys.path.insert(0, str(root))
    from benchmarks.run import main as run_main

    return run_main(argv)


def main(argv: list[str] | None = None) -> int:
    from_command_line = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
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
