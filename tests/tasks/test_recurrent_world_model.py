"""The end-to-end recurrent world model (EB-JEPA's recipe): network, loss, training, checkpoints, planning."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lit_jepa.cli import lightning_cli
from lit_jepa.data.toyworld.two_rooms_walks import walk_batch
from lit_jepa.losses import vicreg_covariance
from lit_jepa.nn import RecurrentWorldModel
from lit_jepa.planning.model import RecurrentLatentModel, load_world_model
from lit_jepa.tasks import RecurrentWorldModelTask

TWO_ROOMS = dict(img_size=65, channels=(0, 1), mean=(0.0026, 0.0989), std=(0.0369, 0.2986), dim=16, width=8,
                 idm_hidden=16)


def weighted_sum(terms: dict, h) -> torch.Tensor:
    """The rollout error plus the regulariser's terms at the task's weights."""
    return (terms["rollout"] + h.std_coeff * terms["variance"] + h.cov_coeff * terms["covariance"]
            + h.smooth_coeff * terms["smoothness"] + h.idm_coeff * terms["inverse_dynamics"])


def test_network_reads_its_channels_and_steps_through_the_shared_norm():
    torch.manual_seed(0)
    net = RecurrentWorldModel(**TWO_ROOMS)
    images = torch.randint(0, 256, (3, 2, 65, 65, 3), dtype=torch.uint8)
    z = net.encode(images)
    assert z.shape == (3, 2, 16)
    torch.testing.assert_close(z.mean(-1), torch.zeros(3, 2), atol=1e-5, rtol=0)  # LayerNorm output
    blue = images.clone()
    blue[..., 2] = 0
    torch.testing.assert_close(net.encode(blue), z)  # channel 2 is not read
    actions = torch.randn(3, 4, 2)
    rolled = net.rollout(z[:, 0], actions)
    step = z[:, 0]
    for k in range(4):
        step = net.step(step, actions[:, k])
        torch.testing.assert_close(rolled[:, k], step)
    assert net.inverse_dynamics(z[:, 0], z[:, 1]).shape == (3, 2)
    assert RecurrentWorldModel(**net.config()).config() == net.config()
    with pytest.raises(ValueError, match="64 x 64|65 x 65"):
        net.encode(torch.zeros(1, 64, 64, 3, dtype=torch.uint8))
    with pytest.raises(ValueError, match="one entry each"):
        RecurrentWorldModel(channels=(0, 1), mean=(0.5,), std=(0.5, 0.5))
    scaled = RecurrentWorldModel(**{**TWO_ROOMS, "action_scale": 5.0})
    scaled.load_state_dict(net.state_dict())
    torch.testing.assert_close(scaled.step(z[:, 0], 5 * actions[:, 0]), net.step(z[:, 0], actions[:, 0]))
    assert RecurrentWorldModel(**scaled.config()).action_scale == 5.0
    mlp = RecurrentWorldModel(**{**TWO_ROOMS, "input_hidden": 8})
    assert mlp.gru.input_size == 8 and RecurrentWorldModel(**mlp.config()).input_hidden == 8
    z1 = mlp.encode(images[:, 0])
    moved = mlp.step(z1, actions[:, 0])
    fed = mlp.inputs(torch.cat([z1, actions[:, 0]], -1))  # the GRU reads an MLP of the latent and the action
    torch.testing.assert_close(moved, mlp.norm(mlp.gru(fed, z1)))
    with pytest.raises(ValueError, match="input_hidden, residual_hidden >= 0"):
        RecurrentWorldModel(input_hidden=-1)
    residual = RecurrentWorldModel(**{**TWO_ROOMS, "residual_hidden": 8})
    assert residual.gru is None and RecurrentWorldModel(**residual.config()).residual_hidden == 8
    z2 = residual.encode(images[:, 0])
    delta = residual.residual(torch.cat([z2, actions[:, 0]], -1))  # the MLP's output is added to the latent
    torch.testing.assert_close(residual.step(z2, actions[:, 0]), residual.norm(z2 + delta))
    with pytest.raises(ValueError, match="set one"):
        RecurrentWorldModel(input_hidden=8, residual_hidden=8)
    framed = RecurrentWorldModel(**{**TWO_ROOMS, "residual_hidden": 8, "context": True})
    assert RecurrentWorldModel(**framed.config()).context
    z3 = framed.encode(images[:, 0])
    rolled = framed.rollout(z3, actions[:, :2])
    first = framed.norm(z3 + framed.residual(torch.cat([z3, z3, actions[:, 0]], -1)))
    second = framed.norm(first + framed.residual(torch.cat([first, z3, actions[:, 1]], -1)))  # reads z_0 again
    torch.testing.assert_close(rolled, torch.stack([first, second], 1))
    with pytest.raises(ValueError, match="context latent"):
        framed.step(z3, actions[:, 0])
    with pytest.raises(ValueError, match="residual_hidden > 0"):
        RecurrentWorldModel(context=True)


def test_covariance_normalised_over_pairs_is_eb_jepa_s():
    x = torch.randn(256, 8) @ torch.randn(8, 8)
    assert torch.allclose(vicreg_covariance(x, "pairs"), vicreg_covariance(x) / 7)
    cov = torch.cov(x.T)
    off = cov[~torch.eye(8, dtype=torch.bool)]
    assert torch.allclose(vicreg_covariance(x, "pairs"), off.square().mean(), rtol=1e-4)
    with pytest.raises(ValueError, match="normalize"):
        vicreg_covariance(x, "sum")


def test_loss_terms_and_a_short_training_lowers_the_rollout_error():
    torch.manual_seed(0)
    task = RecurrentWorldModelTask(RecurrentWorldModel(**TWO_ROOMS), rollout_steps=3)
    rng = np.random.default_rng(0)
    fixed = walk_batch(np.random.default_rng(99), 32, 4)
    terms = task.loss_terms(fixed)
    assert set(terms) == {"loss", "rollout", "variance", "covariance", "smoothness", "inverse_dynamics", "stay"}
    torch.testing.assert_close(terms["loss"], weighted_sum(terms, task.hparams))
    opt = torch.optim.AdamW(task.parameters(), lr=3e-3)
    first = {k: v.item() for k, v in task.loss_terms(fixed).items()}
    for _ in range(60):
        loss = task.loss_terms(walk_batch(rng, 16, 4))["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        after = task.loss_terms(fixed)
    assert after["loss"].item() < 0.5 * first["loss"]
    assert after["rollout"].item() < 0.2 * first["rollout"]
    assert after["variance"].item() < 0.2 * first["variance"]  # the encodings spread out instead of collapsing
    with pytest.raises(ValueError, match="too short"):
        task.loss_terms(walk_batch(rng, 4, 2))


def test_rollouts_from_several_starts_are_the_mean_of_each_start_s_rollout():
    torch.manual_seed(0)
    task = RecurrentWorldModelTask(RecurrentWorldModel(**TWO_ROOMS), rollout_steps=2, rollout_starts=3)
    batch = walk_batch(np.random.default_rng(1), 4, 4)
    with torch.no_grad():
        terms = task.loss_terms(batch)
        z, a, net = task.model.encode(batch["frames"]), batch["actions"], task.model
        each = [F.mse_loss(net.rollout(z[:, s], a[:, s:s + 2]), z[:, s + 1:s + 3]) for s in range(3)]
        stay = [F.mse_loss(z[:, s:s + 1].expand(-1, 2, -1), z[:, s + 1:s + 3]) for s in range(3)]
    torch.testing.assert_close(terms["rollout"], torch.stack(each).mean())
    torch.testing.assert_close(terms["stay"], torch.stack(stay).mean())
    assert not torch.allclose(each[0], each[2])  # the starts differ: the walk's later frames are rolled out too
    with pytest.raises(ValueError, match="rollout_starts=3"):
        task.loss_terms(walk_batch(np.random.default_rng(1), 4, 3))  # 4 frames: 2 steps from 3 starts need 5
    with pytest.raises(ValueError, match="rollout_starts"):
        RecurrentWorldModelTask(RecurrentWorldModel(**TWO_ROOMS), rollout_starts=0)


def test_rollout_noise_perturbs_each_latent_the_predictor_reads_in_training_only():
    torch.manual_seed(0)
    task = RecurrentWorldModelTask(RecurrentWorldModel(**TWO_ROOMS), rollout_steps=3, rollout_noise=0.1)
    batch = walk_batch(np.random.default_rng(1), 4, 3)
    net = task.model
    with torch.no_grad():
        z0, a = net.encode(batch["frames"][:, 0]), batch["actions"]
        torch.manual_seed(5)
        noisy = net.rollout(z0, a, noise=0.1)
        torch.manual_seed(5)
        z, manual = z0, []
        for k in range(3):
            z = net.step(z + 0.1 * torch.randn_like(z), a[:, k])
            manual.append(z)
        torch.testing.assert_close(noisy, torch.stack(manual, 1))
        clean = net.rollout(z0, a)
        assert not torch.allclose(noisy, clean)
        task.eval()  # validation rolls out without noise
        evaluated = task.loss_terms(batch)["rollout"]
        torch.testing.assert_close(evaluated, F.mse_loss(clean, net.encode(batch["frames"][:, 1:])))
        task.train()
        assert not torch.allclose(task.loss_terms(batch)["rollout"], evaluated)
    with pytest.raises(ValueError, match="rollout_noise"):
        RecurrentWorldModelTask(RecurrentWorldModel(**TWO_ROOMS), rollout_noise=-1.0)


def test_rollout_exponent_1_scores_the_rollout_and_staying_put_by_l1():
    torch.manual_seed(0)
    task = RecurrentWorldModelTask(RecurrentWorldModel(**TWO_ROOMS), rollout_steps=2, rollout_exp=1.0)
    batch = walk_batch(np.random.default_rng(2), 4, 2)
    with torch.no_grad():
        terms = task.loss_terms(batch)
        z, net = task.model.encode(batch["frames"]), task.model
        torch.testing.assert_close(terms["rollout"], F.l1_loss(net.rollout(z[:, 0], batch["actions"]), z[:, 1:]))
        torch.testing.assert_close(terms["stay"], F.l1_loss(z[:, :1].expand(-1, 2, -1), z[:, 1:]))
        task.hparams.rollout_exp = 2.0  # the default: the MSE
        torch.testing.assert_close(task.loss_terms(batch)["rollout"],
                                   F.mse_loss(net.rollout(z[:, 0], batch["actions"]), z[:, 1:]))
    with pytest.raises(ValueError, match="rollout_exp"):
        RecurrentWorldModelTask(RecurrentWorldModel(**TWO_ROOMS), rollout_exp=0.0)


def test_multiple_hypotheses_step_to_the_top_scored_proposal_and_train_winner_takes_all():
    torch.manual_seed(0)
    net = RecurrentWorldModel(**{**TWO_ROOMS, "residual_hidden": 8, "hypotheses": 3})
    assert RecurrentWorldModel(**net.config()).hypotheses == 3
    batch = walk_batch(np.random.default_rng(3), 4, 2)
    task = RecurrentWorldModelTask(net, rollout_steps=2, mode_coeff=0.5)
    with torch.no_grad():
        z, a = net.encode(batch["frames"]), batch["actions"]
        out = net.residual(torch.cat([z[:, 0], a[:, 0]], -1))  # 3 deltas of 16, then 3 logits
        cands, logits = net.candidates(z[:, 0], a[:, 0])
        torch.testing.assert_close(cands, net.norm(z[:, 0, None] + out[:, :48].view(4, 3, 16)))
        torch.testing.assert_close(logits, out[:, 48:])
        top = logits.argmax(-1)
        torch.testing.assert_close(net.step(z[:, 0], a[:, 0]), cands[torch.arange(4), top])
        proposals, all_logits, winner = net.rollout_wta(z[:, 0], a, z[:, 1:])
        torch.testing.assert_close(proposals[:, 0], cands)
        err = (cands - z[:, 1, None]).pow(2).mean(-1)  # the first step's winner is the proposal nearest the target
        torch.testing.assert_close(winner[:, 0], err.argmin(-1))
        second, _ = net.candidates(cands[torch.arange(4), winner[:, 0]], a[:, 1])  # the rollout goes on from it
        torch.testing.assert_close(proposals[:, 1], second)
        wins = proposals.gather(2, winner[..., None, None].expand(-1, -1, 1, 16))[:, :, 0]
        terms = task.loss_terms(batch)
        torch.testing.assert_close(terms["rollout"], F.mse_loss(wins, z[:, 1:]))
        task.hparams.wta_relax = 0.25  # relaxed: a quarter of the error is every proposal's mean
        relaxed = 0.75 * F.mse_loss(wins, z[:, 1:]) + 0.25 * (proposals - z[:, 1:, None]).pow(2).mean()
        torch.testing.assert_close(task.loss_terms(batch)["rollout"], relaxed)
        task.hparams.wta_relax = 0.0
        torch.testing.assert_close(terms["mode"], F.cross_entropy(all_logits.flatten(0, 1), winner.flatten()))
        torch.testing.assert_close(terms["loss"], weighted_sum(terms, task.hparams) + 0.5 * terms["mode"])
        assert terms["mode_accuracy"] == (all_logits.argmax(-1) == winner).float().mean()
    with pytest.raises(ValueError, match="hypotheses"):
        RecurrentWorldModel(hypotheses=2)  # needs the residual MLP
    with pytest.raises(ValueError, match="hypotheses=1"):
        RecurrentWorldModel(**{**TWO_ROOMS, "residual_hidden": 8}).candidates(z[:, 0], a[:, 0])
    with pytest.raises(ValueError, match="mode_coeff"):
        RecurrentWorldModelTask(net, mode_coeff=-1.0)
    with pytest.raises(ValueError, match="wta_relax"):
        RecurrentWorldModelTask(net, wta_relax=1.5)


def test_frozen_encoder_control_trains_only_the_predictor():
    torch.manual_seed(0)
    task = RecurrentWorldModelTask(RecurrentWorldModel(**TWO_ROOMS), rollout_steps=2, freeze_encoder=True)
    before = {k: v.clone() for k, v in task.model.state_dict().items()}
    opt = torch.optim.AdamW([p for p in task.parameters() if p.requires_grad], lr=1e-2)
    loss = task.loss_terms(walk_batch(np.random.default_rng(0), 8, 3))["loss"]
    opt.zero_grad()
    loss.backward()
    opt.step()
    after = task.model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(k.startswith(("gru.", "idm.")) for k in changed)


def test_recipe_trains_checkpoints_and_the_checkpoint_plans(tmp_path):
    cli = lightning_cli(["--config", "recipes/toy/wm-two-rooms-gru.yaml", "--trainer.max_steps", "3",
                         "--trainer.val_check_interval", "3", "--trainer.enable_progress_bar", "false",
                         "--trainer.logger.init_args.save_dir", str(tmp_path), "--data.init_args.batch_size", "4",
                         "--data.init_args.val_batches", "1", "--model.init_args.model.init_args.dim", "16"],
                        run=False)
    cli.trainer.fit(cli.model, cli.datamodule)
    path = cli.trainer.checkpoint_callback.last_model_path
    model = load_world_model(path)
    assert isinstance(model, RecurrentLatentModel) and model.net.config() == cli.model.model.config()
    frames = walk_batch(np.random.default_rng(0), 2, 3)["frames"]
    z = model.encode(frames[:, 0])
    torch.testing.assert_close(z[:, 0], cli.model.model.eval().encode(frames[:, 0]))
    actions = torch.randn(2, 5, 2)
    final, state = model.rollout(z, torch.zeros(2, 2), actions)
    every, _ = model.rollout(z, torch.zeros(2, 2), actions, every_step=True)
    assert final.shape == (2, 1, 16) and every.shape == (2, 5, 1, 16) and model.maps(final).shape == (2, 16, 1, 1)
    torch.testing.assert_close(every[:, -1], final)
    torch.testing.assert_close(state, actions.sum(1))
    torch.save({"state_dict": {"x.weight": torch.zeros(1)}}, tmp_path / "plain.pt")
    with pytest.raises(ValueError, match="not a recurrent world model"):
        RecurrentLatentModel.load(tmp_path / "plain.pt")
