"""LightningModules, one per task family; each ``training_step`` reads like the paper's equation."""

from lit_jepa.tasks.pretrain import JepaPretrain
from lit_jepa.tasks.probe import AttentiveProbe
from lit_jepa.tasks.recurrent_world_model import RecurrentWorldModelTask
from lit_jepa.tasks.video_qa import VideoQA
from lit_jepa.tasks.world_model import ACWorldModel

__all__ = ["ACWorldModel", "AttentiveProbe", "JepaPretrain", "RecurrentWorldModelTask", "VideoQA"]
