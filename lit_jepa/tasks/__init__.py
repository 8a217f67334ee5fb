"""LightningModules, one per task family; each ``training_step`` reads like the paper's equation."""

from lit_jepa.tasks.pretrain import JepaPretrain

__all__ = ["JepaPretrain"]
