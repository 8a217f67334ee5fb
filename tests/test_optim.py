import torch

from lit_jepa.nn.predictor import VisionTransformerPredictor
from lit_jepa.nn.vit import VisionTransformer
from lit_jepa.optim import apply_lr_wd, named_param_groups


def models():
    encoder = VisionTransformer(img_size=32, num_frames=2, embed_dim=16, depth=1, num_heads=2)
    predictor = VisionTransformerPredictor(img_size=32, num_frames=2, embed_dim=16, predictor_embed_dim=8, depth=1,
                                           num_heads=2, num_mask_tokens=2)
    return encoder, predictor


def test_named_param_groups():
    encoder, predictor = models()
    encoder.norm.weight.requires_grad_(False)
    groups = named_param_groups({"encoder": encoder, "predictor": predictor}, weight_decay=0.04)
    assert [g["name"] for g in groups] == ["encoder", "predictor", "encoder_no_wd", "predictor_no_wd"]
    assert [(g["weight_decay"], g["wd_exclude"]) for g in groups] == [(0.04, False)] * 2 + [(0.0, True)] * 2
    ids = {g["name"]: {id(p) for p in g["params"]} for g in groups}
    for name, module in (("encoder", encoder), ("predictor", predictor)):
        for n, p in module.named_parameters():
            if not p.requires_grad:
                assert all(id(p) not in s for s in ids.values())
            elif p.ndim >= 2:
                assert id(p) in ids[name], n
            else:
                assert id(p) in ids[f"{name}_no_wd"], n
    assert all(id(t) in ids["predictor"] for t in predictor.mask_tokens)  # 3-D: decayed, as officially
    assert id(encoder.blocks[0].attn.qkv.bias) in ids["encoder_no_wd"]
    total = sum(len(g["params"]) for g in groups)
    assert total == sum(p.requires_grad for m in (encoder, predictor) for p in m.parameters())


def test_empty_groups_dropped_and_schedules_applied():
    frozen, head = torch.nn.Linear(4, 4).requires_grad_(False), torch.nn.Linear(4, 2, bias=False)
    groups = named_param_groups({"frozen": frozen, "head": head}, weight_decay=0.1)
    assert [g["name"] for g in groups] == ["head"]
    encoder, predictor = models()
    optimizer = torch.optim.AdamW(named_param_groups({"encoder": encoder, "predictor": predictor}, 0.04))
    optimizer.param_groups[1]["lr_scale"] = 0.5
    apply_lr_wd(optimizer, lr=1e-3, weight_decay=0.2)
    assert [g["lr"] for g in optimizer.param_groups] == [1e-3, 5e-4, 1e-3, 1e-3]
    assert [g["weight_decay"] for g in optimizer.param_groups] == [0.2, 0.2, 0.0, 0.0]
