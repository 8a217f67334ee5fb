"""``lit_jepa.bench.planning``: world models trained from the world's recipe plus overrides, then every planner."""

import hashlib

import pytest
import torch

from lit_jepa import hub
from lit_jepa.bench import planning
from lit_jepa.nn import VisionTransformer
from lit_jepa.planning.model import LatentWorldModel


@pytest.fixture
def encoder(tmp_path):
    return hub.export_official(tmp_path / "enc.pt", target_encoder=VisionTransformer(
        img_size=64, num_frames=2, patch_size=8, embed_dim=32, depth=1, num_heads=2))


def test_smoke_plans_every_task_with_every_planner(tmp_path, encoder, capsys):
    rec = planning.run(smoke=True, encoder=str(encoder), logdir=str(tmp_path / "runs"),
                       threads=torch.get_num_threads())
    err = capsys.readouterr().err  # every planner's episodes report progress (no silent stretch in a suite log)
    assert all(f"{task} {name}" in err for task in ("reach", "push") for name in ("replay", "simulator_cem"))
    for task in ("reach", "push"):
        names = set(rec["planning"][task])
        assert names == {"replay", "random", "simulator_cem", "world_model_pretrained_encoder",
                         "world_model_random_encoder"}
        assert all(r["episodes"] == 4 and len(r["sr_final_wilson95"]) == 2 for r in rec["planning"][task].values())
    assert rec["landscape"]["random_encoder"]["transitions"] > 0
    # the world model is the recipe's: its schedule and model step, 10 smoke steps
    wm = rec["world_model"]
    assert wm["recipe"] == "toy/ac-tabletop-64px-6f" and wm["train_steps"] == 10
    trained = rec["training"]["pretrained_encoder"]
    assert trained["hparams"]["warmup_steps"] == 400 and trained["hparams"]["lr"] == 1e-3
    assert trained["frame_step"] == rec["protocol"]["frame_step"] == 5 and trained["steps_done"] == 10
    assert (tmp_path / "runs" / "pretrained_encoder" / "version_0" / "checkpoints" / "last.ckpt").is_file()


def test_overrides_reach_the_world_model_and_the_train_seed_only_its_initialisation(tmp_path, encoder):
    stack = ["--model.init_args.pool", "2", "--model.init_args.predictor.init_args.img_size", "32",
             "--model.init_args.pool_mode", "stack", "--model.init_args.loss_exp", "2.0"]
    rec = planning.run(smoke=True, encoder=str(encoder), export=True, logdir=str(tmp_path / "runs"),
                       threads=torch.get_num_threads(), tasks=("reach",), encoders=("pretrained",), overrides=stack)
    assert set(rec["planning"]["reach"]) == {"replay", "random", "simulator_cem", "world_model_pretrained_encoder"}
    hparams = rec["training"]["pretrained_encoder"]["hparams"]
    assert hparams["pool_mode"] == "stack" and hparams["loss_exp"] == 2.0
    assert rec["world_model"]["overrides"][:8] == stack
    model = LatentWorldModel.load(rec["training"]["pretrained_encoder"]["export"])
    assert model.pool_mode == "stack" and model.predictor.predictor_embed.in_features == 4 * 32
    other = planning.run(smoke=True, encoder=str(encoder), export=True, logdir=str(tmp_path / "seed1"),
                         threads=torch.get_num_threads(), tasks=(), encoders=("pretrained",), overrides=stack,
                         train_seed=1)
    assert other["world_model"]["train_seed"] == 1 and other["planning"] == {}
    seeded = LatentWorldModel.load(other["training"]["pretrained_encoder"]["export"])
    w0, w1 = (m.predictor.predictor_embed.weight for m in (model, seeded))
    assert not torch.equal(w0, w1)  # another initialisation and batch order ...
    assert all(torch.equal(x, y) for x, y in zip(model.encoder.state_dict().values(),
                                                 seeded.encoder.state_dict().values()))  # ... on the same encoder


def test_bad_arguments_are_refused_before_training(encoder):
    with pytest.raises(ValueError, match="encoders must be"):
        planning.run(smoke=True, encoder=str(encoder), encoders=("toy",))
    with pytest.raises(ValueError, match="needs an encoder"):
        planning.run(smoke=True)
    with pytest.raises(ValueError, match="coarse_sigmas and coarse_until"):
        planning.run(smoke=True, encoder=str(encoder), coarse_until=5)
    with pytest.raises(FileNotFoundError, match="no recipe 'toy/ac-nowhere'"):
        planning.run(smoke=True, encoder=str(encoder), recipe="toy/ac-nowhere")


def test_coarse_to_fine_energy(tmp_path, encoder, record_instances):
    built = record_instances(planning, "LatentPlanner")
    rec = planning.run(smoke=True, encoder=str(encoder), logdir=str(tmp_path / "runs"),
                       threads=torch.get_num_threads(), tasks=("reach",), encoders=("pretrained",),
                       blur_sigmas=(0, 1), coarse_sigmas=(2,), coarse_until=2)
    assert [(p.coarse_sigmas, p.coarse_until, p.blur_sigmas) for p in built] == [((2.0,), 2, (0.0, 1.0))]
    assert [built[0].sigmas_at(step) for step in range(3)] == [(2.0,), (2.0,), (0.0, 1.0)]  # smoke budget: 3
    assert rec["protocol"]["coarse_blur_sigmas"] == [2.0] and rec["protocol"]["coarse_until"] == 2
    assert "instead for plans made before env step 2" in rec["protocol"]["energy"]
    assert rec["world_model"]["encoder_sha256"] == hashlib.sha256(encoder.read_bytes()).hexdigest()
