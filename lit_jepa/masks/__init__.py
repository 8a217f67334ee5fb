"""Multi-block 3D masks for JEPA pretraining: the generator and the collate function that batches them."""

from lit_jepa.masks.collate import MaskCollator
from lit_jepa.masks.multiblock import LONG_RANGE, SHORT_RANGE, VJEPA2_MASKS, MaskSpec, MultiBlockMaskGenerator

__all__ = ["LONG_RANGE", "SHORT_RANGE", "VJEPA2_MASKS", "MaskCollator", "MaskSpec", "MultiBlockMaskGenerator"]
