"""``transformers`` video models (VJEPA2, VideoMAE, TimeSformer, ViViT, ...) behind the frozen-encoder contract."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from lit_jepa.nn.encoder import IMAGENET_MEAN, IMAGENET_STD, FrozenEncoder
from lit_jepa.progress import transformers_bars_in_terminals_only

# config keys that describe the checkout or the library, not the model
VOLATILE_KEYS = ("_name_or_path", "transformers_version", "_commit_hash", "dtype", "torch_dtype")


def _first(cfg: Any, names: tuple[str, ...], default: Any = None) -> Any:
    for name in names:
        value = getattr(cfg, name, None)
        if value is not None:
            return value
    return default


class HFVideoEncoder(FrozenEncoder):
    """A local ``transformers`` folder (``save_pretrained``: ``config.json`` + weights) loaded with
    ``AutoModel.from_pretrained(path, local_files_only=True)``; clips go in as ``(B, T, C, H, W)``
    (``pixel_values_videos`` or ``pixel_values``, whichever the model's ``forward`` takes), tokens come out as its
    ``last_hidden_state`` (VJEPA2: the encoder only, the predictor is skipped). ``out_layers`` returns
    ``hidden_states[i + 1]``, the output of block ``i`` as the model reports it.

    Args:
        path: the ``save_pretrained`` folder.
        random_init: build the architecture of ``path``'s config with fresh random weights (the random twin).
        img_size: expected frame size (default: the config's ``crop_size`` or ``image_size``).
        num_frames: expected frames per clip (default: the config's ``frames_per_clip`` or ``num_frames``).
        mean: normalisation mean the model expects (clips are re-normalised from ImageNet statistics).
        std: normalisation standard deviation the model expects.
    """

    def __init__(self, path: str, random_init: bool = False, img_size: int | None = None,
                 num_frames: int | None = None, mean: tuple[float, float, float] = IMAGENET_MEAN,
                 std: tuple[float, float, float] = IMAGENET_STD) -> None:
        super().__init__()
        from transformers import AutoConfig, AutoModel

        folder = Path(path)
        if not (folder / "config.json").is_file():
            raise FileNotFoundError(f"HFVideoEncoder: {folder} is not a transformers folder (no config.json)")
        self.path, self.random_init = str(path), random_init
        if random_init:
            self.model = AutoModel.from_config(AutoConfig.from_pretrained(folder, local_files_only=True))
        else:
            with torch.random.fork_rng(devices=[]), transformers_bars_in_terminals_only():
                # loading must not shift the random state of the probe heads
                self.model = AutoModel.from_pretrained(folder, local_files_only=True)
        cfg = self.model.config
        self.embed_dim = int(_first(cfg, ("hidden_size",)))
        self.img_size = int(img_size or _first(cfg, ("crop_size", "image_size"), 224))
        self.num_frames = int(num_frames or _first(cfg, ("frames_per_clip", "num_frames"), 16))
        tubelet = _first(cfg, ("tubelet_size",), 1)
        self.tubelet_size = int(tubelet[0] if isinstance(tubelet, list | tuple) else tubelet)
        patch = _first(cfg, ("patch_size",))
        self.patch_size = patch if isinstance(patch, int) else None
        self.mean, self.std = tuple(mean), tuple(std)
        params = inspect.signature(self.model.forward).parameters
        self.input_name = "pixel_values_videos" if "pixel_values_videos" in params else "pixel_values"
        self.extra_inputs = {"skip_predictor": True} if "skip_predictor" in params else {}

    def config(self) -> dict[str, Any]:
        model_cfg = {k: v for k, v in self.model.config.to_dict().items() if k not in VOLATILE_KEYS}
        return {"model": model_cfg, "img_size": self.img_size, "num_frames": self.num_frames, "mean": self.mean,
                "std": self.std}

    def token_grid(self, num_frames: int, height: int, width: int) -> tuple[int, int, int] | None:
        """VJEPA2 and VideoMAE tokens tile the clip; models with a class token (TimeSformer, ViViT) have none."""
        if self.patch_size is None or self.model.config.model_type not in ("vjepa2", "videomae"):
            return None
        return num_frames // self.tubelet_size, height // self.patch_size, width // self.patch_size

    def forward(self, x: Tensor, out_layers: list[int] | None = None) -> Tensor | list[Tensor]:
        inputs = {self.input_name: self.from_imagenet(x).transpose(1, 2), **self.extra_inputs}
        out = self.model(**inputs, output_hidden_states=out_layers is not None)
        if out_layers is None:
            return out.last_hidden_state
        return [out.hidden_states[i + 1] for i in out_layers]
