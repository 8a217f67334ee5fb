"""Encoders built by any importable callable: clip models (:class:`ModuleEncoder`) and image models applied per
frame (:class:`FrameEncoder`, :class:`TimmFrameEncoder`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from lit_jepa.nn.encoder import IMAGENET_MEAN, IMAGENET_STD, FrozenEncoder
from lit_jepa.objects import load_object


def import_callable(target: str) -> Any:
    """The callable named by a dotted path (``package.module.Name``) or ``module:attr``."""
    obj = load_object(target)
    if not callable(obj):
        raise ValueError(f"{target!r} is not callable (got {type(obj).__name__})")
    return obj


def read_state_dict(path: str | Path) -> dict[str, Tensor]:
    """Tensors of a ``.safetensors`` file or a ``torch.save``'d state dict (read with ``weights_only=True``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"encoder weights not found: {path}")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    sd = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(sd, dict) or not all(isinstance(v, Tensor) for v in sd.values()):
        raise ValueError(f"{path}: expected a state dict (names -> tensors), found {type(sd).__name__}")
    return sd


class ModuleEncoder(FrozenEncoder):
    """A clip model ``target(**kwargs)`` that maps ``(B, C, T, H, W)`` to tokens ``(B, N, D)``.

    The shape arguments have names of their own (not ``embed_dim``, ``patch_size``, ``tubelet_size``), so that a
    recipe written for ``VisionTransformer`` does not pass its values on when the encoder class is switched on the
    command line; ``img_size`` and ``num_frames`` do carry over, as they follow the data.

    Args:
        target: dotted path of a class or factory (``my_package.models.MyEncoder``).
        kwargs: keyword arguments of ``target``.
        checkpoint: a state dict (``.safetensors`` or ``.pt``) loaded strictly; ``None``: the module as built.
        width: token width (default: the module's ``embed_dim`` or ``num_features`` attribute).
        img_size: expected frame size.
        num_frames: expected frames per clip.
        frames_per_token: frames per token step, for the token grid.
        pixels_per_token: pixels per token side, for the token grid (``None``: tokens without a grid).
        mean: normalisation mean the module expects (clips are re-normalised from ImageNet statistics).
        std: normalisation standard deviation the module expects.
    """

    def __init__(self, target: str, kwargs: dict[str, Any] | None = None, checkpoint: str | None = None,
                 width: int | None = None, img_size: int = 224, num_frames: int = 16, frames_per_token: int = 1,
                 pixels_per_token: int | None = None, mean: tuple[float, float, float] = IMAGENET_MEAN,
                 std: tuple[float, float, float] = IMAGENET_STD) -> None:
        super().__init__()
        self.target, self.kwargs, self.checkpoint = target, dict(kwargs or {}), checkpoint
        self.model = self.build()
        if checkpoint is not None:
            try:
                self.model.load_state_dict(read_state_dict(checkpoint), strict=True)
            except RuntimeError as err:  # missing, unexpected or differently shaped tensors
                raise ValueError(f"{checkpoint}: the weights do not fit {target}: {err}") from err
        width = width or getattr(self.model, "embed_dim", None) or getattr(self.model, "num_features", None)
        if not isinstance(width, int):
            raise ValueError(f"{type(self).__name__}({target}): set width (the module has no integer embed_dim or "
                             "num_features attribute)")
        self.embed_dim, self.img_size, self.num_frames = width, img_size, num_frames
        self.tubelet_size, self.patch_size = frames_per_token, pixels_per_token
        self.mean, self.std = tuple(mean), tuple(std)

    def build(self) -> nn.Module:
        """The wrapped module, ``target(**kwargs)``."""
        module = import_callable(self.target)(**self.kwargs)
        if not isinstance(module, nn.Module):
            raise ValueError(f"{self.target}(**{self.kwargs}) returned {type(module).__name__}, not an nn.Module")
        return module

    def config(self) -> dict[str, Any]:
        return {"target": self.target, "kwargs": self.kwargs, "img_size": self.img_size,
                "num_frames": self.num_frames, "mean": self.mean, "std": self.std}

    def token_grid(self, num_frames: int, height: int, width: int) -> tuple[int, int, int] | None:
        if self.patch_size is None:
            return None
        return num_frames // self.tubelet_size, height // self.patch_size, width // self.patch_size

    def forward(self, x: Tensor, out_layers: list[int] | None = None) -> Tensor | list[Tensor]:
        if out_layers is not None:
            raise ValueError(f"{type(self).__name__}({self.target}) has no intermediate layers to return")
        return self.model(self.from_imagenet(x))


