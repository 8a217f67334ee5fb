import pytest
import torch
import torch.nn.functional as F

from lit_jepa.losses import jepa_loss, normalize_targets, sigmoid_focal_loss


def test_jepa_loss():
    pred, target = torch.randn(2, 5, 8, requires_grad=True), torch.randn(2, 5, 8)
    assert torch.allclose(jepa_loss(pred, target), F.l1_loss(pred, target))
    assert torch.allclose(jepa_loss(pred, target, p=2.0), F.mse_loss(pred, target) / 2)
    jepa_loss(pred, target).backward()
    assert torch.allclose(pred.grad, torch.sign(pred - target).detach() / pred.numel())


def test_normalize_targets():
    h = torch.randn(2, 5, 16, dtype=torch.float64)
    out = normalize_targets(h)
    assert torch.allclose(out.mean(-1), torch.zeros(2, 5, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(out.var(-1, unbiased=False), torch.ones(2, 5, dtype=torch.float64), atol=1e-4)
    assert torch.allclose(normalize_targets(3 * h + 7), out, atol=1e-5)  # per-token scale and shift removed


def direct_focal(logits, targets, alpha, gamma):
    p = torch.sigmoid(logits.double())
    p_t = torch.where(targets.bool(), p, 1 - p)
    alpha_t = torch.where(targets.bool(), alpha, 1 - alpha) if alpha >= 0 else torch.ones_like(p)
    return -alpha_t * (1 - p_t) ** gamma * torch.log(p_t)


@pytest.mark.parametrize("alpha, gamma", [(0.25, 2.0), (0.5, 0.0), (-1.0, 1.5)])
def test_focal_loss_matches_direct_formula(alpha, gamma):
    logits = torch.randn(6, 11, generator=torch.Generator().manual_seed(0)) * 3
    onehot = F.one_hot(torch.arange(6) % 11, 11)
    expected = direct_focal(logits, onehot, alpha, gamma)
    got = sigmoid_focal_loss(logits.double(), onehot, alpha, gamma, reduction="none")
    assert torch.allclose(got, expected, rtol=1e-10)
    assert torch.allclose(sigmoid_focal_loss(logits.double(), onehot, alpha, gamma), expected.sum(), rtol=1e-10)
    assert torch.allclose(sigmoid_focal_loss(logits.double(), onehot, alpha, gamma, "mean"), expected.mean())


def test_focal_loss_defaults_and_errors():
    logits, onehot = torch.randn(3, 4), F.one_hot(torch.tensor([0, 1, 3]), 4)
    assert torch.allclose(sigmoid_focal_loss(logits, onehot), direct_focal(logits, onehot, 0.25, 2.0).sum().float())
    with pytest.raises(ValueError, match="reduction"):
        sigmoid_focal_loss(logits, onehot, reduction="avg")
