"""Callbacks: status lines for runs without a terminal; the probe adds its ProbeResults once."""

import lightning as L
from lightning.pytorch.demos.boring_classes import BoringModel

from lit_jepa.callbacks import ProbeResults, StatusLine
from lit_jepa.nn import VisionTransformer
from lit_jepa.tasks import AttentiveProbe


def test_status_line_reports_name_step_total_eta_and_validation(tmp_path, capsys):
    logger = L.pytorch.loggers.CSVLogger(tmp_path, name="boring")
    trainer = L.Trainer(max_steps=6, limit_val_batches=2, val_check_interval=3, enable_progress_bar=False,
                        enable_model_summary=False, enable_checkpointing=False, logger=logger,
                        callbacks=[StatusLine(every_s=0.0)], num_sanity_val_steps=0)
    trainer.fit(BoringModel())
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("[boring/version_0]")]
    assert lines[0].startswith("[boring/version_0] training started at step 0/6 (epoch 0)")
    assert any(line.startswith("[boring/version_0] step 3/6 (epoch 0), ETA 0:00:0") for line in lines)
    assert any(line == "[boring/version_0] validation batch 2/2" for line in lines)
    assert lines[-1].startswith("[boring/version_0] training ended at step 6/6")


def test_status_line_waits_its_interval(tmp_path, capsys):
    trainer = L.Trainer(max_steps=5, limit_val_batches=0, enable_progress_bar=False, enable_model_summary=False,
                        enable_checkpointing=False, logger=False, callbacks=[StatusLine(every_s=3600.0)])
    trainer.fit(BoringModel())
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" at ")[0] for line in lines if line.startswith("[BoringModel]")] == [
        "[BoringModel] training started", "[BoringModel] training ended"]


def test_the_probe_adds_probe_results_once():
    probe = AttentiveProbe(encoder=VisionTransformer(img_size=32, num_frames=4, patch_size=8, embed_dim=32, depth=1,
                                                     num_heads=2), num_classes=3, lrs=[1e-3], weight_decays=[0.1],
                           num_heads=2, depth=1)
    assert [type(c) for c in probe.configure_callbacks()] == [ProbeResults]
    own = ProbeResults()
    trainer = L.Trainer(callbacks=[own], logger=False)
    probe.trainer = trainer
    assert probe.configure_callbacks() == []
