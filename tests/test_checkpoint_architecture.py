"""A checkpoint's recorded architecture wins or fails loudly where a recipe's module receives its tensors."""

from __future__ import annotations

import pytest
import torch

from lit_jepa import hub
from lit_jepa.nn import VisionTransformer, VisionTransformerPredictor
from lit_jepa.nn.ac_predictor import ACPredictor
from lit_jepa.tasks import AttentiveProbe, JepaPretrain
from lit_jepa.tasks.world_model import ACWorldModel


def vit(heads: int = 6, depth: int = 1, width: int = 48, img: int = 32) -> VisionTransformer:
    torch.manual_seed(0)
    return VisionTransformer(img_size=img, num_frames=2, patch_size=16, embed_dim=width, depth=depth, num_heads=heads)


def predictor(tokens: int = 2) -> VisionTransformerPredictor:
    return VisionTransformerPredictor(img_size=32, patch_size=16, num_frames=2, embed_dim=48, predictor_embed_dim=16,
                                      depth=1, num_heads=2, num_mask_tokens=tokens)


@pytest.fixture
def six_heads(tmp_path):
    return hub.export_official(tmp_path / "six.pt", encoder=vit(6), target_encoder=vit(6), predictor=predictor())


def test_six_heads_into_three_heads_is_refused(six_heads):
    with pytest.raises(hub.CheckpointMismatchError) as err:
        hub.load_or_build(six_heads, vit(3), "encoder", "target_encoder", "a recipe")
    assert isinstance(err.value, ValueError)
    assert "num_heads: checkpoint 6 vs recipe 3" in str(err.value) and str(six_heads) in str(err.value)
    with pytest.raises(hub.CheckpointMismatchError, match="num_heads: checkpoint 6 vs recipe 3"):
        AttentiveProbe(encoder_ckpt=str(six_heads), encoder=vit(3), num_classes=2, num_heads=2, depth=1)


def test_a_conv_stem_checkpoint_into_a_linear_patch_recipe_is_refused_by_name(tmp_path):
    """A flag one config leaves out (conv_stem, abs_pos_embed) is off: the mismatch is named, not a KeyError."""
    torch.manual_seed(0)
    stem = VisionTransformer(img_size=32, num_frames=2, patch_size=16, embed_dim=48, depth=1, num_heads=6,
                             conv_stem=True, abs_pos_embed=True)
    path = hub.export_official(tmp_path / "stem.pt", target_encoder=stem)
    with pytest.raises(hub.CheckpointMismatchError, match="conv_stem: checkpoint True vs recipe False"):
        hub.load_or_build(path, vit(6), "encoder", "target_encoder", "a recipe")
    plain = hub.export_official(tmp_path / "plain.pt", target_encoder=vit(6))
    recipe = VisionTransformer(img_size=32, num_frames=2, patch_size=16, embed_dim=48, depth=1, num_heads=6,
                               conv_stem=True)
    with pytest.raises(hub.CheckpointMismatchError, match="conv_stem: checkpoint False vs recipe True"):
        hub.load_or_build(plain, recipe, "encoder", "target_encoder", "a recipe")


def test_the_same_architecture_loads_and_nominal_sizes_may_differ(six_heads):
    """The encoder's RoPE grid follows its input: a 32-px checkpoint starts a 64-px run."""
    module = hub.load_or_build(six_heads, vit(6, img=64), "encoder", "target_encoder", "a recipe")
    assert module.img_size == 64
    assert torch.equal(module.blocks[0].attn.qkv.weight, vit(6).blocks[0].attn.qkv.weight)


def test_every_differing_field_is_listed_instead_of_a_torch_error(six_heads):
    with pytest.raises(hub.CheckpointMismatchError) as err:
        hub.load_or_build(six_heads, vit(3, depth=2, width=24), "encoder", "encoder", "a recipe")
    text = str(err.value)
    for line in ("depth: checkpoint 1 vs recipe 2", "embed_dim: checkpoint 48 vs recipe 24",
                 "num_heads: checkpoint 6 vs recipe 3"):
        assert line in text
    assert "size mismatch" not in text and len(text.splitlines()) < 10
    with pytest.raises(hub.CheckpointMismatchError, match="num_mask_tokens: checkpoint 2 vs recipe 6"):
        hub.load_or_build(six_heads, predictor(6), "predictor", "predictor", "a recipe")


def test_released_width_without_metadata_fixes_the_heads(tmp_path):
    """Like ViT-g (1408 wide: 22 heads, not 16): an official file records no heads, its width does."""
    ckpt = torch.load(hub.export_official(tmp_path / "t.pt", target_encoder=vit(3, width=192)), weights_only=True)
    del ckpt["lit_jepa"]
    torch.save(ckpt, tmp_path / "official.pt")
    with pytest.raises(hub.CheckpointMismatchError, match="num_heads: checkpoint 3 vs recipe 4"):
        hub.load_or_build(tmp_path / "official.pt", vit(4, width=192), "encoder", "target_encoder", "a recipe")
    assert hub.load_or_build(tmp_path / "official.pt", vit(3, width=192), "encoder", "target_encoder",
                             "a recipe").num_heads == 3


def test_pretrain_init_from_and_world_model_encoder_compare_too(six_heads):
    module = JepaPretrain(vit(3), predictor(), init_from=str(six_heads))
    with pytest.raises(hub.CheckpointMismatchError, match="num_heads: checkpoint 6 vs recipe 3"):
        module.setup("fit")
    ac = ACPredictor(img_size=32, patch_size=16, embed_dim=48, predictor_embed_dim=16, depth=1, num_heads=2)
    with pytest.raises(hub.CheckpointMismatchError, match="num_heads: checkpoint 6 vs recipe 3"):
        ACWorldModel(vit(3), ac, encoder_path=str(six_heads))
    loaded = JepaPretrain(vit(6), predictor(), init_from=str(six_heads))
    loaded.setup("fit")
    assert torch.equal(loaded.predictor.predictor_embed.weight, hub.load_predictor(six_heads).predictor_embed.weight)
