"""Pretraining module: a tiny CPU run, exact resume, EMA under gradient accumulation, export, DDP."""

import os
import subprocess
import sys
from pathlib import Path

import lightning as L
import pytest
import torch

from lit_jepa import hub
from lit_jepa.callbacks import ExportOfficial, mask_strip
from lit_jepa.data.datamodule import ClipDataModule
from lit_jepa.data.toyworld import ToyClips
from lit_jepa.nn import VisionTransformer, VisionTransformerPredictor
from lit_jepa.tasks import JepaPretrain

ROOT = Path(__file__).resolve().parents[2]


def tiny_module(**kw) -> JepaPretrain:
    torch.manual_seed(0)
    enc = VisionTransformer(img_size=32, num_frames=4, patch_size=8, embed_dim=48, depth=2, num_heads=2)
    pred = VisionTransformerPredictor(img_size=32, num_frames=4, patch_size=8, embed_dim=48, predictor_embed_dim=32,
                                      depth=1, num_heads=2)
    defaults = {"lr": 1e-3, "start_lr": 1e-4, "final_lr": 1e-3, "warmup_steps": 3, "ema": (0.9, 0.99)}
    return JepaPretrain(enc, pred, **{**defaults, **kw})


def tiny_data(batch_size: int = 4) -> ClipDataModule:
    return ClipDataModule(ToyClips("motion", num=24, resolution=32, num_frames=4), batch_size=batch_size)


def trainer(tmp_path, max_steps: int, **kw) -> L.Trainer:
    return L.Trainer(accelerator="cpu", max_steps=max_steps, logger=False, enable_progress_bar=False,
                     enable_model_summary=False, default_root_dir=tmp_path, **{"enable_checkpointing": False, **kw})


def weights(module: JepaPretrain) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in module.state_dict().items()}


def test_training_updates_encoder_and_ema_target(tmp_path):
    module = tiny_module()
    before = weights(module)
    trainer(tmp_path, 4).fit(module, tiny_data())
    after = module.state_dict()
    assert not torch.equal(before["encoder.norm.weight"], after["encoder.norm.weight"])
    # the target moved towards the encoder, by less than the encoder moved
    moved = (after["target_encoder.blocks.0.attn.qkv.weight"] - before["target_encoder.blocks.0.attn.qkv.weight"])
    online = (after["encoder.blocks.0.attn.qkv.weight"] - before["encoder.blocks.0.attn.qkv.weight"])
    assert 0 < moved.abs().sum() < online.abs().sum()
    # the schedule reached the optimizer: step 4 is past the 3-step warmup, so lr == peak
    assert module.trainer.optimizers[0].param_groups[0]["lr"] == pytest.approx(1e-3)
    assert all(g["weight_decay"] == 0 for g in module.trainer.optimizers[0].param_groups if g["wd_exclude"])


def test_ema_follows_optimizer_steps_under_gradient_accumulation(tmp_path, monkeypatch):
    module = tiny_module()
    momenta = []
    update = module.update_target
    monkeypatch.setattr(module, "update_target", lambda m: (momenta.append(m), update(m)))
    trainer(tmp_path, 2, accumulate_grad_batches=3).fit(module, tiny_data(batch_size=2))
    assert module.trainer.global_step == 2
    # one update per optimizer step; the k-th uses the ramp at k - 1, as the official momentum generator
    assert momenta == [pytest.approx(0.9), pytest.approx(0.945)]


