"""Spatial transforms: a CPU path inside the dataset (uint8 in, uint8 out) and a batch path run on the device in
``on_after_batch_transfer`` (uint8 in, float normalised out, optional kornia augmentation).

CPU clip transforms take one clip ``(C, T, H, W)`` uint8, the number of spatial views and a numpy generator, and
return that many uint8 views of equal size. One random choice covers all frames of a view (no per-frame jitter).

* :class:`RandomResizedCrop`: training crop, area ``scale`` and log-uniform aspect ``ratio`` (recipe defaults are
  the pretraining ones, 0.3-1.0 and 0.75-1.35; probes use 0.08-1.0 and 0.75-4/3), optional :class:`RandAugment`.
* :class:`ShortSideResize`: evaluation; resize the short side, then 1 centre crop or several crops evenly spaced
  along the long side (3 views: start ``i * (L - size) // 2``, as the official ``EvalVideoTransform``).

:class:`BatchTransform` turns ``(B, V, C, T, H, W)`` uint8 into normalised float, and when training can apply the
kornia GPU path (``VideoSequential(RandomResizedCrop, data_format="BCTHW", same_on_frame=True)``), RandAugment
and random erasing (pixel mode, one box per clip, after normalisation as in the official code).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lit_jepa.nn.encoder import IMAGENET_MEAN, IMAGENET_STD


def _resize(frames: Tensor, size: tuple[int, int]) -> Tensor:
    """Bilinear resize of float ``(N, C, H, W)`` (antialiased when shrinking)."""
    shrink = size[0] < frames.shape[-2] or size[1] < frames.shape[-1]
    return F.interpolate(frames, size=size, mode="bilinear", align_corners=False, antialias=shrink)


def _to_uint8(x: Tensor) -> Tensor:
    return x.round_().clamp_(0, 255).to(torch.uint8)


class ClipTransform(ABC):
    """A CPU clip transform: uint8 ``(C, T, H, W)`` -> ``num_views`` uint8 views of equal shape."""

    @abstractmethod
    def __call__(self, clip: Tensor, num_views: int, rng: np.random.Generator | None) -> list[Tensor]: ...


class RandAugment:
    """RandAugment-style colour and geometry ops (timm ``rand-m{magnitude}-n{num_ops}-mstd{magnitude_std}``),
    one draw per clip applied identically to every frame of float ``(T, C, H, W)`` in ``[0, 1]``.

    Args:
        num_ops: ops applied per clip.
        magnitude: mean strength of each op (timm's scale, 0 to 10).
        magnitude_std: standard deviation of the strength drawn per op.
    """

    OPS = ("identity", "autocontrast", "equalize", "rotate", "solarize", "color", "posterize", "contrast",
           "brightness", "sharpness", "shear_x", "shear_y", "translate_x", "translate_y")

    def __init__(self, num_ops: int = 4, magnitude: float = 7.0, magnitude_std: float = 0.5) -> None:
        self.num_ops, self.magnitude, self.magnitude_std = num_ops, magnitude, magnitude_std

    def __call__(self, x: Tensor, rng: np.random.Generator) -> Tensor:
        for op in rng.choice(self.OPS, size=self.num_ops):
            m = float(np.clip(rng.normal(self.magnitude, self.magnitude_std), 0, 10)) / 10
            sign = 1.0 if rng.random() < 0.5 else -1.0
            x = self._apply(str(op), x, m, sign).clamp_(0, 1)
        return x

    @staticmethod
    def _apply(op: str, x: Tensor, m: float, sign: float) -> Tensor:
        import kornia

        def blend(degenerate: Tensor, factor: float) -> Tensor:
            return degenerate + factor * (x - degenerate)

        gray = kornia.color.rgb_to_grayscale(x)
        n = x.shape[0]
        if op == "autocontrast":
            lo, hi = x.amin(dim=(0, 2, 3), keepdim=True), x.amax(dim=(0, 2, 3), keepdim=True)
            return (x - lo) / (hi - lo).clamp_min(1e-3)
        if op == "equalize":
            return kornia.enhance.equalize(x)
        if op == "solarize":
            return torch.where(x >= 1.0 - m, 1.0 - x, x)
        if op == "posterize":
            return kornia.enhance.posterize(x, int(8 - round(4 * m)))
        if op in ("color", "contrast", "brightness", "sharpness"):
            degenerate = {"color": gray.expand_as(x), "contrast": gray.mean().expand_as(x),
                          "brightness": torch.zeros_like(x), "sharpness": kornia.filters.box_blur(x, (3, 3))}[op]
            return blend(degenerate, 1.0 + sign * 0.9 * m)
        if op == "rotate":
            return kornia.geometry.transform.rotate(x, torch.full((n,), sign * 30.0 * m, device=x.device))
        if op.startswith("shear"):
            s = [sign * 0.3 * m, 0.0] if op == "shear_x" else [0.0, sign * 0.3 * m]
            return kornia.geometry.transform.shear(x, torch.tensor([s], device=x.device).expand(n, 2))
        if op.startswith("translate"):
            d = sign * 0.45 * m * (x.shape[-1] if op == "translate_x" else x.shape[-2])
            t = [d, 0.0] if op == "translate_x" else [0.0, d]
            return kornia.geometry.transform.translate(x, torch.tensor([t], device=x.device).expand(n, 2))
        return x


def random_resized_box(
    height: int, width: int, scale: tuple[float, float], ratio: tuple[float, float], rng: np.random.Generator
) -> tuple[int, int, int, int]:
    """``(top, left, h, w)`` of a random crop with area fraction in ``scale`` and log-uniform aspect in ``ratio``;
    after 10 failed tries, the centre crop with the aspect clamped to ``ratio`` (torchvision's rule)."""
    area = height * width
    for _ in range(10):
        target = area * rng.uniform(*scale)
        aspect = math.exp(rng.uniform(math.log(ratio[0]), math.log(ratio[1])))
        w, h = round(math.sqrt(target * aspect)), round(math.sqrt(target / aspect))
        if 0 < w <= width and 0 < h <= height:
            return int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1)), h, w
    aspect = width / height
    if aspect < ratio[0]:
        w, h = width, round(width / ratio[0])
    elif aspect > ratio[1]:
        h, w = height, round(height * ratio[1])
    else:
        h, w = height, width
    return (height - h) // 2, (width - w) // 2, h, w


