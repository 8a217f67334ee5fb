"""The frozen-encoder contract and its adapters: shapes, layers, grids, normalisation and identities."""

import sys
import types

import pytest
import torch

from lit_jepa import hub
from lit_jepa.encoders import FrameEncoder, HFVideoEncoder, ModuleEncoder, TimmFrameEncoder, task_encoder
from lit_jepa.nn import FrozenEncoder, VisionTransformer
from lit_jepa.nn.encoder import IMAGENET_MEAN, IMAGENET_STD

TINY_VIT = "tests.encoders.tiny_models.TinyImageViT"
TINY_CLIP = "tests.encoders.tiny_models.TinyClipEncoder"


def clip(b: int = 2) -> torch.Tensor:
    return torch.randn(b, 3, 8, 32, 32)


def test_vision_transformer_implements_the_contract():
    enc = VisionTransformer(img_size=32, num_frames=8, patch_size=8, embed_dim=32, depth=2, num_heads=2)
    assert isinstance(enc, FrozenEncoder) and enc.token_grid(8, 32, 32) == (4, 4, 4) and enc.num_tokens() == 64
    assert enc(clip()).shape == (2, 64, 32)
    assert [o.shape for o in enc(clip(), out_layers=[0, 1])] == [(2, 64, 32)] * 2
    ident = enc.identity()
    assert ident["class"] == "lit_jepa.nn.vit.VisionTransformer" and ident["config"] == hub.encoder_config(enc)
    other = VisionTransformer(img_size=32, num_frames=8, patch_size=8, embed_dim=32, depth=2, num_heads=2)
    assert other.identity()["weights"] != ident["weights"]
    other.load_state_dict(enc.state_dict())
    assert other.identity() == ident


def test_vjepa2_adapter_equals_the_native_loader(hf_folders):
    native = hub.load_encoder(hf_folders["vjepa2"]).eval()
    adapter = HFVideoEncoder(str(hf_folders["vjepa2"])).eval()
    assert (adapter.embed_dim, adapter.img_size, adapter.num_frames, adapter.tubelet_size) == (32, 32, 8, 2)
    assert adapter.token_grid(8, 32, 32) == native.token_grid(8, 32, 32) == (4, 4, 4)
    x = clip()
    with torch.no_grad():
        torch.testing.assert_close(adapter(x), native(x), atol=1e-5, rtol=1e-5)
        layers = adapter(x, out_layers=[0, 1])
    assert [t.shape for t in layers] == [(2, 64, 32)] * 2
    assert adapter.identity()["class"] == "lit_jepa.encoders.hf.HFVideoEncoder"
    assert adapter.identity() != native.identity()  # same weights, other class: never the same cache


def test_videomae_adapter_and_its_random_twin(hf_folders):
    enc = HFVideoEncoder(str(hf_folders["videomae"])).eval()
    assert enc.input_name == "pixel_values" and enc(clip()).shape == (2, 64, 32) and enc.num_tokens() == 64
    torch.manual_seed(1)
    twin = HFVideoEncoder(str(hf_folders["videomae"]), random_init=True)
    assert twin.identity()["config"] == enc.identity()["config"]
    assert twin.identity()["weights"] != enc.identity()["weights"]


def test_hf_adapter_reports_a_folder_without_config(tmp_path):
    with pytest.raises(FileNotFoundError, match="no config.json"):
        HFVideoEncoder(str(tmp_path))


def test_frame_encoder_runs_the_image_model_on_every_frame():
    torch.manual_seed(0)
    enc = FrameEncoder(TINY_VIT, {"dim": 24}, img_size=32, num_frames=8).eval()
    assert (enc.embed_dim, enc.patch_size, enc.tubelet_size) == (24, 8, 1) and enc.token_grid(8, 32, 32) == (8, 4, 4)
    x = clip()
    with torch.no_grad():
        tokens = enc(x)
        frame3 = enc.model.forward_features(x[:, :, 3])[:, 1:]  # class token dropped
        layers = enc(x, out_layers=[0, 1])
    assert tokens.shape == (2, 8 * 16, 24)
    torch.testing.assert_close(tokens[:, 3 * 16:4 * 16], frame3)
    assert [t.shape for t in layers] == [(2, 128, 24)] * 2
    torch.testing.assert_close(layers[1], tokens)  # the last block's normed tokens are the output


