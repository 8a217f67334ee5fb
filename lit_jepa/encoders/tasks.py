"""What the task modules need from any frozen encoder: building it from a recipe, and checkpoint metadata."""

from __future__ import annotations

from typing import Any

from lit_jepa import hub
from lit_jepa.nn import FrozenEncoder, VisionTransformer


def task_encoder(path: str | None, encoder: FrozenEncoder | None, key: str, owner: str,
                 trust_checkpoint: bool = False) -> FrozenEncoder:
    """The encoder a task runs: a V-JEPA 2 checkpoint ``path`` (any file ``lit_jepa.hub`` reads) loaded into the
    ``VisionTransformer`` ``encoder`` (or the architecture it describes), else ``encoder`` as built (an adapter
    loads its own weights; a bare ``VisionTransformer`` is randomly initialised).

    Args:
        path: V-JEPA 2 checkpoint, or ``None``.
        encoder: the encoder the recipe builds, or ``None`` (then ``path`` decides the architecture).
        key: which encoder of a training checkpoint (``target_encoder`` or ``encoder``).
        owner: the task and argument names for error messages.
        trust_checkpoint: allow a pickled ``path`` to run code (see :func:`lit_jepa.hub.read_checkpoint`).
    """
    if path is not None and encoder is not None and not isinstance(encoder, VisionTransformer):
        raise ValueError(f"{owner}: encoder_ckpt={path!r} holds V-JEPA 2 weights for a VisionTransformer, but the "
                         f"encoder is a {type(encoder).__name__}, which loads its own weights; set encoder_ckpt "
                         "to null")
    return hub.load_or_build(path, encoder, "encoder", key, owner, trust_checkpoint)


def encoder_metadata(encoder: FrozenEncoder) -> dict[str, Any]:
    """The ``lit_jepa`` checkpoint entry of a task's encoder: ``{"encoder": constructor arguments}`` for a
    ``VisionTransformer`` (``hub.load_encoder`` rebuilds it), ``{"encoder_adapter": class and config}`` for any
    other encoder (its weights are in the state dict; the recipe rebuilds it)."""
    if isinstance(encoder, VisionTransformer):
        return {"encoder": hub.encoder_config(encoder)}
    return {"encoder_adapter": {"class": encoder.class_path(), "config": encoder.config()}}