class Interrupt(L.Callback):
    """Stops a run after ``step`` optimizer steps, as a pre-emption would."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer, *args) -> None:
        if trainer.global_step >= self.step:
            trainer.should_stop = True


def test_resume_mid_epoch_is_exact(tmp_path):
    """A 6-step run interrupted after step 3 and resumed from its checkpoint ends with the weights of an
    uninterrupted 6-step run (an epoch is 6 batches: the interruption is mid-epoch)."""
    full = tiny_module()
    L.seed_everything(0)
    trainer(tmp_path / "full", 6).fit(full, tiny_data())
    first = tiny_module()
    L.seed_everything(0)
    ckpt_cb = L.pytorch.callbacks.ModelCheckpoint(dirpath=tmp_path / "ckpt", every_n_train_steps=3, save_top_k=-1)
    trainer(tmp_path / "a", 6, enable_checkpointing=True, callbacks=[ckpt_cb, Interrupt(3)]).fit(first, tiny_data())
    assert first.trainer.global_step == 3
    resumed = tiny_module()
    ckpt = next((tmp_path / "ckpt").glob("*step=3*.ckpt"))
    trainer(tmp_path / "b", 6).fit(resumed, tiny_data(), ckpt_path=ckpt)
    for k, v in full.state_dict().items():
        assert torch.equal(v, resumed.state_dict()[k]), k


def test_checkpoint_and_export_load_through_hub(tmp_path):
    module = tiny_module()
    ckpt_cb = L.pytorch.callbacks.ModelCheckpoint(dirpath=tmp_path / "ckpt", save_last=True)
    export = tmp_path / "export" / "vjepa2.pt"
    trainer(tmp_path, 2, enable_checkpointing=True, callbacks=[ckpt_cb, ExportOfficial(str(export))]).fit(
        module, tiny_data())
    for path in (export, tmp_path / "ckpt" / "last.ckpt"):
        enc = hub.load_encoder(path)  # key target_encoder
        assert all(torch.equal(v, enc.state_dict()[k]) for k, v in module.target_encoder.state_dict().items())
        pred = hub.load_predictor(path)
        assert all(torch.equal(v, pred.state_dict()[k]) for k, v in module.predictor.state_dict().items())


def test_init_from_previous_stage(tmp_path):
    first = tiny_module()
    path = hub.export_official(tmp_path / "stage1.pt", encoder=first.encoder, target_encoder=first.target_encoder,
                               predictor=first.predictor)
    with torch.no_grad():
        first.target_encoder.norm.weight.fill_(3.0)
    hub.export_official(path, encoder=first.encoder, target_encoder=first.target_encoder, predictor=first.predictor)
    second = tiny_module(init_from=str(path))
    second.setup("fit")
    assert torch.equal(second.target_encoder.norm.weight, torch.full((48,), 3.0))
    assert torch.equal(second.encoder.blocks[0].attn.qkv.weight, first.encoder.blocks[0].attn.qkv.weight)


def test_two_stage_run_with_init_from_equals_one_run(tmp_path):
    """``init_from`` a Lightning checkpoint carries AdamW's state: 2 + 2 steps equal 4 steps exactly (constant
    schedules, and one fixed batch so both runs see the same data and masks)."""
    from lit_jepa.data.loader import ResumableLoader

    constant = {"start_lr": 1e-3, "warmup_steps": 0, "ema": (0.9, 0.9)}

    class OneBatch(ClipDataModule):
        def train_dataloader(self):
            return ResumableLoader(self.datasets["train"], batch_size=4, shuffle=False)

    def fit(module: JepaPretrain, steps: int, root) -> None:
        t = trainer(root, steps, enable_checkpointing=True, callbacks=[
            L.pytorch.callbacks.ModelCheckpoint(dirpath=root / "ckpt", save_last=True)])
        t.fit(module, OneBatch(ToyClips("motion", num=4, resolution=32, num_frames=4)))

    one = tiny_module(**constant)
    fit(one, 4, tmp_path / "one")
    first = tiny_module(**constant)
    fit(first, 2, tmp_path / "first")
    second = tiny_module(**constant, init_from=str(tmp_path / "first" / "ckpt" / "last.ckpt"))
    fit(second, 2, tmp_path / "second")
    for name, value in weights(one).items():
        torch.testing.assert_close(weights(second)[name], value, rtol=1e-5, atol=1e-7, msg=name)
    fresh = tiny_module(**constant, init_from=str(hub.export_official(
        tmp_path / "first.pt", encoder=first.encoder, target_encoder=first.target_encoder, predictor=first.predictor)))
    fit(fresh, 2, tmp_path / "fresh")  # an export has no optimizer state: AdamW starts afresh, so it differs
    assert not torch.allclose(fresh.encoder.blocks[0].attn.qkv.weight, one.encoder.blocks[0].attn.qkv.weight)


@pytest.mark.parametrize("regularizer", ["sigreg", "vicreg"])
def test_objective_options_train_log_and_online_targets_mirror_the_encoder(tmp_path, regularizer):
    """``target="online"`` trains through the targets and leaves the target encoder equal to the encoder (exports
    hold the trained weights); the regulariser and the dense context loss are added and logged."""
    module = tiny_module(target="online", regularizer=regularizer, regularizer_weight=0.1, context_loss_weight=0.5)
    before = weights(module)
    trainer(tmp_path, 2).fit(module, tiny_data())
    logged = module.trainer.callback_metrics
    assert {f"train/{regularizer}", "train/context_loss", "train/pred_loss", "train/loss"} <= set(logged)
    expected = logged["train/pred_loss"] + 0.1 * logged[f"train/{regularizer}"] + 0.5 * logged["train/context_loss"]
    assert torch.allclose(logged["train/loss"], expected, rtol=1e-5)
    for name, value in module.encoder.state_dict().items():
        assert torch.equal(module.target_encoder.state_dict()[name], value), name
    assert not torch.equal(before["encoder.norm.weight"], module.encoder.norm.weight)


def test_motion_weight_reweights_the_prediction_loss(tmp_path, monkeypatch):
    """``motion_weight`` passes :func:`motion_token_weights` of the clip, gathered at the predicted tokens, to the
    prediction loss; 0 passes none (the paper's plain mean)."""
    from lit_jepa.tasks import pretrain

    seen = []
    real = pretrain.jepa_loss
    monkeypatch.setattr(pretrain, "jepa_loss", lambda z, t, p, w=None: seen.append(w) or real(z, t, p, w))
    trainer(tmp_path / "plain", 1).fit(tiny_module(), tiny_data())
    assert seen and all(w is None for w in seen)
    seen.clear()
    module = tiny_module(motion_weight=0.8)
    trainer(tmp_path / "motion", 1).fit(module, tiny_data())
    assert seen and all(w is not None and w.ndim == 2 and (w >= 0.2 - 1e-6).all() for w in seen)
    assert any(not torch.allclose(w, torch.ones_like(w)) for w in seen)


def test_mask_strip_tints_targets():
    clip = torch.zeros(3, 4, 16, 16)
    strip = mask_strip(clip, torch.tensor([0, 1]), patch_size=8, tubelet_size=2)
    assert strip.shape == (3, 16, 64)
    assert torch.allclose(strip[:, :8, :8], strip[:, :8, :8].new_tensor([0.485, 0.456, 0.406]).view(3, 1, 1))
    assert strip[0, 8:, :8].mean() > strip[1, 8:, :8].mean()  # a target token: tinted red


DDP_SCRIPT = r"""
import sys, torch, lightning as L
from tests.tasks.test_pretrain import tiny_module, tiny_data
class Record(L.Callback):
    def __init__(self): self.seen = []
    def on_train_batch_start(self, trainer, module, batch, i):
        idx = batch["index"]
        if trainer.world_size > 1:
            out = [torch.zeros_like(idx) for _ in range(trainer.world_size)]
            torch.distributed.all_gather(out, idx); idx = torch.cat(out)
        self.seen.append(sorted(idx.tolist()))
devices, batch = int(sys.argv[1]), int(sys.argv[2])
rec = Record()
module = tiny_module()
strategy = "ddp_find_unused_parameters_true" if devices > 1 else "auto"
t = L.Trainer(accelerator="cpu", devices=devices, strategy=strategy, max_steps=3, logger=False,
              enable_checkpointing=False, enable_progress_bar=False, callbacks=[rec])
t.fit(module, tiny_data(batch_size=batch))
if t.global_rank == 0:
    print("SEEN", rec.seen, "STEPS", t.global_step, "LR", t.optimizers[0].param_groups[0]["lr"])
"""


@pytest.mark.slow
def test_two_process_ddp_matches_global_batch(tmp_path):
    """2 processes x batch 2 consume, per optimizer step, the same 4 samples as 1 process x batch 4."""
    script = tmp_path / "ddp.py"
    script.write_text(DDP_SCRIPT)  # PYTHONPATH below makes tests/ importable
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    outs = []
    for devices, batch in ((2, 2), (1, 4)):
        run = subprocess.run([sys.executable, str(script), str(devices), str(batch)], capture_output=True, text=True,
                             cwd=tmp_path, env=env, timeout=300)
        assert run.returncode == 0, run.stderr[-3000:]
        outs.append(next(line for line in run.stdout.splitlines() if line.startswith("SEEN")))
    assert outs[0] == outs[1]


def test_online_probe_learns_from_stop_gradient_targets(tmp_path):
    module = tiny_module(online_probe_classes=24, online_probe_lr=1e-2)
    probe_before = module.online_probe.linear.weight.detach().clone()
    L.seed_everything(0)
    trainer(tmp_path / "probe", 3).fit(module, tiny_data())
    metrics = module.trainer.callback_metrics
    assert "train/online_probe_acc" in metrics and "train/online_probe_loss" in metrics
    assert not torch.equal(probe_before, module.online_probe.linear.weight)
    group = next(g for g in module.trainer.optimizers[0].param_groups if g["name"] == "online_probe")
    assert group["lr"] == pytest.approx(1e-2)  # past warmup: peak lr 1e-3 scaled to the probe's 1e-2
    # stop-gradient: the encoders end exactly where a run without the probe ends
    plain = tiny_module()
    L.seed_everything(0)
    trainer(tmp_path / "plain", 3).fit(plain, tiny_data())
    for k, v in plain.state_dict().items():
        assert torch.equal(v, module.state_dict()[k]), k
