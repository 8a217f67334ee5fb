"""Plain ``torch.nn`` models of V-JEPA 2: encoder, predictor, AC predictor, attentive probes; and the small end-to-end
recurrent world model (EB-JEPA's)."""

from lit_jepa.nn.ac_predictor import ACPredictor, block_causal_mask
from lit_jepa.nn.encoder import FrozenEncoder, module_sha256
from lit_jepa.nn.predictor import VisionTransformerPredictor
from lit_jepa.nn.probe import AnticipationClassifier, AttentiveClassifier, AttentivePooler
from lit_jepa.nn.recurrent import RecurrentWorldModel
from lit_jepa.nn.rope import apply_rope, rope_tables
from lit_jepa.nn.vit import (
    VIT_ARCHS,
    VisionTransformer,
    build_vit,
    vit_base,
    vit_giant,
    vit_huge,
    vit_large,
    vit_small,
    vit_tiny,
)

__all__ = [
    "ACPredictor", "AnticipationClassifier", "AttentiveClassifier", "AttentivePooler", "FrozenEncoder", "VIT_ARCHS",
    "RecurrentWorldModel", "VisionTransformer", "VisionTransformerPredictor", "apply_rope", "block_causal_mask",
    "build_vit", "module_sha256", "rope_tables", "vit_base", "vit_giant", "vit_huge", "vit_large", "vit_small",
    "vit_tiny",
]
