"""Adapters that put other people's encoders behind the frozen-encoder contract (:mod:`lit_jepa.nn.encoder`).

- :class:`HFVideoEncoder`: a ``transformers`` video model folder through ``AutoModel`` (VJEPA2, VideoMAE, ...).
- :class:`FrameEncoder`: an image model (``timm`` interface: ``forward_features``) applied to every frame.
- :class:`TimmFrameEncoder`: a ``timm`` image model by name, weights from a local file, applied per frame.
- :class:`ModuleEncoder`: any importable callable that builds a module mapping clips to tokens.
- :class:`PixelTubelets`: the pixel baseline (raw tubelet pixels as tokens, nothing learned).

Each one is a :class:`~lit_jepa.nn.FrozenEncoder`, so ``--model.init_args.encoder`` takes it by class path or
short name (``--model.init_args.encoder HFVideoEncoder --model.init_args.encoder.path FOLDER``).
"""

from lit_jepa.encoders.hf import HFVideoEncoder
from lit_jepa.encoders.module import FrameEncoder, ModuleEncoder, TimmFrameEncoder, read_state_dict
from lit_jepa.encoders.pixels import PixelTubelets
from lit_jepa.encoders.tasks import encoder_metadata, task_encoder

__all__ = ["FrameEncoder", "HFVideoEncoder", "ModuleEncoder", "PixelTubelets", "TimmFrameEncoder", "encoder_metadata",
           "read_state_dict", "task_encoder"]
