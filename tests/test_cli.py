"""The ``lit-jepa`` root parser: the command list, "did you mean", ``--config``/``--print_config`` on every command,
short class names, no ``--optimizer``, and ``--help`` text for the parameters of every CLI-facing class."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
import warnings
from pathlib import Path
from typing import get_args, get_type_hints

import pytest
import yaml
from jsonargparse import ArgumentParser

from lit_jepa import cli
from lit_jepa.cli import COMMANDS, DATA_COMMANDS, TRAINER_COMMANDS, dispatch, lightning_cli, main

RECIPE = "toy/pretrain-vitt-64px-16f"
# what recipes instantiate, plus the encoders of lit_jepa/encoders and the configs of plan, data and bench
CLI_CLASSES = (
    "lit_jepa.tasks.JepaPretrain", "lit_jepa.tasks.AttentiveProbe", "lit_jepa.tasks.VideoQA",
    "lit_jepa.tasks.ACWorldModel", "lit_jepa.data.trajectory_features.FeatureDataModule",
    "lit_jepa.nn.VisionTransformer",
    "lit_jepa.nn.VisionTransformerPredictor", "lit_jepa.nn.ACPredictor", "lit_jepa.data.datamodule.ClipDataModule",
    "lit_jepa.data.datamodule.ClassificationDataModule", "lit_jepa.data.datamodule.TrajectoryDataModule",
    "lit_jepa.data.datamodule.AnticipationDataModule", "lit_jepa.data.datamodule.SkippedSamplesReport",
    "lit_jepa.data.toyworld.datamodule.ToyWorldDataModule", "lit_jepa.data.features.FeatureCacheDataModule",
    "lit_jepa.data.vqa.VideoQADataModule", "lit_jepa.data.vqa.ToyVQADataModule", "lit_jepa.data.datasets.CsvVideoList",
    "lit_jepa.data.datasets.SSv2", "lit_jepa.data.datasets.Diving48", "lit_jepa.data.datasets.EK100",
    "lit_jepa.data.datasets.ImageFolder", "lit_jepa.data.datasets.DroidTrajectories",
    "lit_jepa.data.datasets.WeightedMixture", "lit_jepa.data.env_trajectories.EnvTrajectories",
    "lit_jepa.data.sampling.ClipSpec", "lit_jepa.data.transforms.RandomResizedCrop",
    "lit_jepa.data.transforms.ShortSideResize", "lit_jepa.data.transforms.RandAugment",
    "lit_jepa.data.transforms.BatchTransform", "lit_jepa.callbacks.MaskVisualizer",
    "lit_jepa.callbacks.ExportOfficial", "lit_jepa.callbacks.StatusLine",
    "lit_jepa.encoders.HFVideoEncoder", "lit_jepa.encoders.FrameEncoder", "lit_jepa.encoders.TimmFrameEncoder",
    "lit_jepa.encoders.ModuleEncoder", "lit_jepa.planning.cli.PlanConfig",
)


def _object(path: str):
    module, name = path.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


def _command_functions() -> list[str]:
    return [target.replace(":", ".") for _, target in [*COMMANDS.values(), *DATA_COMMANDS.values()]
            if "PlanConfig" not in target and not target.endswith(":plan")]


def helped_parameters(target) -> tuple[list[str], list[str]]:
    """(all constructor/function parameters, those jsonargparse gives help text from the docstring)."""
    parser = ArgumentParser()
    if inspect.isclass(target):
        parser.add_class_arguments(target, "x", sub_configs=True)
        signature = inspect.signature(target.__init__)
    else:
        parser.add_function_arguments(target, "x", sub_configs=True)
        signature = inspect.signature(target)
    names = [n for n, p in signature.parameters.items() if n != "self" and p.kind not in (p.VAR_POSITIONAL,
                                                                                          p.VAR_KEYWORD)]
    helped = {a.dest[2:] for a in parser._actions if a.dest.startswith("x.") and a.dest.count(".") == 1
              and a.help and a.help != "==SUPPRESS=="}
    return names, [n for n in names if n in helped]


@pytest.mark.parametrize("path", [*CLI_CLASSES, *_command_functions()])
def test_every_parameter_of_a_cli_facing_class_has_help(path: str) -> None:
    names, helped = helped_parameters(_object(path))
    missing = sorted(set(names) - set(helped))
    assert names and len(helped) >= 0.95 * len(names), f"{path}: no --help text for {missing}"


def test_grouped_args_lines_are_not_counted() -> None:
    class Grouped:
        """Doc.

        Args:
            a, b: both.
            c: alone.
        """

        def __init__(self, a: int = 0, b: int = 0, c: int = 0) -> None:
            pass

    assert helped_parameters(Grouped) == (["a", "b", "c"], ["c"])


def test_root_help_lists_each_command_with_its_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert done.value.code == 0
    lines = {**TRAINER_COMMANDS, **{k: v[0] for k, v in COMMANDS.items()}, "data": cli.DATA_HELP}
    for name, line in lines.items():
        assert f"{name} {line}" in out, name
    with pytest.raises(SystemExit):
        main(["data", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert all(f"{name} {line}" in out for name, (line, _) in DATA_COMMANDS.items())


@pytest.mark.parametrize(("argv", "bad", "close"), [(["fitt"], "fitt", "fit"), (["plna"], "plna", "plan"),
                                                     (["data", "chek", "x.csv"], "chek", "check")])
def test_a_mistyped_command_names_the_word_and_the_closest(argv, bad, close, capsys) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"unknown command {bad!r}; did you mean {close!r}?" in err


def test_a_mistyped_command_exits_2_from_the_console() -> None:
    run = subprocess.run([sys.executable, "-m", "lit_jepa.cli", "fitt"], capture_output=True, text=True)
    assert run.returncode == 2 and "did you mean 'fit'" in run.stderr


@pytest.mark.parametrize("command", [["plan"], ["bench"], *(["data", name] for name in DATA_COMMANDS)])
def test_every_command_takes_config_and_print_config(command, capsys) -> None:
    with pytest.raises(SystemExit) as done:
        main([*command, "--help"])
    out = capsys.readouterr().out
    assert done.value.code == 0 and "--config CONFIG" in out and "--print_config" in out


def test_plan_config_round_trip_with_yaml_keys_and_old_spellings(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit):
        main(["plan", "--checkpoint", "a.pt", "--env", "tabletop", "--trust-checkpoint", "--env_kwargs.size", "32",
              "--blur_sigmas", "[0, 1]", "--free-dims=[0, 1]", "--print_config"])
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["trust_checkpoint"] is True and printed["env_kwargs"] == {"size": 32}
    assert printed["blur_sigmas"] == [0.0, 1.0] and printed["free_dims"] == [0, 1] and printed["env"] == "tabletop"
    config = tmp_path / "plan.yaml"
    config.write_text(yaml.safe_dump({**printed, "episodes": 3}))
    with pytest.raises(SystemExit):
        main(["plan", "--config", str(config), "--checkpoint", "[a.pt, b.pt]", "--print_config"])
    again = yaml.safe_load(capsys.readouterr().out)
    assert again == {**printed, "episodes": 3, "checkpoint": ["a.pt", "b.pt"]}


def test_plan_choices_match_the_planners() -> None:
    from lit_jepa.planning.cli import PlanConfig
    from lit_jepa.planning.mpc import COSTS
    from lit_jepa.planning.mppi import SOLVERS

    hints = get_type_hints(PlanConfig)
    assert set(get_args(hints["solver"])) == set(SOLVERS) and set(get_args(hints["cost"])) == set(COSTS)


def test_plan_needs_exactly_one_of_env_and_goal_npz(capsys) -> None:
    assert main(["plan", "--checkpoint", "a.pt"]) == 2
    assert "set exactly one of env and goal_npz" in capsys.readouterr().err
    with pytest.raises(ValueError, match="set exactly one"):
        dispatch(["plan", "--checkpoint", "a.pt", "--env", "tabletop", "--goal_npz", "g.npz"])


def test_data_command_from_a_config_file(tmp_path: Path, capsys) -> None:
    config = tmp_path / "toyworld.yaml"
    config.write_text(yaml.safe_dump({"task": "fine", "out": str(tmp_path / "fine"), "num": 2, "num_val": 1,
                                      "resolution": 32, "seed": 3}))
    assert main(["data", "toyworld", "--config", str(config)]) == 0
    assert (tmp_path / "fine" / "Diving48_V2_train.json").is_file()
    assert yaml.safe_load((tmp_path / "fine" / "toyworld.json").read_text())["seed"] == 3


def test_fit_config_takes_a_recipe_name(capsys) -> None:
    with pytest.raises(SystemExit) as done:
        main(["fit", "--config", RECIPE, "--print_config"])
    assert done.value.code == 0
    assert yaml.safe_load(capsys.readouterr().out)["model"]["class_path"] == "lit_jepa.tasks.JepaPretrain"
    assert main(["fit", "--config", "toy/pretrain-vit-64px"]) == 2
    assert f"closest: {RECIPE}" in capsys.readouterr().err


def test_fit_help_lists_the_tasks_and_data_and_offers_no_optimizer(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["fit", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for name in ("lit_jepa.tasks.AttentiveProbe", "lit_jepa.tasks.JepaPretrain", "lit_jepa.tasks.VideoQA",
                 "lit_jepa.data.toyworld.datamodule.ToyWorldDataModule"):
        assert name in out
    assert "--optimizer" not in out and "--lr_scheduler" not in out
    with pytest.raises(SystemExit) as done:
        main(["fit", "--config", RECIPE, "--optimizer", "Adam", "--print_config"])
    assert done.value.code != 0


def test_task_and_data_classes_by_short_name(capsys) -> None:
    with pytest.raises(SystemExit) as done:
        main(["fit", "--model.help", "AttentiveProbe"])
    assert done.value.code == 0 and "--model.lrs" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["fit", "--model", "AttentiveProbe", "--data", "ToyWorldDataModule", "--print_config"])
    config = yaml.safe_load(capsys.readouterr().out)
    assert config["model"]["class_path"] == "lit_jepa.tasks.AttentiveProbe"
    assert config["data"]["class_path"] == "lit_jepa.data.toyworld.datamodule.ToyWorldDataModule"


def test_no_args_and_sys_argv_warning_and_argv_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["lit-jepa", "bench", "--suite", "toy"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        built = lightning_cli(["--config", RECIPE, "--trainer.max_steps", "1"], run=False)
    assert not [w for w in caught if "args parameter" in str(w.message)]
    assert sys.argv == ["lit-jepa", "bench", "--suite", "toy"]
    assert built.trainer.max_steps == 1


def test_lightnings_cloud_logger_tip_is_dropped_and_its_other_messages_kept(caplog, capsys) -> None:
    import logging

    import lightning as L

    log = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    log.filters = [f for f in log.filters if not isinstance(f, cli.NoVendorTips)]

    def trainer_messages() -> list[str]:
        caplog.clear()
        with caplog.at_level(logging.INFO, logger=log.name):
            L.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)
            log.info("another message")
        return [r.getMessage() for r in caplog.records]

    assert any("Tip:" in m for m in trainer_messages())  # Lightning prints it without the filter
    for _ in range(2):
        with pytest.raises(SystemExit):
            main(["--help"])  # main installs the filter (once) before it parses
    messages = trainer_messages()
    assert not any("Tip:" in m for m in messages) and "another message" in messages
    assert sum(isinstance(f, cli.NoVendorTips) for f in log.filters) == 1
