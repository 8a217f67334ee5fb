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
    h = torch.randn(2, 5, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
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


def direct_epps_pulley(x: torch.Tensor, t_max: float = 3.0, points: int = 4001) -> torch.Tensor:
    """``N * integral_{-t_max}^{t_max} |ecf(t) - exp(-t^2/2)|^2 exp(-t^2/2) dt`` per column of ``x`` ``(N, S)``,
    with the complex empirical characteristic function on a fine grid."""
    t = torch.linspace(-t_max, t_max, points, dtype=torch.float64)
    ecf = torch.exp(1j * x.double().unsqueeze(-1) * t).mean(0)  # (S, points)
    phi = torch.exp(-0.5 * t**2)
    return x.shape[0] * torch.trapezoid((ecf - phi).abs() ** 2 * phi, t, dim=-1)


def test_sigreg_is_the_sliced_epps_pulley_statistic():
    from lit_jepa.losses import sigreg

    x = torch.randn(300, 12, generator=torch.Generator().manual_seed(0)) * 1.3 + 0.2
    got = sigreg(x, num_slices=5, knots=301, generator=torch.Generator().manual_seed(1))
    directions = torch.randn(12, 5, generator=torch.Generator().manual_seed(1))
    expected = direct_epps_pulley(x @ (directions / directions.norm(dim=0))).mean()
    assert got.item() == pytest.approx(expected.item(), rel=1e-3)


def test_sigreg_small_for_isotropic_gaussians_large_for_collapse_and_anisotropy():
    from lit_jepa.losses import sigreg

    g = torch.Generator().manual_seed(0)
    gauss = torch.randn(2048, 64, generator=g)
    collapsed = torch.randn(2048, 1, generator=g).expand(-1, 64) / 8  # a line
    squashed = gauss * torch.linspace(0.05, 1, 64)
    values = [sigreg(x, generator=torch.Generator().manual_seed(2)).item() for x in (gauss, collapsed, squashed)]
    assert values[0] < 2 and values[1] > 100 * values[0] and values[2] > 20 * values[0]
    x = squashed.clone().requires_grad_()
    sigreg(x).backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_vicreg_terms_match_their_formulas():
    from lit_jepa.losses import vicreg_covariance, vicreg_variance

    x = torch.randn(3, 40, 6, generator=torch.Generator().manual_seed(0)) * torch.tensor([0.1, 0.5, 1, 2, 3, 4])
    rows = x.reshape(-1, 6).double()
    std = torch.sqrt(rows.var(0) + 1e-4)
    assert vicreg_variance(x).item() == pytest.approx(torch.clamp(1 - std, min=0).mean().item(), rel=1e-4)
    cov = torch.cov(rows.T)
    off = cov - torch.diag(torch.diag(cov))
    assert vicreg_covariance(x).item() == pytest.approx((off**2).sum().item() / 6, rel=1e-4)
    assert vicreg_variance(torch.randn(4000, 8) * 2) == 0  # every std above gamma = 1


def test_jepa_loss_token_weights_scale_inside_the_plain_mean():
    pred, target = torch.randn(2, 5, 8), torch.randn(2, 5, 8)
    w = torch.rand(2, 5)
    expected = ((pred - target).abs() * w[..., None]).mean()
    assert torch.allclose(jepa_loss(pred, target, weights=w), expected)


def test_motion_token_weights_follow_pixel_change_and_average_one():
    from lit_jepa.losses import motion_token_weights

    clips = torch.zeros(2, 3, 4, 16, 16)
    clips[1, :, 2:, :8, :8] = 1.0  # clip 1: the top-left patch lights up in frame 2 (second tubelet)
    w = motion_token_weights(clips, patch_size=8, tubelet_size=2, motion_weight=0.9)
    assert w.shape == (2, 8)
    torch.testing.assert_close(w[0], torch.ones(8))  # nothing moves: uniform
    torch.testing.assert_close(w.mean(dim=1), torch.ones(2))
    assert w[1, 4] == w[1].max() and torch.allclose(w[1, [0, 1, 2, 3, 5, 6, 7]], torch.full((7,), 0.1))
    torch.testing.assert_close(motion_token_weights(clips, 8, 2, 0.0), torch.ones(2, 8))