def test_module_encoder_loads_a_state_dict_and_renormalises(tmp_path):
    from tests.encoders.tiny_models import TinyClipEncoder

    torch.manual_seed(0)
    source = TinyClipEncoder()
    torch.save(source.state_dict(), tmp_path / "w.pt")
    mean, std = (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)
    enc = ModuleEncoder(TINY_CLIP, checkpoint=str(tmp_path / "w.pt"), img_size=32, num_frames=8,
                        frames_per_token=2, pixels_per_token=8, mean=mean, std=std)
    assert enc.embed_dim == 20 and enc.num_tokens() == 64
    pixels = torch.rand(1, 3, 8, 32, 32)
    stats = [torch.tensor(v).view(1, 3, 1, 1, 1) for v in (IMAGENET_MEAN, IMAGENET_STD)]
    imagenet = (pixels - stats[0]) / stats[1]
    with torch.no_grad():
        torch.testing.assert_close(enc(imagenet), source((pixels - 0.5) / 0.5), atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="no intermediate layers"):
        enc(imagenet, out_layers=[0])
    torch.save({"other.weight": torch.zeros(1)}, tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="bad.pt: the weights do not fit"):
        ModuleEncoder(TINY_CLIP, checkpoint=str(tmp_path / "bad.pt"))
    with pytest.raises(ValueError, match="cannot load .tests.encoders.tiny_models.Missing"):
        ModuleEncoder("tests.encoders.tiny_models.Missing")
    with pytest.raises(ValueError, match="set width"):
        ModuleEncoder("torch.nn.Identity")


def test_timm_adapter_calls_timm_create_model_with_a_local_file(tmp_path, monkeypatch):
    """timm needs torchvision, which cannot be installed beside the CPU torch of the test machines: a stand-in
    ``timm`` module records the documented ``create_model`` call and returns the timm-interface tiny ViT."""
    from tests.encoders.tiny_models import TinyImageViT

    calls = []

    def create_model(model_name: str, **kwargs):
        calls.append((model_name, kwargs))
        return TinyImageViT()

    monkeypatch.setitem(sys.modules, "timm", types.SimpleNamespace(create_model=create_model))
    weights = tmp_path / "vit.safetensors"
    weights.write_bytes(b"")
    enc = TimmFrameEncoder("vit_tiny_patch16_224", str(weights), {"img_size": 32}, img_size=32, num_frames=8)
    assert calls == [("vit_tiny_patch16_224", {"num_classes": 0, "img_size": 32, "pretrained": True,
                                               "pretrained_cfg_overlay": {"file": str(weights)}})]
    assert enc(clip()).shape == (2, 128, 24)
    TimmFrameEncoder("vit_tiny_patch16_224", None, img_size=32, num_frames=8)  # the random twin
    assert "pretrained" not in calls[1][1]
    with pytest.raises(FileNotFoundError, match="weights file not found"):
        TimmFrameEncoder("vit_tiny_patch16_224", str(tmp_path / "missing.safetensors"))


def test_a_vjepa_checkpoint_cannot_go_into_an_adapter():
    enc = ModuleEncoder(TINY_CLIP, img_size=32, num_frames=8)
    with pytest.raises(ValueError, match="set encoder_ckpt to null"):
        task_encoder("vitl.pt", enc, "target_encoder", "AttentiveProbe: encoder_ckpt or encoder")
    assert task_encoder(None, enc, "target_encoder", "x") is enc
