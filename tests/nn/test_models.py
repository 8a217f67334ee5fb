import math

import pytest
import torch

from lit_jepa import hub
from lit_jepa.nn import (
    ACPredictor,
    AttentiveClassifier,
    AttentivePooler,
    VisionTransformer,
    VisionTransformerPredictor,
    rope_tables,
    vit_giant,
    vit_huge,
    vit_large,
    vit_tiny,
)
from lit_jepa.nn.ac_predictor import block_causal_mask
from lit_jepa.nn.rope import apply_rope
from tests.nn.reference import ac_forward, encoder_forward


@pytest.mark.parametrize("head_dim", [64, 80, 32])
def test_rope_matches_tiled_frequency_formula(head_dim):
    """Channel j of an axis segment of size d uses frequency index j mod d/2; pairs (2i, 2i+1) rotate."""
    torch.manual_seed(0)
    n = 7
    x = torch.randn(1, 2, n, head_dim, dtype=torch.float64)
    pos = torch.randint(0, 20, (n, 3))
    cos, sin = rope_tables(pos, head_dim)
    out = apply_rope(x.float(), cos, sin).double()
    seg = 2 * ((head_dim // 3) // 2)
    expected = x.clone()
    for a in range(3):
        for j in range(seg):
            c = a * seg + j
            k = j % (seg // 2)
            angle = pos[:, a].double() * 10000.0 ** (-k / (seg / 2))
            partner = x[..., c + 1] if j % 2 == 0 else x[..., c - 1]
            sign = -1.0 if j % 2 == 0 else 1.0
            expected[..., c] = x[..., c] * torch.cos(angle) + sign * partner * torch.sin(angle)
    assert seg == {64: 20, 80: 26, 32: 10}[head_dim]
    assert torch.equal(out[..., 3 * seg:], x.float()[..., 3 * seg:].double())  # tail channels untouched
    assert (out - expected).abs().max().item() < 1e-5


def test_parameter_counts_on_meta_device():
    with torch.device("meta"):
        counts = {f.__name__: sum(p.numel() for p in f().parameters()) for f in (vit_large, vit_huge, vit_giant)}
        giant = vit_giant()
    assert counts == {"vit_large": 303_885_312, "vit_huge": 631_648_000, "vit_giant": 1_012_173_952}
    assert giant.num_heads == 22 and giant.blocks[0].mlp.fc1.out_features == 6144


def test_encoder_matches_official_reference_on_non_square_video():
    torch.manual_seed(0)
    enc = vit_tiny(patch_size=8, depth=2).eval()
    x = torch.randn(2, 3, 4, 24, 40)  # 2 x 3 x 5 patch grid
    with torch.no_grad():
        assert (enc(x) - encoder_forward(enc, x)).abs().max().item() < 1e-5


def test_encoder_shapes_masks_images_and_out_layers():
    enc = vit_tiny(patch_size=8, depth=3).eval()
    x = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():
        assert enc(x).shape == (2, 32, 192)
        masks = [torch.tensor([[0, 5, 9], [1, 2, 3]]), torch.tensor([[4, 6, 7], [8, 9, 10]])]
        assert enc(x, masks=masks).shape == (4, 3, 192)
        outs = enc(x, out_layers=[0, 2])
        assert len(outs) == 2 and torch.allclose(outs[1], enc(x), atol=1e-6)
        image = torch.randn(2, 3, 32, 32)
        assert torch.allclose(enc(image), enc(image.unsqueeze(2).repeat(1, 1, 2, 1, 1)), atol=1e-6)


def test_activation_checkpointing_gives_same_gradients():
    torch.manual_seed(0)
    a = vit_tiny(patch_size=8, depth=2)
    b = vit_tiny(patch_size=8, depth=2, use_activation_checkpointing=True)
    b.load_state_dict(a.state_dict())
    x = torch.randn(2, 3, 4, 16, 16)
    a(x).square().mean().backward()
    b(x).square().mean().backward()
    for (n, p), q in zip(a.named_parameters(), b.parameters()):
        assert torch.allclose(p.grad, q.grad, atol=1e-6), n


def test_predictor_output_order_follows_target_masks():
    torch.manual_seed(0)
    pred = VisionTransformerPredictor(img_size=32, patch_size=8, num_frames=4, embed_dim=64,
                                      predictor_embed_dim=48, depth=2, num_heads=2).eval()
    ctx = torch.tensor([[0, 3, 8, 20]])
    tgt = torch.tensor([[1, 30, 7, 12]])
    z = torch.randn(1, 4, 64)
    perm = torch.tensor([2, 0, 3, 1])
    with torch.no_grad():
        out = pred(z, ctx, tgt)
        out_perm = pred(z, ctx, tgt[:, perm])
    assert out.shape == (1, 4, 64)
    assert torch.allclose(out[:, perm], out_perm, atol=1e-5)


def small_ac(**kw) -> ACPredictor:
    return ACPredictor(img_size=16, patch_size=8, embed_dim=48, predictor_embed_dim=64, depth=2, num_heads=1, **kw)


def test_ac_predictor_matches_official_reference():
    torch.manual_seed(0)
    ac = small_ac().eval()
    T = 3
    x, a, s = torch.randn(2, T * 4, 48), torch.randn(2, T, 7), torch.randn(2, T, 7)
    with torch.no_grad():
        assert (ac(x, a, s) - ac_forward(ac, x, a, s)).abs().max().item() < 1e-5


def test_ac_predictor_is_causal():
    """Perturbing frame t+1 (and its action and state) leaves the outputs of steps <= t unchanged."""
    torch.manual_seed(0)
    ac = small_ac().eval()
    T, hw = 4, 4
    x, a, s = torch.randn(1, T * hw, 48), torch.randn(1, T, 7), torch.randn(1, T, 7)
    with torch.no_grad():
        base = ac(x, a, s)
        for t in range(T - 1):
            x2, a2, s2 = x.clone(), a.clone(), s.clone()
            x2[:, (t + 1) * hw:] += 5.0
            a2[:, t + 1:] += 5.0
            s2[:, t + 1:] += 5.0
            out = ac(x2, a2, s2)
            assert torch.equal(out[:, : (t + 1) * hw], base[:, : (t + 1) * hw])
            assert not torch.allclose(out[:, (t + 1) * hw:], base[:, (t + 1) * hw:])


def test_ac_mask_is_block_lower_triangular_and_built_for_actual_length():
    mask = block_causal_mask(3, 2 + 4)
    expected = torch.kron(torch.tril(torch.ones(3, 3, dtype=torch.bool)), torch.ones(6, 6, dtype=torch.bool))
    assert torch.equal(mask, expected)
    ac = small_ac()
    ac(torch.randn(1, 2 * 4, 48), torch.randn(1, 2, 7), torch.randn(1, 2, 7))
    assert [m.shape for m in ac._masks.values()] == [(12, 12)]


def test_ac_predictor_with_extrinsics_and_errors():
    ac = small_ac(use_extrinsics=True)
    out = ac(torch.randn(1, 8, 48), torch.randn(1, 2, 7), torch.randn(1, 2, 7), torch.randn(1, 2, 6))
    assert out.shape == (1, 8, 48)
    with pytest.raises(ValueError, match="extrinsics"):
        ac(torch.randn(1, 8, 48), torch.randn(1, 2, 7), torch.randn(1, 2, 7))
    with pytest.raises(ValueError, match="multiple of 4"):
        ac(torch.randn(1, 7, 48), torch.randn(1, 2, 7), torch.randn(1, 2, 7))


def test_ac_predictor_official_roundtrip(tmp_path):
    ac = small_ac().eval()
    path = hub.export_official(tmp_path / "ac.pt", predictor=ac)
    back = hub.load_ac_predictor(path).eval()
    x, a, s = torch.randn(1, 8, 48), torch.randn(1, 2, 7), torch.randn(1, 2, 7)
    with torch.no_grad():
        assert torch.equal(ac(x, a, s), back(x, a, s))


def test_probe_official_roundtrip_and_unused_norm(tmp_path):
    probe = AttentiveClassifier(64, 5, num_heads=4).eval()
    path = hub.export_official(tmp_path / "probe.pt", classifiers=[probe, probe])
    raw = torch.load(path, weights_only=True)
    raw["classifiers"][1]["module.pooler.norm.weight"] = torch.ones(64)  # present in some official files
    raw["classifiers"][1]["module.pooler.norm.bias"] = torch.zeros(64)
    del raw["lit_jepa"]  # an official file carries no lit_jepa metadata: heads default to 16
    torch.save(raw, path)
    back = hub.load_probe(path, key="classifiers.1", num_heads=4).eval()
    z = torch.randn(2, 10, 64)
    with torch.no_grad():
        assert torch.equal(probe(z), back(z))


def test_strict_loading_names_keys_and_suggests_architecture(tmp_path):
    with torch.device("meta"):
        big = vit_tiny(depth=3)
    big = big.to_empty(device="cpu")
    path = hub.export_official(tmp_path / "tiny.pt", target_encoder=big)
    with pytest.raises(hub.CheckpointMismatchError) as err:
        hub.load_encoder(path, arch="vit_small")
    msg = str(err.value)
    assert "tiny.pt" in msg and "shape conflicts" in msg and "missing" in msg
    assert "192 wide, 3 blocks" in msg
    with pytest.raises(KeyError, match="predictor"):
        hub.load_predictor(path)


def test_giant_heads_come_from_width():
    sd = {"patch_embed.proj.weight": torch.empty(1408, 3, 2, 16, 16),
          "blocks.0.mlp.fc1.weight": torch.empty(6144, 1408), "blocks.39.norm1.weight": torch.empty(1408)}
    cfg = hub.infer_encoder_config(sd)
    assert cfg["num_heads"] == 22 and cfg["depth"] == 40 and math.isclose(cfg["mlp_ratio"], 48 / 11)


def test_lightning_style_checkpoint(tmp_path):
    enc = VisionTransformer(img_size=16, patch_size=8, embed_dim=64, depth=1, num_heads=2).eval()
    sd = {f"target_encoder.{k}": v for k, v in enc.state_dict().items()}
    sd.update({f"encoder.{k}": v + 1 for k, v in enc.state_dict().items()})
    path = tmp_path / "last.ckpt"
    torch.save({"state_dict": sd, "lit_jepa": {"target_encoder": hub.encoder_config(enc)}}, path)
    back = hub.load_encoder(path)
    assert all(torch.equal(v, back.state_dict()[k]) for k, v in enc.state_dict().items())
    other = hub.load_encoder(path, key="encoder", num_heads=2)
    assert torch.equal(other.norm.weight, enc.norm.weight + 1)


def test_rope_tables_are_computed_once_per_forward(monkeypatch):
    import lit_jepa.nn.vit as vit_module

    calls = []
    original = vit_module.rope_tables
    monkeypatch.setattr(vit_module, "rope_tables", lambda *a: calls.append(1) or original(*a))
    enc = vit_tiny(patch_size=8, depth=4).eval()
    with torch.no_grad():
        enc(torch.randn(1, 3, 4, 16, 16))
    assert len(calls) == 1  # shared by all 4 blocks


def test_fast_trunc_normal_matches_torch_with_absolute_bounds():
    from lit_jepa.nn.blocks import trunc_normal_

    torch.manual_seed(0)
    ours = trunc_normal_(torch.empty(1_000_000), std=0.02, a=-0.03, b=0.03)
    ref = torch.nn.init.trunc_normal_(torch.empty(1_000_000), std=0.02, a=-0.03, b=0.03)
    assert ours.abs().max() <= 0.03
    assert abs(ours.std() - ref.std()) < 2e-4 and abs(ours.mean()) < 1e-4
    assert abs((ours.abs() > 0.02).float().mean() - (ref.abs() > 0.02).float().mean()) < 3e-3


def test_fresh_vit_large_and_predictor_weights_are_normal_with_the_official_std():
    """The official ``trunc_normal_(w, std=0.02)`` truncates at +-2 in absolute units, i.e. not at all: weights are
    N(0, 0.02), not N(0, 0.02) cut at +-2 std (std 0.0176). Layers the official code rescales by depth
    (``attn.proj``, ``mlp.fc2``) are left out."""
    from lit_jepa.nn import VisionTransformerPredictor
    from lit_jepa.nn.vit import vit_large

    torch.manual_seed(0)
    enc = vit_large(img_size=32, num_frames=2)
    pred = VisionTransformerPredictor(img_size=32, num_frames=2, embed_dim=1024, predictor_embed_dim=384, depth=2,
                                      num_heads=12)
    named = [(n, p) for m in (enc, pred) for n, p in m.named_parameters()
             if n.endswith("weight") and p.ndim >= 2 and "attn.proj" not in n and "fc2" not in n]
    names = {n for n, _ in named}
    assert {"patch_embed.proj.weight", "predictor_embed.weight", "predictor_proj.weight"} <= names
    for name, weight in named:
        w = weight.detach().flatten()
        # sampling error of a std estimate: 0.02 / sqrt(2 n); 5 of those, and never the truncated 0.0176
        assert abs(w.std().item() - 0.02) < 5 * 0.02 / (2 * w.numel()) ** 0.5 + 1e-5, name
    big = torch.cat([p.detach().flatten() for n, p in named if n.startswith("blocks.0.")])
    assert (big.abs() > 2 * 0.02).float().mean() > 0.04  # N(0, s) has 4.6 % beyond 2 s; the old init had 0


def test_ac_predictor_residual_and_action_scale(tmp_path):
    """``residual`` starts as an exact copy of the input frames; ``action_scale`` equals pre-scaled actions; both
    survive the export round trip."""
    torch.manual_seed(0)
    x, a, s = torch.randn(1, 8, 48), torch.randn(1, 2, 7), torch.randn(1, 2, 7)
    res = small_ac(residual=True, action_scale=0.05).eval()
    with torch.no_grad():
        assert torch.equal(res(x, a, s), x)  # zero-initialised output projection: copy the last frame
        res.predictor_proj.weight.normal_()
        plain = small_ac().eval()
        plain.load_state_dict(res.state_dict())
        assert torch.allclose(res(x, a, s), plain(x, a / 0.05, s) + x, atol=1e-5)
        back = hub.load_ac_predictor(hub.export_official(tmp_path / "ac.pt", predictor=res)).eval()
        assert (back.residual, back.action_scale) == (True, 0.05)
        assert torch.equal(back(x, a, s), res(x, a, s))


@pytest.mark.parametrize("queries, heads", [(1, 4), (3, 4), (32, 4)])  # 32 x 4 >= 64: the projected form anyway
def test_cross_attention_pooling_first_is_the_same_function(queries, heads):
    torch.manual_seed(0)
    block = AttentivePooler(64, heads, depth=1, num_queries=queries).double()
    x = torch.randn(3, 50, 64, dtype=torch.float64)
    results = []
    for pool_first in (True, False):
        block.cross_attention_block.xattn.pool_first = pool_first
        block.zero_grad()
        out = block(x)
        out.square().sum().backward()
        results.append((out.detach(), [p.grad.clone() for p in block.parameters()]))
    (a, grads_a), (b, grads_b) = results
    assert torch.allclose(a, b, atol=1e-12)
    assert all(torch.allclose(g, h, atol=1e-12) for g, h in zip(grads_a, grads_b))


def test_abs_pos_embed_puts_positions_in_tokens_and_round_trips(tmp_path):
    from lit_jepa.nn.vit import sincos_3d

    table = sincos_3d((2, 3, 4), 24)
    assert table.shape == (24, 24) and len({tuple(row.tolist()) for row in table}) == 24  # one code per position
    torch.manual_seed(0)
    plain = VisionTransformer(img_size=32, num_frames=4, patch_size=8, embed_dim=48, depth=2, num_heads=3)
    torch.manual_seed(0)
    placed = VisionTransformer(img_size=32, num_frames=4, patch_size=8, embed_dim=48, depth=2, num_heads=3,
                               abs_pos_embed=True)
    assert "abs_pos_embed" not in plain.config() and plain.state_dict().keys() == placed.state_dict().keys()
    uniform = torch.full((1, 3, 4, 32, 32), 0.5)  # every patch alike: only positions can tell tokens apart
    with torch.no_grad():
        same, differ = plain(uniform)[0], placed(uniform)[0]
    torch.testing.assert_close(same, same[:1].expand_as(same), rtol=1e-4, atol=1e-5)  # RoPE alone: no position
    assert (differ - differ[:1]).abs().amax(dim=1)[1:].min() > 1e-3  # every token differs from the first
    path = hub.export_official(tmp_path / "abs.pt", target_encoder=placed)
    loaded = hub.load_encoder(path)
    assert loaded.abs_pos_embed
    clip = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded(clip), placed(clip))


def test_conv_stem_embeds_to_the_patch_grid_and_round_trips(tmp_path):
    from lit_jepa.nn.vit import ConvStem3D

    stem = ConvStem3D(patch_size=8, tubelet_size=2, in_chans=3, embed_dim=48)
    convs = [m for m in stem.net if isinstance(m, torch.nn.Conv3d)]
    assert [c.stride for c in convs] == [(2, 2, 2), (1, 2, 2), (1, 2, 2), (1, 1, 1)]  # 3 halvings: patch 8
    assert [c.out_channels for c in convs] == [16, 32, 48, 48]  # 48 / 4 raised to 16, doubling, capped at 48
    tokens, grid = stem(torch.randn(2, 3, 4, 32, 40))
    assert grid == (2, 4, 5) and tokens.shape == (2, 40, 48)
    with pytest.raises(ValueError, match="power of 2"):
        ConvStem3D(patch_size=12)
    torch.manual_seed(0)
    model = VisionTransformer(img_size=32, num_frames=4, patch_size=8, embed_dim=48, depth=2, num_heads=3,
                              conv_stem=True)
    assert model.config()["conv_stem"] and "conv_stem" not in VisionTransformer(depth=1, embed_dim=48).config()
    assert convs[0].weight.std() > 0.05  # Kaiming-uniform, not the blocks' N(0, 0.02)
    assert model.patch_embed.net[0].weight.std() > 0.05
    path = hub.export_official(tmp_path / "stem.pt", target_encoder=model)
    loaded = hub.load_encoder(path)
    assert loaded.config() == model.config()
    clip = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded(clip), model(clip))
    assert hub.infer_encoder_config(model.state_dict())["patch_size"] == 8  # from the tensors alone
