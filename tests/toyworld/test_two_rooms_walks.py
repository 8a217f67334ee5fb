"""Two-Rooms' batched dynamics and rendering, and EB-JEPA's random-walk training data."""

from __future__ import annotations

import numpy as np
import pytest

from lit_jepa.data.toyworld.two_rooms import DOOR_HALF, DOT_STD, MAX_STEP, TwoRooms, blocked, move, render
from lit_jepa.data.toyworld.two_rooms_walks import TwoRoomsWalkData, random_walks, walk_batch


def test_batched_move_and_render_are_the_env_s_own():
    envs = [TwoRooms() for _ in range(6)]
    for k, env in enumerate(envs):
        env.reset(seed=k)
    rng = np.random.default_rng(0)
    layouts = np.array([e.wall_x for e in envs], float), np.array([e.door_y for e in envs], float)
    for _ in range(40):
        actions = rng.uniform(-3, 3, (6, 2)) * (rng.random((6, 2)) < 0.8)
        start = np.stack([e.position for e in envs])
        moved = move(start, actions, *layouts)
        for e, a in zip(envs, actions):
            e.step(a)
        np.testing.assert_array_equal(moved, np.stack([e.position for e in envs]))
    np.testing.assert_array_equal(render(moved, *layouts), np.stack([e.render() for e in envs]))
    assert not blocked(moved, *layouts).any()
    # a move into the wall stops at it; one through the door passes
    wall, door = np.array([32.0]), np.array([30.0])
    assert move(np.array([[28.0, 10.0]]), np.array([[MAX_STEP, 0.0]]), wall, door)[0, 0] < 32 - 1.5
    through = np.array([[29.0, 30.0]])
    for _ in range(4):
        through = move(through, np.array([[2.0, 0.0]]), wall, door)
    assert through[0, 0] > 34


def test_render_draws_eb_jepa_s_gaussian_dot():
    rng = np.random.default_rng(2)
    p = rng.uniform(5, 60, (64, 2))
    img = render(p, np.full(64, 30.0), np.full(64, 20.0))
    yy, xx = np.mgrid[:65, :65]
    d2 = (xx[None] - p[:, :1, None]) ** 2 + (yy[None] - p[:, 1:, None]) ** 2
    expected = np.clip(np.exp(-d2 / (2 * DOT_STD**2)) * 255.0, 0, 255).astype(np.uint8)
    assert np.abs(img[..., 0].astype(int) - expected).max() <= 1  # the separable dot: the 2-D Gaussian's pixels


def test_random_walks_follow_eb_jepa_s_policy():
    positions, actions, wall_x, door_y = random_walks(np.random.default_rng(0), 512, 8, cross=0.35)
    assert positions.shape == (512, 9, 2) and actions.shape == (512, 8, 2) and wall_x.shape == door_y.shape == (512,)
    steps = np.linalg.norm(actions, axis=-1)
    assert steps.min() >= 0.2 - 1e-9 and steps.max() <= 1.8 + 1e-9 and abs(steps.mean() - 1.0) < 0.05
    for k in range(9):
        assert not blocked(positions[:, k], wall_x, door_y).any()
    side = np.sign(positions[..., 0] - wall_x[:, None])
    crossed = (side[:, 0] != side[:, -1]).mean()
    assert 0.15 < crossed < 0.5  # the door-crossing walks (35 % start through the door; some turn back)
    assert (np.abs(positions[side[:, 0] != side[:, -1], :, 1] - door_y[side[:, 0] != side[:, -1], None]).min(1)
            <= DOOR_HALF + 1e-9).all()
    p0, *_ = random_walks(np.random.default_rng(1), 256, 8, cross=0.0)
    assert np.array_equal(p0, random_walks(np.random.default_rng(1), 256, 8, cross=0.0)[0])  # seeded


