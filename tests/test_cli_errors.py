"""Bad input ends a ``lit-jepa`` command with one line naming the file; the traceback stays behind --debug."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lit_jepa import cli
from lit_jepa.data.datasets.base import AnnotationError

TINY_ENCODER = {"img_size": 32, "num_frames": 8, "patch_size": 8, "tubelet_size": 2, "embed_dim": 32, "depth": 1,
                "num_heads": 2}


def bad_csv_recipe(tmp_path: Path) -> tuple[Path, Path]:
    """A probe recipe whose training list has a malformed line 2; returns ``(recipe, list)``."""
    annotation = tmp_path / "train.csv"
    annotation.write_text("/data/a.mp4 3\n/data/b.mp4 three\n")
    recipe = {
        "trainer": {"accelerator": "cpu", "max_steps": 1, "logger": False, "enable_checkpointing": False},
        "model": {"class_path": "lit_jepa.tasks.AttentiveProbe", "init_args": {
            "encoder": {"class_path": "lit_jepa.nn.VisionTransformer", "init_args": TINY_ENCODER},
            "task": "classification", "num_classes": 4, "num_heads": 2, "depth": 1}},
        "data": {"class_path": "lit_jepa.data.datamodule.ClassificationDataModule", "init_args": {
            "batch_size": 2, "train_dataset": {"class_path": "lit_jepa.data.datasets.CsvVideoList", "init_args": {
                "annotation": str(annotation), "spec": {"frames_per_clip": 8, "frame_step": 1}}}}},
    }
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path, annotation


def test_bad_annotation_through_fit_is_one_line_naming_file_and_line(tmp_path, capfd, monkeypatch):
    monkeypatch.delenv("LIT_JEPA_DEBUG", raising=False)
    recipe, annotation = bad_csv_recipe(tmp_path)
    assert cli.main(["fit", "--config", str(recipe)]) == 2
    err = capfd.readouterr().err  # (a logging handler that an earlier test left on a closed stream may add noise)
    lines = [line for line in err.splitlines() if line.startswith("lit-jepa")]
    assert lines == [f"lit-jepa fit: error: {annotation}:2: expected '<video path> <integer label>' (or "
                     "'path::label'), got '/data/b.mp4 three' (--debug or LIT_JEPA_DEBUG=1 for the traceback)"]
    assert "jsonargparse" not in err and "Union subtypes" not in err


def test_bad_recipe_value_is_one_line(tmp_path, capfd, monkeypatch):
    monkeypatch.delenv("LIT_JEPA_DEBUG", raising=False)
    recipe, annotation = bad_csv_recipe(tmp_path)
    annotation.write_text("/data/a.mp4 3\n")
    assert cli.main(["fit", "--config", str(recipe),
                     "--data.init_args.train_dataset.init_args.spec.frame_step", "0"]) == 2
    err = [line for line in capfd.readouterr().err.splitlines() if line.startswith("lit-jepa")]
    assert len(err) == 1 and err[0].startswith("lit-jepa fit: error: ClipSpec: frames, segments, views and step/fps "
                                               "must be >= 1, got ClipSpec(frames_per_clip=8, frame_step=0,")


@pytest.mark.parametrize("switch", ["env", "flag"])
def test_debug_keeps_the_traceback(tmp_path, monkeypatch, switch):
    monkeypatch.setenv("LIT_JEPA_DEBUG", "1" if switch == "env" else "0")  # restored after the test
    recipe, annotation = bad_csv_recipe(tmp_path)
    with pytest.raises(ValueError) as raised:  # jsonargparse's wrapping, the reader's error inside
        cli.main(["fit", "--config", str(recipe), *(["--debug"] if switch == "flag" else [])])
    chain, err = [], raised.value
    while err is not None:
        chain.append(err)
        err = err.__cause__ or err.__context__
    assert any(isinstance(e, AnnotationError) and f"{annotation}:2" in str(e) for e in chain)


def test_a_bug_is_not_mistaken_for_bad_input(monkeypatch):
    monkeypatch.delenv("LIT_JEPA_DEBUG", raising=False)

    def bug(argv, from_command_line=False):
        try:
            raise ValueError("a file's bad value")
        except ValueError:
            raise TypeError("a bug while handling it") from None

    monkeypatch.setattr(cli, "dispatch", bug)
    with pytest.raises(TypeError, match="a bug"):
        cli.main(["fit"])
    assert cli.input_error(KeyError("x")) is not None and cli.one_line(KeyError("x: missing")) == "x: missing"
