"""Video QA and the world model take any frozen encoder of the contract, not only VisionTransformer."""

import json

import pytest
import torch

from lit_jepa.encoders import FrameEncoder, HFVideoEncoder, ModuleEncoder
from lit_jepa.nn.ac_predictor import ACPredictor
from lit_jepa.tasks import ACWorldModel, VideoQA

LM = {"build_toy_lm": True, "toy_lm_hidden": 32, "toy_lm_layers": 1, "num_queries": 2}


def test_video_qa_on_a_transformers_encoder_with_position_embeddings(tmp_path, hf_folders):
    torch.manual_seed(0)
    module = VideoQA(str(tmp_path / "lm"), encoder=HFVideoEncoder(str(hf_folders["videomae"])), pooler_pos_embed=True,
                     **LM)
    assert module.encoder.num_tokens() == 64 and not module.encoder.training
    assert not any(p.requires_grad for p in module.encoder.parameters())
    qa = [json.dumps({"question": "which way ?", "answer": "up", "choices": ["left", "up", "down"]})] * 2
    batch = {"video": torch.randn(2, 1, 3, 8, 32, 32), "qa": qa}
    preds, truth = module.eval().choose(batch)
    assert len(preds) == 2 and truth == [1, 1]
    assert torch.isfinite(module.train().loss(batch))


def test_video_qa_position_embeddings_need_a_token_grid(tmp_path):
    enc = ModuleEncoder("tests.encoders.tiny_models.TinyClipEncoder", img_size=32, num_frames=8)
    with pytest.raises(ValueError, match="needs an encoder with a token grid"):
        VideoQA(str(tmp_path / "lm"), encoder=enc, pooler_pos_embed=True, **LM)


def test_world_model_on_a_per_frame_image_encoder(tmp_path):
    torch.manual_seed(0)
    enc = FrameEncoder("tests.encoders.tiny_models.TinyImageViT", {"dim": 16}, img_size=16, num_frames=1)
    pred = ACPredictor(img_size=16, patch_size=8, embed_dim=16, predictor_embed_dim=16, depth=1, num_heads=2)
    model = ACWorldModel(enc, pred)
    tokens = model.encode(torch.randint(0, 255, (3, 16, 16, 3), dtype=torch.uint8))
    assert tokens.shape == (3, 4, 16)
    checkpoint = {}
    model.on_save_checkpoint(checkpoint)
    assert checkpoint["lit_jepa"]["encoder_adapter"]["class"] == "lit_jepa.encoders.module.FrameEncoder"
    too_coarse = ACPredictor(img_size=32, patch_size=8, embed_dim=16, predictor_embed_dim=16, depth=1, num_heads=2)
    with pytest.raises(ValueError, match="encoder grid 2 at img_size 16"):
        ACWorldModel(enc, too_coarse)
