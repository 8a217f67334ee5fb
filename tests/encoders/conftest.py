from pathlib import Path

import pytest
import torch


@pytest.fixture(scope="session")
def hf_folders(tmp_path_factory) -> dict[str, Path]:
    """Tiny random-initialised ``transformers`` VJEPA2 and VideoMAE models (32 px, 8 frames) saved with
    ``save_pretrained``."""
    from transformers import VideoMAEConfig, VideoMAEModel, VJEPA2Config, VJEPA2Model

    root = tmp_path_factory.mktemp("hf")
    torch.manual_seed(0)
    vjepa2 = VJEPA2Model(VJEPA2Config(crop_size=32, frames_per_clip=8, patch_size=8, tubelet_size=2, hidden_size=32,
                                      num_attention_heads=2, num_hidden_layers=2, pred_hidden_size=16,
                                      pred_num_attention_heads=2, pred_num_hidden_layers=1))
    videomae = VideoMAEModel(VideoMAEConfig(image_size=32, patch_size=8, num_frames=8, tubelet_size=2, hidden_size=32,
                                            num_hidden_layers=1, num_attention_heads=2, intermediate_size=64))
    folders = {"vjepa2": root / "vjepa2", "videomae": root / "videomae"}
    vjepa2.save_pretrained(folders["vjepa2"])
    videomae.save_pretrained(folders["videomae"])
    return folders
