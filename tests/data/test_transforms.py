"""CPU clip transforms and the device-side batch stage."""

from __future__ import annotations

import numpy as np
import torch

from lit_jepa.data.transforms import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    BatchTransform,
    RandAugment,
    RandomResizedCrop,
    ShortSideResize,
    random_resized_box,
)


def _ramp_clip(t=4, h=30, w=60):
    """uint8 (3, T, H, W) whose value grows along the width: crops are told apart by their mean."""
    x = torch.linspace(0, 255, w).round().to(torch.uint8)
    return x.expand(3, t, h, w).clone()


def test_eval_three_views_spaced_along_the_long_side():
    views = ShortSideResize(size=20)(_ramp_clip(), 3, None)  # short side 30 -> 20, long side 60 -> 40
    assert [tuple(v.shape) for v in views] == [(3, 4, 20, 20)] * 3 and views[0].dtype == torch.uint8
    means = [v.float().mean().item() for v in views]
    assert means[0] < means[1] < means[2]  # left, centre, right crops
    centre = ShortSideResize(size=20)(_ramp_clip(), 1, None)[0]
    assert torch.equal(centre, views[1])


def test_random_resized_crop_ranges_and_shared_box_across_frames():
    rng = np.random.default_rng(0)
    for _ in range(200):
        top, left, h, w = random_resized_box(100, 150, (0.3, 1.0), (0.75, 1.35), rng)
        assert 0.3 * 15000 * 0.95 <= h * w <= 15000 and 0.75 * 0.95 <= w / h <= 1.35 * 1.05
        assert top >= 0 and left >= 0 and top + h <= 100 and left + w <= 150
    clip = _ramp_clip()
    views = RandomResizedCrop(16)(clip, 2, np.random.default_rng(1))
    assert [tuple(v.shape) for v in views] == [(3, 4, 16, 16)] * 2
    assert all(torch.equal(v[:, 0], v[:, t]) for v in views for t in range(4))  # one box for all frames
    assert not torch.equal(views[0], views[1])  # independent boxes per view


def test_rand_augment_same_op_on_every_frame():
    clip = torch.rand(1, 3, 24, 24).expand(4, 3, 24, 24).clone()  # 4 identical frames
    out = RandAugment(num_ops=4, magnitude=9)(clip, np.random.default_rng(3))
    assert out.shape == clip.shape and 0 <= out.min() and out.max() <= 1
    assert all(torch.allclose(out[0], out[t]) for t in range(4)) and not torch.allclose(out, clip)
    views = RandomResizedCrop(16, rand_augment=RandAugment())(_ramp_clip(), 1, np.random.default_rng(2))
    assert views[0].dtype == torch.uint8


def test_batch_transform_normalises_and_augments():
    video = torch.full((2, 3, 3, 4, 20, 20), 128, dtype=torch.uint8)  # (B, V, C, T, H, W)
    out = BatchTransform()(video, training=True)
    expected = (128 / 255 - torch.tensor(IMAGENET_MEAN)) / torch.tensor(IMAGENET_STD)
    assert out.dtype == torch.float32 and out.shape == video.shape
    assert torch.allclose(out[1, 2, :, 3, 5, 5], expected)
    gpu_path = BatchTransform(crop_size=16, erase_prob=1.0)
    clip = _ramp_clip(h=20, w=20)[None, None].repeat(2, 1, 1, 1, 1, 1)
    aug = gpu_path(clip, training=True)
    assert aug.shape == (2, 1, 3, 4, 16, 16)
    assert gpu_path(clip, training=False).shape == clip.shape  # evaluation: no crop, no erasing
    plain = BatchTransform(crop_size=16)(clip, training=True)
    assert torch.allclose(plain[0, 0, :, 0], plain[0, 0, :, 3])  # kornia crop identical on every frame


def test_horizontal_flip_mirrors_the_crop():
    clip = _ramp_clip()  # values grow along the width
    crop = {"scale": (1.0, 1.0), "ratio": (2.0, 2.0)}
    flipped = RandomResizedCrop(16, hflip=1.0, **crop)(clip, 1, np.random.default_rng(0))[0]
    kept = RandomResizedCrop(16, **crop)(clip, 1, np.random.default_rng(0))[0]
    assert torch.equal(flipped, kept.flip(-1))
    assert flipped[..., 0].float().mean() > flipped[..., -1].float().mean()