def test_walk_batches_render_their_positions_and_the_data_module_serves_them():
    batch = walk_batch(np.random.default_rng(0), 4, 3)
    frames, positions = batch["frames"].numpy(), batch["positions"].numpy()
    assert frames.shape == (4, 4, 65, 65, 3) and frames.dtype == np.uint8
    brightest = np.stack(np.unravel_index(frames[..., 0].reshape(16, -1).argmax(1), (65, 65)), -1)[:, ::-1]
    assert np.abs(brightest - positions.reshape(16, 2)).max() <= 0.5 + 1e-6  # the dot sits at its position
    data = TwoRoomsWalkData(batch_size=4, length=3, val_batches=2)
    train = iter(data.train_dataloader())
    a, b = next(train), next(train)
    assert a["frames"].shape == (4, 4, 65, 65, 3) and a["actions"].shape == (4, 3, 2)
    assert not np.array_equal(a["actions"], b["actions"])  # fresh walks
    val1, val2 = list(data.val_dataloader()), list(data.val_dataloader())
    assert len(val1) == 2 and all(np.array_equal(x["actions"], y["actions"]) for x, y in zip(val1, val2))
    with pytest.raises(ValueError, match="cross"):
        TwoRoomsWalkData(cross=1.5)


def test_frameskip_walks_hold_each_action_over_frame_step_env_steps():
    rng = np.random.default_rng(3)
    positions, actions, wall_x, door_y = random_walks(rng, 64, 4, cross=0.35, frame_step=5)
    assert positions.shape == (64, 5, 2) and actions.shape == (64, 4, 2)
    steps = np.linalg.norm(actions, axis=-1)
    assert steps.min() >= 5 * 0.2 - 1e-9 and steps.max() <= 5 * 1.8 + 1e-9  # the commanded displacement: 5 x held
    for i in range(64):  # replaying the held actions, one env step at a time, lands on the recorded positions
        pos = positions[i, :1]
        for k in range(4):
            for _ in range(5):
                pos = move(pos, actions[i, k][None] / 5, wall_x[i:i + 1], door_y[i:i + 1])
            np.testing.assert_allclose(pos[0], positions[i, k + 1], atol=1e-9)
    with pytest.raises(ValueError, match="frame_step"):
        TwoRoomsWalkData(frame_step=0)


def test_push_walks_head_into_the_wall_away_from_the_door_and_it_holds_them():
    rng = np.random.default_rng(4)
    positions, actions, wall_x, door_y = random_walks(rng, 400, 3, cross=0.0, step_scale=1.5, frame_step=5, push=1.0)
    start = positions[:, 0]
    assert (np.abs(start[:, 0] - wall_x) >= 3 - 1e-9).all() and (np.abs(start[:, 0] - wall_x) <= 15 + 1e-9).all()
    assert (np.abs(start[:, 1] - door_y) >= DOOR_HALF + 3).all()  # away from the door
    toward = -np.sign(start[:, 0] - wall_x) * actions[:, 0, 0]
    assert (toward > 0).mean() > 0.95  # the first action heads into the wall
    side = np.sign(positions[:, :, 0] - wall_x[:, None])
    assert (side == side[:, :1]).all(1).mean() > 0.9  # the wall holds them (a few slide along it to the door)
    moved = np.linalg.norm(np.diff(positions, axis=1), axis=-1)
    assert (moved < 0.5 * np.linalg.norm(actions, axis=-1)).mean() > 0.3  # many steps end against the wall
    plain = random_walks(np.random.default_rng(4), 400, 3, cross=0.0, step_scale=1.5, frame_step=5)
    assert np.array_equal(plain[0], random_walks(np.random.default_rng(4), 400, 3, cross=0.0, step_scale=1.5,
                                                 frame_step=5, push=0.0)[0])  # push 0: the same walks as before
    assert not (np.abs(plain[0][:, 0, 1] - plain[3]) >= DOOR_HALF + 3).all()
    with pytest.raises(ValueError, match="push"):
        TwoRoomsWalkData(push=-0.1)
