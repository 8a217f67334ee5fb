"""Smoke test of the probe-curve study (``experiments/toy-probes/``): every step checkpoint against random init."""

import pytest
import torch
import yaml
from lit_jepa.recipes import resolve

from lit_jepa import hub
from lit_jepa.nn import VisionTransformer
from tests.experiments.conftest import load_study

TINY = ["--data.init_args.data.init_args.num", "8", "--data.init_args.data.init_args.num_val", "4",
        "--data.init_args.data.init_args.batch_size", "4", "--trainer.max_epochs", "1"]


@pytest.mark.research
def test_curve_probes_each_step_checkpoint_and_random_init(tmp_path, monkeypatch):
    curve = load_study("toy-probes/toy_probe_curve.py")
    monkeypatch.setattr(curve, "RESULTS", tmp_path / "results")
    recipe = yaml.safe_load(resolve(curve.TASKS["motion"][0]).read_text())
    for step in (250, 500):
        torch.manual_seed(step)
        hub.export_official(tmp_path / "run" / "checkpoints" / f"epoch=0-step={step}.ckpt",
                            target_encoder=VisionTransformer(**recipe["model"]["init_args"]["encoder"]["init_args"]))
    record = curve.main(["--run", str(tmp_path / "run"), "--workdir", str(tmp_path / "work"),
                         "--threads", str(torch.get_num_threads()), "--record", "curve", "--", *TINY])
    steps = record["tasks"]["motion"]["steps"]
    assert list(steps) == [0, 250, 500] and steps[0]["checkpoint"] == "random"
    for row in steps.values():
        assert 0.0 <= row["value"] <= 1.0 and row["wilson95"][0] <= row["value"] <= row["wilson95"][1]
    assert (tmp_path / "results" / "curve.json").is_file()
