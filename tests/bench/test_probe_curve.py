"""``benchmarks/toy_probe_curve.py``: probes every step checkpoint of a run against random initialisation."""

from pathlib import Path

import pytest
import torch
import yaml

from benchmarks import common, toy_probe_curve, toy_probes
from lit_jepa import hub
from lit_jepa.nn import VisionTransformer

RECIPE = yaml.safe_load(Path(toy_probe_curve.TASKS["motion"][0]).read_text())
VITT = RECIPE["model"]["init_args"]["encoder"]["init_args"]  # the probe recipe's encoder
TINY = ["--data.init_args.data.init_args.num", "8", "--data.init_args.data.init_args.num_val", "4",
        "--data.init_args.data.init_args.batch_size", "4", "--trainer.max_epochs", "1"]


def test_curve_probes_each_step_checkpoint_and_random_init(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "RESULTS", tmp_path / "results")
    for step in (250, 500):
        torch.manual_seed(step)
        hub.export_official(tmp_path / "run" / "checkpoints" / f"epoch=0-step={step}.ckpt",
                            target_encoder=VisionTransformer(**VITT))
    (tmp_path / "run" / "checkpoints" / "last.ckpt").write_bytes(b"not a step checkpoint")
    record = toy_probe_curve.main(["--run", str(tmp_path / "run"), "--workdir", str(tmp_path / "work"),
                                   "--threads", str(torch.get_num_threads()), "--record", "curve", "--", *TINY])
    steps = record["tasks"]["motion"]["steps"]
    assert list(steps) == [0, 250, 500] and steps[0]["checkpoint"] == "random"
    assert steps[500]["checkpoint"].endswith("epoch=0-step=500.ckpt")
    for row in steps.values():
        assert 0.0 <= row["value"] <= 1.0 and row["wilson95"][0] <= row["value"] <= row["wilson95"][1]
        assert row["minus_random_points"] == round(100 * (row["value"] - steps[0]["value"]), 1)
    assert (tmp_path / "results" / "curve.json").is_file()


def test_curve_needs_step_checkpoints(tmp_path):
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "last.ckpt").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="save_top_k: -1"):
        toy_probe_curve.step_checkpoints(tmp_path)


def test_probe_refuses_a_numeric_log_version():
    with pytest.raises(ValueError, match="version_0"):
        toy_probes.probe(toy_probe_curve.TASKS["motion"][0], None, version="0")
