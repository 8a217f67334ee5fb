"""ACWorldModel: teacher forcing is block-causal, the rollout feeds back its own predictions, features are encoded
once, and a trained checkpoint loads for planning."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch

from lit_jepa.data.sampling import ClipSpec
from lit_jepa.data.toyworld.datamodule import ToyWorldDataModule
from lit_jepa.data.trajectory_features import FeatureDataModule, FeatureWindows
from lit_jepa.geometry import poses_to_actions
from lit_jepa.losses import jepa_loss
from lit_jepa.nn import VisionTransformer
from lit_jepa.nn.ac_predictor import ACPredictor
from lit_jepa.planning.energy import l1_energy
from lit_jepa.planning.model import LatentWorldModel, encode_frames, merge_tokens
from lit_jepa.tasks import ACWorldModel


def tiny(img: int = 16, pool: int = 1, rollout_steps: int = 2, pool_mode: str = "avg", **kw) -> ACWorldModel:
    torch.manual_seed(0)
    enc = VisionTransformer(img_size=img, num_frames=2, patch_size=8, embed_dim=16, depth=1, num_heads=2)
    width = 16 * (pool**2 if pool_mode == "stack" else 1)
    pred = ACPredictor(img_size=img // pool, patch_size=8, embed_dim=width, predictor_embed_dim=16, depth=2,
                       num_heads=2)
    return ACWorldModel(enc, pred, pool=pool, pool_mode=pool_mode, rollout_steps=rollout_steps, **kw)


def clip(B: int = 2, T: int = 5, N: int = 4, D: int = 16) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    h = torch.nn.functional.layer_norm(torch.randn(B, T, N, D, generator=g), (D,))
    return h, torch.randn(B, T - 1, 7, generator=g) * 0.05, torch.randn(B, T, 7, generator=g)


@torch.no_grad()
def test_teacher_forcing_never_sees_future_frames():
    model, (h, a, s) = tiny(), clip()
    base = model.teacher_forcing(h, a, s).view(2, 4, 4, 16)
    h2, a2, s2 = h.clone(), a.clone(), s.clone()
    h2[:, 2:] += 1.0  # change frames 2.. and the actions/states of steps 2..
    a2[:, 2:] += 1.0
    s2[:, 2:] += 1.0
    out = model.teacher_forcing(h2, a2, s2).view(2, 4, 4, 16)
    assert torch.allclose(out[:, :2], base[:, :2], atol=1e-6)  # predictions of frames 1, 2 are unchanged
    assert not torch.allclose(out[:, 2:], base[:, 2:], atol=1e-3)


def test_rollout_feeds_back_its_own_predictions():
    model, (h, a, s) = tiny(rollout_steps=3), clip()
    N = 4
    z1 = model.teacher_forcing(h, a, s)[:, :N]
    contexts = []
    hook = model.predictor.register_forward_pre_hook(lambda m, args: contexts.append(args[0].detach().clone()))
    out = model.rollout(h[:, 0], z1, a, s)
    hook.remove()
    assert out.shape == (2, 3 * N, 16)
    assert [c.shape[1] for c in contexts] == [2 * N, 3 * N]
    assert torch.equal(contexts[0][:, N:], z1.detach())  # step 2 reads the prediction z1, not frame h_1
    assert torch.equal(contexts[1][:, 2 * N:], out[:, N : 2 * N].detach())  # step 3 reads its own z2
    h_other = h.clone()
    h_other[:, 1:] = torch.randn_like(h_other[:, 1:])  # ground-truth frames 1.. never enter the rollout
    assert torch.allclose(model.rollout(h_other[:, 0], z1, a, s), out, atol=1e-6)
    model.rollout(h[:, 0], z1, a, s).abs().mean().backward()
    assert model.predictor.predictor_embed.weight.grad.abs().sum() > 0


def test_loss_is_teacher_forcing_plus_rollout():
    model, (h, a, s) = tiny(), clip()
    loss = model.losses({"features": h, "actions": a, "states": s}, "train")
    z_tf = model.teacher_forcing(h, a, s)
    tf = (z_tf - h[:, 1:].flatten(1, 2)).abs().mean()
    ar = (model.rollout(h[:, 0], z_tf[:, :4], a, s) - h[:, 1:3].flatten(1, 2)).abs().mean()
    assert loss.item() == pytest.approx((tf + ar).item(), rel=1e-5)


def test_copy_last_baseline_is_in_the_units_of_the_loss():
    h, a, s = clip()
    model = tiny()
    model.hparams.loss_exp = 2.0
    terms = model.loss_terms({"features": h, "actions": a, "states": s})
    step = h[:, 1:] - h[:, :-1]
    assert terms["copy_last"].item() == pytest.approx(step.pow(2).mean().item() / 2, rel=1e-6)
    assert terms["copy_last_l1"].item() == pytest.approx(step.abs().mean().item(), rel=1e-6)
    assert terms["loss"].item() == pytest.approx((terms["loss_teacher_forcing"] + terms["loss_rollout"]).item())


def test_grid_mismatch_is_an_error():
    enc = VisionTransformer(img_size=16, num_frames=2, patch_size=8, embed_dim=16, depth=1, num_heads=2)
    pred = ACPredictor(img_size=32, patch_size=8, embed_dim=16, predictor_embed_dim=16, depth=1, num_heads=2)
    with pytest.raises(ValueError, match="encoder grid"):
        ACWorldModel(enc, pred)


@torch.no_grad()
def test_stacked_pooling_keeps_every_token_and_the_full_grid_energy():
    torch.manual_seed(0)
    enc = VisionTransformer(img_size=32, num_frames=2, patch_size=8, embed_dim=16, depth=1, num_heads=2)
    frames = torch.randint(0, 256, (3, 32, 32, 3), dtype=torch.uint8)
    full = encode_frames(enc, frames).view(3, 4, 4, 16)
    stacked = encode_frames(enc, frames, pool=2, pool_mode="stack")
    assert stacked.shape == (3, 4, 64) and encode_frames(enc, frames, pool=2).shape == (3, 4, 16)
    window = torch.cat([full[:, 0, 2], full[:, 0, 3], full[:, 1, 2], full[:, 1, 3]], dim=-1)  # rows 0-1, cols 2-3
    torch.testing.assert_close(stacked[:, 1], window, atol=1e-4, rtol=0)
    grid = full.flatten(1, 2)
    energy = l1_energy(stacked, stacked.roll(1, 0))
    torch.testing.assert_close(energy, l1_energy(grid, grid.roll(1, 0)), atol=1e-5, rtol=0)
    assert energy.gt(0.1).all()
    with pytest.raises(ValueError, match="pool_mode"):
        encode_frames(enc, frames, pool=2, pool_mode="max")


def test_stacked_pooling_needs_a_predictor_as_wide_as_the_stack():
    enc = VisionTransformer(img_size=32, num_frames=2, patch_size=8, embed_dim=16, depth=1, num_heads=2)
    pred = ACPredictor(img_size=16, patch_size=8, embed_dim=16, predictor_embed_dim=16, depth=1, num_heads=2)
    with pytest.raises(ValueError, match="embed_dim 16 must be 64"):
        ACWorldModel(enc, pred, pool=2, pool_mode="stack")


@pytest.mark.parametrize("pool_mode", ["avg", "stack"])
def test_fit_on_cached_tabletop_features_then_load_for_planning(tmp_path, pool_mode, capsys):
    model = tiny(img=64, pool=4, pool_mode=pool_mode)
    calls = []
    model.encoder.register_forward_hook(lambda m, i, o: calls.append(i[0].shape[0]))
    frozen = {k: v.clone() for k, v in model.encoder.state_dict().items()}
    source = ToyWorldDataModule(task="tabletop", num=2, num_val=1, seed=3, root=str(tmp_path / "data"),
                                spec=ClipSpec(frames_per_clip=51, frame_step=1))
    data = FeatureDataModule(source, frames=4, batch_size=4)
    trainer = L.Trainer(accelerator="cpu", max_steps=6, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, limit_val_batches=1)
    trainer.fit(model, data)
    assert sum(calls) == 3 * 51  # every frame of the 2 + 1 trajectories encoded exactly once
    err = capsys.readouterr().err  # the encoding reports progress
    assert "encoding train trajectories" in err and "encoding val trajectories" in err
    assert all(torch.equal(v, frozen[k]) for k, v in model.encoder.state_dict().items())
    assert torch.isfinite(trainer.callback_metrics["train/loss"])
    ckpt = tmp_path / "wm.ckpt"
    trainer.save_checkpoint(ckpt)
    wm = LatentWorldModel.load(ckpt)
    assert wm.pool == 4 and wm.predictor.grid == 2 and wm.pool_mode == pool_mode
    z = wm.encode(torch.zeros(3, 64, 64, 3, dtype=torch.uint8))
    z_next, pose = wm.rollout(z, torch.zeros(3, 7), torch.full((3, 2, 7), 0.01))
    assert z_next.shape == (3, 4, 16 * (16 if pool_mode == "stack" else 1))
    assert torch.allclose(pose[:, :3], torch.full((3, 3), 0.02))


def test_feature_windows_with_a_frame_step_use_pose_differences_of_the_kept_frames():
    g = torch.Generator().manual_seed(0)
    feats = [torch.arange(12.0).view(12, 1, 1).expand(12, 2, 3).half()]
    states = [torch.randn(12, 7, generator=g)]
    recorded = [torch.full((11, 7), 99.0)]  # must not be used with frame_step > 1
    win = FeatureWindows(feats, states, recorded, frames=3, frame_step=5)
    assert len(win) == 2  # starts 0 and 1: frames (0, 5, 10) and (1, 6, 11)
    item = win[1]
    assert item["features"][:, 0, 0].tolist() == [1.0, 6.0, 11.0]
    assert item["features"].dtype == torch.float16  # as cached: the model casts on its device
    assert torch.equal(item["states"], states[0][[1, 6, 11]])
    assert torch.allclose(item["actions"], torch.from_numpy(poses_to_actions(states[0][[1, 6, 11]].numpy())))
    assert torch.allclose(item["actions"][:, :3], states[0][[6, 11], :3] - states[0][[1, 6], :3])
    assert torch.equal(FeatureWindows(feats, states, recorded, frames=3)[0]["actions"], recorded[0][:2])
    with pytest.raises(ValueError, match="3 frames 6 apart"):
        FeatureWindows(feats, states, recorded, frames=3, frame_step=6)


def test_stacked_toy_recipe_builds_a_world_model_on_the_full_grid_energy():
    from lit_jepa.cli import lightning_cli

    recipe = Path(__file__).resolve().parents[2] / "recipes" / "toy" / "ac-tabletop-64px-6f-stack.yaml"
    cli = lightning_cli(["--config", str(recipe), "--model.init_args.encoder_path", "null"], run=False)
    model = cli.model
    assert (model.hparams.pool, model.hparams.pool_mode, model.hparams.rollout_steps) == (2, "stack", 5)
    z = model.encode(torch.zeros(2, 64, 64, 3, dtype=torch.uint8))
    assert z.shape == (2, 16, 4 * 192) and model.predictor.predictor_embed.in_features == 4 * 192
    narrow = lightning_cli(["--config", str(recipe), "--model.init_args.encoder_path", "null",
                            "--model.init_args.encoder.init_args.embed_dim", "96"], run=False).model
    assert narrow.predictor.predictor_embed.in_features == 4 * 96  # the linked width follows pool ** 2


def disc_frame(row: int, col: int, pool: int = 2) -> torch.Tensor:
    """One ``stack`` frame ``(1, 4, 16 * pool**2)`` of a 4 x 4 encoder grid: feature 0 is 1 at ``(row, col)``."""
    grid = torch.zeros(1, 16, 4, 4)
    grid[0, 0, row, col] = 1.0
    return merge_tokens(grid.flatten(2).transpose(1, 2), pool, "stack")


def test_blurred_loss_prefers_near_misses_and_keeps_the_plain_loss():
    target, near, far = disc_frame(0, 0), disc_frame(0, 1), disc_frame(3, 3)
    plain = tiny(img=32, pool=2, pool_mode="stack")
    assert plain.regression_loss(near, target, 2.0) == plain.regression_loss(far, target, 2.0)
    assert plain.regression_loss(near, target, 2.0) == jepa_loss(near, target, 2.0)
    blurred = tiny(img=32, pool=2, pool_mode="stack", loss_blur_sigmas=(1.0,))
    assert blurred.regression_loss(near, target, 2.0) < 0.5 * blurred.regression_loss(far, target, 2.0)
    both = tiny(img=32, pool=2, pool_mode="stack", loss_blur_sigmas=(0.0, 1.0))
    total = plain.regression_loss(far, target, 2.0) + blurred.regression_loss(far, target, 2.0)
    assert torch.isclose(both.regression_loss(far, target, 2.0), total)
    with pytest.raises(ValueError, match="loss_blur_sigmas"):
        tiny(loss_blur_sigmas=(-1.0,))