class FrameEncoder(ModuleEncoder):
    """An image model applied to every frame; the tokens of all frames are concatenated in time order.

    The image model follows timm's interface: ``num_features`` (the width), ``patch_embed.patch_size``,
    ``forward_features(images)`` returning ``(B, P, D)`` tokens of which the first ``num_prefix_tokens`` (class
    and register tokens, default 0) are dropped; with ``out_layers``,
    ``forward_intermediates(images, indices=..., output_fmt="NLC", intermediates_only=True)`` gives the listed
    blocks' tokens. A :class:`~lit_jepa.nn.FrozenEncoder` (``target="lit_jepa.hub.load_encoder"``: a V-JEPA 2
    encoder) encodes each frame with its ``encode_images`` instead.

    Args:
        target: dotted path of the image model's class or factory.
        kwargs: keyword arguments of ``target``.
        checkpoint: a state dict (``.safetensors`` or ``.pt``) loaded strictly; ``None``: the model as built.
        img_size: expected frame size.
        num_frames: expected frames per clip.
        mean: normalisation mean the model expects (clips are re-normalised from ImageNet statistics).
        std: normalisation standard deviation the model expects.
    """

    def __init__(self, target: str, kwargs: dict[str, Any] | None = None, checkpoint: str | None = None,
                 img_size: int = 224, num_frames: int = 16, mean: tuple[float, float, float] = IMAGENET_MEAN,
                 std: tuple[float, float, float] = IMAGENET_STD) -> None:
        super().__init__(target, kwargs, checkpoint, None, img_size, num_frames, 1, None, mean, std)
        size = getattr(getattr(self.model, "patch_embed", None), "patch_size", None)
        self.patch_size = size[0] if isinstance(size, tuple | list) else size
        if not hasattr(self.model, "forward_features") and not isinstance(self.model, FrozenEncoder):
            raise ValueError(f"{type(self).__name__}: {self.target} has no forward_features (timm interface)")

    def forward(self, x: Tensor, out_layers: list[int] | None = None) -> Tensor | list[Tensor]:
        b, t = x.shape[0], x.shape[2]
        frames = self.from_imagenet(x).transpose(1, 2).flatten(0, 1)  # (B * T, C, H, W), frame-major per clip
        if isinstance(self.model, FrozenEncoder):
            if out_layers is not None:
                raise ValueError(f"{type(self).__name__}({self.target}): out_layers needs a timm image model")
            return self.model.encode_images(frames).unflatten(0, (b, t)).flatten(1, 2)
        if out_layers is None:
            tokens = self.model.forward_features(frames)[:, getattr(self.model, "num_prefix_tokens", 0):]
            return tokens.unflatten(0, (b, t)).flatten(1, 2)
        outs = self.model.forward_intermediates(frames, indices=list(out_layers), output_fmt="NLC",
                                                intermediates_only=True)
        return [o.unflatten(0, (b, t)).flatten(1, 2) for o in outs]


class TimmFrameEncoder(FrameEncoder):
    """A ``timm`` image model applied per frame: ``timm.create_model(model_name, pretrained=True,
    pretrained_cfg_overlay={"file": checkpoint}, num_classes=0, **kwargs)``, so the weights come from a local file,
    never the network (``pip install lit-jepa[timm]``; timm imports torchvision, which must match your torch).

    Args:
        model_name: a timm architecture (``vit_small_patch16_224``, ...).
        checkpoint: local weights file for timm's loader; ``None``: random initialisation (the random twin).
        kwargs: further ``timm.create_model`` arguments (``img_size``, ...).
        img_size: expected frame size.
        num_frames: expected frames per clip.
        mean: normalisation mean (default: ImageNet; set the model's ``pretrained_cfg`` mean if it differs).
        std: normalisation standard deviation.
    """

    def __init__(self, model_name: str, checkpoint: str | None = None, kwargs: dict[str, Any] | None = None,
                 img_size: int = 224, num_frames: int = 16, mean: tuple[float, float, float] = IMAGENET_MEAN,
                 std: tuple[float, float, float] = IMAGENET_STD) -> None:
        if checkpoint is not None and not Path(checkpoint).is_file():
            raise FileNotFoundError(f"TimmFrameEncoder({model_name}): weights file not found: {checkpoint}")
        timm_kwargs = {"num_classes": 0, **(kwargs or {}), "model_name": model_name}
        if checkpoint is not None:
            timm_kwargs.update(pretrained=True, pretrained_cfg_overlay={"file": str(checkpoint)})
        super().__init__("timm.create_model", timm_kwargs, None, img_size, num_frames, mean, std)
        self.model_name, self.checkpoint = model_name, checkpoint