class RandomResizedCrop(ClipTransform):
    """Training views: an independent random resized crop (then an optional horizontal flip and optional
    RandAugment) per view.

    Args:
        size: output frame size in pixels (square).
        scale: range of the crop's area as a fraction of the frame's.
        ratio: range of the crop's aspect ratio.
        rand_augment: RandAugment applied after the crop (``None``: none).
        hflip: probability of a horizontal flip (V-JEPA 2 pretraining: 0.5; the probes: 0).
    """

    def __init__(
        self,
        size: int = 224,
        scale: tuple[float, float] = (0.3, 1.0),
        ratio: tuple[float, float] = (0.75, 1.35),
        rand_augment: RandAugment | None = None,
        hflip: float = 0.0,
    ) -> None:
        self.size, self.scale, self.ratio, self.rand_augment = size, tuple(scale), tuple(ratio), rand_augment
        self.hflip = hflip

    def __call__(self, clip: Tensor, num_views: int, rng: np.random.Generator | None) -> list[Tensor]:
        if rng is None:
            raise ValueError("RandomResizedCrop is a training transform: it needs a generator (train=True)")
        frames = clip.permute(1, 0, 2, 3)  # (T, C, H, W)
        views = []
        for _ in range(num_views):
            top, left, h, w = random_resized_box(frames.shape[-2], frames.shape[-1], self.scale, self.ratio, rng)
            view = _resize(frames[..., top : top + h, left : left + w].float(), (self.size, self.size))
            if self.hflip and rng.random() < self.hflip:
                view = view.flip(-1)
            if self.rand_augment is not None:
                view = self.rand_augment(view.div_(255).clamp_(0, 1), rng).mul_(255)
            views.append(_to_uint8(view).permute(1, 0, 2, 3))
        return views


