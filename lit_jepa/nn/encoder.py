"""The frozen-encoder contract that every task (probes, feature cache, VQA, world model) depends on.

A :class:`FrozenEncoder` is an ``nn.Module`` that maps a clip ``(B, C, T, H, W)`` to tokens ``(B, N, D)`` (with
``out_layers``: a list of such token sets, one per listed block) and declares

- ``embed_dim``: the token width ``D``;
- ``img_size``, ``num_frames``: the input size it expects (square frames, frames per clip);
- ``tubelet_size``: frames per token step (1 for image encoders applied per frame);
- ``mean``, ``std``: the per-channel normalisation it was trained with. Clips reach every encoder normalised
  with the ImageNet statistics of :class:`lit_jepa.data.transforms.BatchTransform`; :meth:`from_imagenet`
  converts them to the encoder's own normalisation (adapters call it first in ``forward``);
- :meth:`token_grid`: the ``(t, h, w)`` token grid of an input size, or ``None`` when the tokens have no grid;
- :meth:`identity`: class, configuration and weights hash, the key of the feature cache (two encoders never share
  cached features).

:class:`lit_jepa.nn.VisionTransformer` implements it natively; :mod:`lit_jepa.encoders` adapts ``transformers``
video models, ``timm`` image models (per frame) and any importable module.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from typing import Any

import torch
from torch import Tensor, nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def module_sha256(module: nn.Module) -> str:
    """Digest of a module's state (names, shapes and values): the identity of a frozen encoder's weights."""
    h = hashlib.sha256()
    for name, t in module.state_dict().items():
        h.update(name.encode())
        h.update(str(tuple(t.shape)).encode())
        h.update(t.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


class FrozenEncoder(nn.Module, ABC):
    """Base class of the encoder contract (see the module docstring); subclasses set the declared attributes in
    ``__init__`` and implement ``forward(x, out_layers=None)`` and :meth:`config`."""

    embed_dim: int
    img_size: int
    num_frames: int
    tubelet_size: int = 1
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD

    @abstractmethod
    def forward(self, x: Tensor, out_layers: list[int] | None = None) -> Tensor | list[Tensor]:
        """Tokens ``(B, N, D)`` of a clip ``(B, C, T, H, W)`` (with ``out_layers``, one token set per layer)."""

    def token_grid(self, num_frames: int, height: int, width: int) -> tuple[int, int, int] | None:
        """The ``(t, h, w)`` grid of the tokens of a ``num_frames x height x width`` clip (``None``: no grid)."""
        return None

    @abstractmethod
    def config(self) -> dict[str, Any]:
        """What, besides the weights, determines the tokens (constructor arguments, model configuration)."""

    def class_path(self) -> str:
        """``module.Class`` of this encoder."""
        return f"{type(self).__module__}.{type(self).__qualname__}"

    def identity(self) -> dict[str, Any]:
        """The feature-cache key of this encoder: class, configuration and weights hash."""
        return {"class": self.class_path(), "config": self.config(), "weights": module_sha256(self)}

    def from_imagenet(self, x: Tensor) -> Tensor:
        """Re-normalise a clip normalised with the ImageNet statistics to this encoder's ``mean`` and ``std``."""
        if tuple(self.mean) == IMAGENET_MEAN and tuple(self.std) == IMAGENET_STD:
            return x
        shape = (1, -1) + (1,) * (x.ndim - 2)
        im_mean, im_std, mean, std = (torch.tensor(v, dtype=x.dtype, device=x.device).view(shape)
                                      for v in (IMAGENET_MEAN, IMAGENET_STD, self.mean, self.std))
        return (x * im_std + im_mean - mean) / std

    def num_tokens(self) -> int | None:
        """Tokens of a clip of the declared input size (``None`` when they have no grid)."""
        grid = self.token_grid(self.num_frames, self.img_size, self.img_size)
        return None if grid is None else grid[0] * grid[1] * grid[2]

    def encode_images(self, images: Tensor) -> Tensor:
        """Tokens of an image batch ``(B, C, H, W)``: each image repeated over one tubelet."""
        return self(images.unsqueeze(2).expand(-1, -1, self.tubelet_size, -1, -1))
