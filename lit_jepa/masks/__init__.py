"""Multi-block 3D masks for JEPA pretraining (the DataLoader collate function that batches them is
``lit_jepa.data.masking.MaskCollator``)."""

from lit_jepa.masks.multiblock import (
    LONG_RANGE,
    SHORT_RANGE,
    VJEPA2_MASKS,
    MaskSpec,
    MultiBlockMaskGenerator,
    context_weights,
)

__all__ = ["LONG_RANGE", "SHORT_RANGE", "VJEPA2_MASKS", "MaskSpec", "MultiBlockMaskGenerator", "context_weights"]
