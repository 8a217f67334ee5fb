"""Numerical parity with `transformers` VJEPA2 on tiny random configurations (fp32, CPU).

Weights travel both ways: transformers -> lit_jepa through `hub.load_*`, and lit_jepa -> transformers /
official layout through `hub.export_*`. transformers takes RoPE positions from its configured crop size,
so it is configured at the input's size (lit_jepa follows the official semantics: the input's own grid).
"""

import pytest
import torch

from lit_jepa import hub

transformers = pytest.importorskip("transformers")
from transformers import VJEPA2Config, VJEPA2ForVideoClassification, VJEPA2Model  # noqa: E402

TOL = 1e-4


def hf_config(crop: int, frames: int = 4, hidden: int = 128, heads: int = 2, pred_hidden: int = 64,
              pred_heads: int = 2, **kw) -> VJEPA2Config:
    return VJEPA2Config(crop_size=crop, frames_per_clip=frames, patch_size=8, tubelet_size=2, hidden_size=hidden,
                        num_attention_heads=heads, num_hidden_layers=2, mlp_ratio=4.0, pred_hidden_size=pred_hidden,
                        pred_num_attention_heads=pred_heads, pred_num_hidden_layers=2, pred_num_mask_tokens=10,
                        **kw)


def randomise_mask_tokens(model: VJEPA2Model) -> None:
    with torch.no_grad():
        model.predictor.embeddings.mask_tokens.normal_()


def hf_video(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, 2, 1, 3, 4)  # (B, C, T, H, W) -> transformers' (B, T, C, H, W)


@pytest.fixture(scope="module")
def hf_model(tmp_path_factory):
    torch.manual_seed(0)
    model = VJEPA2Model(hf_config(32)).eval()
    randomise_mask_tokens(model)
    folder = tmp_path_factory.mktemp("hf") / "vjepa2"
    model.save_pretrained(folder)
    return model, folder


@pytest.mark.parametrize("frames,size", [(2, 32), (4, 32), (8, 48), (6, 64)])
def test_encoder_matches_transformers_at_any_size(hf_model, frames, size):
    model, folder = hf_model
    enc = hub.load_encoder(folder).eval()
    ref = VJEPA2Model(hf_config(size, frames)).eval()
    ref.load_state_dict(model.state_dict())
    x = torch.randn(2, 3, frames, size, size)
    with torch.no_grad():
        diff = (enc(x) - ref(hf_video(x), skip_predictor=True).last_hidden_state).abs().max().item()
    assert diff < TOL


@pytest.mark.parametrize("hidden,heads", [(128, 2), (160, 2), (96, 3)])  # head dims 64, 80, 32
def test_encoder_head_dims(tmp_path, hidden, heads):
    torch.manual_seed(1)
    model = VJEPA2Model(hf_config(32, hidden=hidden, heads=heads)).eval()
    model.save_pretrained(tmp_path)
    enc = hub.load_encoder(tmp_path).eval()
    x = torch.randn(1, 3, 4, 32, 32)
    with torch.no_grad():
        diff = (enc(x) - model(hf_video(x), skip_predictor=True).last_hidden_state).abs().max().item()
    assert diff < TOL


def test_predictor_matches_transformers(hf_model):
    model, folder = hf_model
    enc, pred = hub.load_encoder(folder).eval(), hub.load_predictor(folder).eval()
    x = torch.randn(2, 3, 4, 32, 32)
    n = 2 * 4 * 4
    g = torch.Generator().manual_seed(0)
    perm = torch.stack([torch.randperm(n, generator=g) for _ in range(2)])
    ctx, tgt = perm[:, :12].sort(dim=1).values, perm[:, 12:].sort(dim=1).values
    with torch.no_grad():
        ref = model(hf_video(x), context_mask=[ctx], target_mask=[tgt]).predictor_output.last_hidden_state
        tokens = enc(x)
        ours = pred(tokens.gather(1, ctx.unsqueeze(-1).expand(-1, -1, tokens.shape[-1])), [ctx], [tgt])
    assert ours.shape == (2, n - 12, 128)
    assert (ours - ref).abs().max().item() < TOL
    # the mask token index matters (transformers uses index 1 by default)
    with torch.no_grad():
        other = pred(tokens.gather(1, ctx.unsqueeze(-1).expand(-1, -1, tokens.shape[-1])), [ctx], [tgt], mask_index=0)
    assert (other - ref).abs().max().item() > 1e-3


def test_probe_matches_transformers(tmp_path):
    torch.manual_seed(2)
    cfg = hf_config(32, num_labels=5)
    model = VJEPA2ForVideoClassification(cfg).eval()
    model.save_pretrained(tmp_path)
    enc, probe = hub.load_encoder(tmp_path).eval(), hub.load_probe(tmp_path).eval()
    x = torch.randn(3, 3, 4, 32, 32)
    with torch.no_grad():
        diff = (probe(enc(x)) - model(hf_video(x)).logits).abs().max().item()
    assert diff < TOL


def test_export_hf_roundtrip(hf_model, tmp_path):
    model, folder = hf_model
    enc, pred = hub.load_encoder(folder).eval(), hub.load_predictor(folder).eval()
    hub.export_hf(tmp_path / "out", enc, pred)
    back = VJEPA2Model.from_pretrained(tmp_path / "out").eval()
    for k, v in model.state_dict().items():
        assert torch.equal(v, back.state_dict()[k]), k


def test_export_hf_classifier_roundtrip(tmp_path):
    torch.manual_seed(3)
    model = VJEPA2ForVideoClassification(hf_config(32, num_labels=4)).eval()
    model.save_pretrained(tmp_path / "in")
    enc, pred = hub.load_encoder(tmp_path / "in"), hub.load_predictor(tmp_path / "in")
    probe = hub.load_probe(tmp_path / "in")
    hub.export_hf(tmp_path / "out", enc, pred, classifier=probe)
    back = VJEPA2ForVideoClassification.from_pretrained(tmp_path / "out").eval()
    x = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():
        assert (back(hf_video(x)).logits - model(hf_video(x)).logits).abs().max().item() < TOL


def test_official_roundtrip_through_export(hf_model, tmp_path):
    model, folder = hf_model
    enc, pred = hub.load_encoder(folder).eval(), hub.load_predictor(folder).eval()
    path = hub.export_official(tmp_path / "ckpt.pt", encoder=enc, target_encoder=enc, predictor=pred)
    raw = torch.load(path, weights_only=True)
    assert "module.backbone.blocks.0.attn.qkv.weight" in raw["target_encoder"]
    assert "module.backbone.mask_tokens.9" in raw["predictor"]
    for key in ("target_encoder", "encoder"):
        enc2 = hub.load_encoder(path, key=key).eval()
        for k, v in enc.state_dict().items():
            assert torch.equal(v, enc2.state_dict()[k])
    pred2 = hub.load_predictor(path)
    assert all(torch.equal(v, pred2.state_dict()[k]) for k, v in pred.state_dict().items())


def test_masked_forward_keeps_original_positions(hf_model):
    """Keeping every token, in any order, must equal the unmasked forward gathered in that order."""
    _, folder = hf_model
    enc = hub.load_encoder(folder).eval()
    x = torch.randn(2, 3, 4, 32, 48)  # non-square: 2 x 4 x 6 grid
    perm = torch.stack([torch.randperm(48), torch.randperm(48)])
    with torch.no_grad():
        full = enc(x)
        kept = enc(x, masks=[perm])
    assert (kept - full.gather(1, perm.unsqueeze(-1).expand(-1, -1, full.shape[-1]))).abs().max().item() < TOL
