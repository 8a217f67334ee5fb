import pytest
import torch
from torch import nn

from lit_jepa.vqa.lora import LoRALinear, add_lora
from lit_jepa.vqa.projector import build_projector


def test_lora_starts_as_the_base_layer_and_trains_only_its_factors():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU())
    model.q_proj = nn.Linear(8, 4)
    x = torch.randn(3, 8)
    before = model.q_proj(x)
    assert add_lora(model, ("q_proj",), rank=2) == 1 and isinstance(model.q_proj, LoRALinear)
    assert torch.equal(model.q_proj(x), before)
    model.q_proj(x).sum().backward()
    assert model.q_proj.base.weight.grad is None and model.q_proj.lora_b.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="no nn.Linear named"):
        add_lora(model, ("k_proj",))


def test_projectors_map_tokens_to_the_lm_width():
    x = torch.randn(2, 32, 24)
    assert build_projector("mlp", 24, 16, 4, 1, 4)(x).shape == (2, 32, 16)
    pooler = build_projector("pooler", 24, 16, 4, 2, 4, num_tokens=32)
    assert pooler(x).shape == (2, 4, 16)
    with pytest.raises(ValueError, match="31 tokens, position embedding for 32"):
        pooler(torch.randn(2, 31, 24))
    with pytest.raises(ValueError, match="'mlp' or 'pooler'"):
        build_projector("linear", 24, 16, 4, 1, 4)
