"""The probe curve: a closed-form ridge probe on time-ordered features, logged along pretraining."""

from __future__ import annotations

import json

import lightning as L
import torch
from lightning.pytorch.loggers import TensorBoardLogger
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from lit_jepa.data.datamodule import ClassificationDataModule
from lit_jepa.data.toyworld import ToyClips
from lit_jepa.nn import VisionTransformer
from lit_jepa.probe_curve import ProbeCurve, ridge_top1, time_pooled
from tests.tasks.test_pretrain import tiny_data, tiny_module


def test_ridge_probe_separates_separable_classes_and_not_random_labels() -> None:
    g = torch.Generator().manual_seed(0)
    centres = 3 * torch.randn(4, 10, generator=g, dtype=torch.float64)
    y = torch.arange(200) % 4
    x = centres[y] + torch.randn(200, 10, generator=g, dtype=torch.float64)
    top1, _ = ridge_top1(x[:100], y[:100], x[100:], y[100:], 4, [1e-3, 1.0])
    assert top1 > 0.95
    noise = torch.randn(200, 10, generator=g, dtype=torch.float64)
    chance, _ = ridge_top1(noise[:100], y[:100], noise[100:], y[100:], 4, [1e-3, 1.0])
    assert chance < 0.45
    # more features than samples: the dual form gives the primal's predictions
    wide, y = torch.randn(40, 60, generator=g, dtype=torch.float64), y[:40]
    dual, _ = ridge_top1(wide[:20], y[:20], wide[20:], y[20:], 4, [0.5])
    primal, _ = ridge_top1(wide[:20].repeat(4, 1), y[:20].repeat(4), wide[20:], y[20:], 4, [0.5])
    assert dual == primal


def test_time_pooled_features_keep_the_order_of_frames() -> None:
    enc = VisionTransformer(img_size=32, num_frames=4, patch_size=8, embed_dim=48, depth=1, num_heads=2).eval()
    clips = torch.randn(2, 3, 4, 32, 32)
    feats = time_pooled(enc, clips)
    assert feats.shape == (2, 2 * 48)
    tokens = enc(clips).unflatten(1, (2, 16)).mean(2)
    torch.testing.assert_close(feats, tokens.flatten(1))
    assert not torch.allclose(feats, time_pooled(enc, clips.flip(2)), atol=1e-4)


def test_curve_is_logged_before_during_and_after_training(tmp_path, capsys) -> None:
    labelled = ClassificationDataModule(ToyClips("motion", num=24, resolution=32, num_frames=4, seed=5),
                                        ToyClips("motion", num=24, resolution=32, num_frames=4, seed=5, split="val"),
                                        batch_size=8)
    curve = ProbeCurve(labelled, every_n_steps=2)
    module = tiny_module()
    logger = TensorBoardLogger(tmp_path, name="run", version=0)
    trainer = L.Trainer(accelerator="cpu", max_steps=3, logger=logger, enable_progress_bar=False,
                        enable_checkpointing=False, enable_model_summary=False, callbacks=[curve])
    trainer.fit(module, tiny_data())
    assert [p["step"] for p in curve.points] == [0, 2, 3]
    assert all(0.0 <= p["top1"] <= 1.0 and p["num_train"] == 24 and p["num_val"] == 24 for p in curve.points)
    saved = json.loads((tmp_path / "run" / "version_0" / "probe_curve.json").read_text())
    assert saved["points"] == curve.points and saved["encoder"] == "target_encoder"
    events = EventAccumulator(str(tmp_path / "run" / "version_0")).Reload()
    assert [e.step for e in events.Scalars("probe_curve/top1")] == [0, 2, 3]
    # each point reports its encoding on stderr (a status line when not in a terminal), so a long probe is not silent
    err = capsys.readouterr().err
    assert all(f"probe_curve: encoding clips at step {s}: 48/48 clip" in err for s in (0, 2, 3)), err
    # probing the online encoder leaves it in training mode
    curve.encoder = "encoder"
    module.encoder.train()
    curve.probe(trainer, module)
    assert module.encoder.training and len(curve.points) == 3