class ShortSideResize(ClipTransform):
    """Evaluation views: resize the short side, then ``num_views`` square crops evenly spaced along the long side
    (1 view: the centre crop).

    Args:
        size: size of the square crops in pixels.
        short_side: the short side after resizing (default: ``size``).
    """

    def __init__(self, size: int = 224, short_side: int | None = None) -> None:
        self.size, self.short_side = size, short_side or size

    def __call__(self, clip: Tensor, num_views: int, rng: np.random.Generator | None = None) -> list[Tensor]:
        _, _, h, w = clip.shape
        k = self.short_side / min(h, w)
        nh, nw = max(self.size, round(h * k)), max(self.size, round(w * k))
        frames = _to_uint8(_resize(clip.permute(1, 0, 2, 3).float(), (nh, nw)))
        views = []
        for i in range(num_views):
            frac = 0.5 if num_views == 1 else i / (num_views - 1)
            top = round((nh - self.size) * (frac if nh > nw else 0.5))
            left = round((nw - self.size) * (frac if nw >= nh else 0.5))
            views.append(frames[..., top : top + self.size, left : left + self.size].permute(1, 0, 2, 3))
        return views


def random_erase(x: Tensor, rng: np.random.Generator, scale=(0.02, 1 / 3), ratio=(0.3, 3.3)) -> Tensor:
    """Replace one box (same for all frames) of a normalised ``(C, T, H, W)`` clip with N(0, 1) noise, in place."""
    top, left, h, w = random_resized_box(x.shape[-2], x.shape[-1], scale, ratio, rng)
    noise = torch.from_numpy(rng.standard_normal((x.shape[0], x.shape[1], h, w)).astype(np.float32))
    x[..., top : top + h, left : left + w] = noise.to(x.device, x.dtype)
    return x


class BatchTransform(nn.Module):
    """Device-side stage: uint8 ``(B, V, C, T, H, W)`` -> float normalised ``(B, V, C, T, h, w)``.

    In training, ``crop_size`` enables the kornia random resized crop (the GPU path; the dataset then only resizes
    to a fixed load size), ``rand_augment`` runs RandAugment per clip and ``erase_prob`` applies random erasing.
    In evaluation only the conversion and normalisation run.

    Args:
        crop_size: output size of the training random resized crop (``None``: no crop on the device).
        scale: range of the crop's area as a fraction of the frame's.
        ratio: range of the crop's aspect ratio.
        rand_augment: RandAugment per training clip (``None``: none).
        erase_prob: probability of random erasing per training clip.
        seed: seed of the device-side random draws.
    """

    def __init__(
        self,
        crop_size: int | None = None,
        scale: tuple[float, float] = (0.3, 1.0),
        ratio: tuple[float, float] = (0.75, 1.35),
        rand_augment: RandAugment | None = None,
        erase_prob: float = 0.0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.crop_size, self.rand_augment, self.erase_prob = crop_size, rand_augment, erase_prob
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(3, 1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(3, 1, 1, 1), persistent=False)
        self.rng = np.random.default_rng(seed)
        self.crop = None
        if crop_size is not None:
            import kornia.augmentation as K

            rrc = K.RandomResizedCrop((crop_size, crop_size), scale=tuple(scale), ratio=tuple(ratio))
            self.crop = K.VideoSequential(rrc, data_format="BCTHW", same_on_frame=True)

    @torch.no_grad()
    def forward(self, video: Tensor, training: bool) -> Tensor:
        b, v = video.shape[:2]
        x = video.flatten(0, 1).float().div_(255)  # (B*V, C, T, H, W)
        if training and self.crop is not None:
            x = self.crop(x)
        if training and self.rand_augment is not None:
            x = torch.stack([self.rand_augment(c.transpose(0, 1), self.rng).transpose(0, 1) for c in x])
        x = (x - self.mean) / self.std
        if training and self.erase_prob > 0:
            for clip in x:
                if self.rng.random() < self.erase_prob:
                    random_erase(clip, self.rng)
        return x.unflatten(0, (b, v))
