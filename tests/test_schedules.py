import math

import pytest

from lit_jepa.schedules import WSD, Constant, CosineWD, Linear, LinearDecay, WarmupCosine

approx = pytest.approx


def test_vjepa2_phase1_warmup_then_constant():
    lr = WarmupCosine(1e-4, 5.25e-4, 5.25e-4, warmup_steps=12_000, total_steps=240_000)
    assert lr(1) == approx(1e-4 + 4.25e-4 / 12_000, rel=1e-12)  # 1.000354...e-4: step 1 is the first used
    assert lr(6_000) == approx(3.125e-4, rel=1e-12)
    assert lr(12_000) == approx(5.25e-4, rel=1e-12)
    assert lr(240_000) == approx(5.25e-4, rel=1e-12)


def test_warmup_cosine_decays_to_final():
    lr = WarmupCosine(0.0, 1.0, 0.1, warmup_steps=10, total_steps=30)
    assert [lr(s) for s in (5, 10, 20, 30, 40)] == approx([0.5, 1.0, 0.55, 0.1, 0.1], rel=1e-12)


def test_cooldown_both_conventions():
    official = LinearDecay(5.25e-4, 1e-6, decay_steps=int(1.25 * 12_000))  # T_max = ipe_scale * steps
    paper = LinearDecay(5.25e-4, 1e-6, decay_steps=12_000)
    assert official(12_000) == approx(5.25e-4 - 0.8 * 5.24e-4, rel=1e-12)  # 1.058e-4, the released run's end
    assert paper(12_000) == approx(1e-6, rel=1e-9)
    assert paper(1) == approx(5.25e-4 - 5.24e-4 / 12_000, rel=1e-12)
    assert paper(13_000) == approx(1e-6, rel=1e-9)


def test_wsd_ac_training():
    lr = WSD(7.5e-5, 4.25e-4, 0.0, warmup_steps=4_500, stable_steps=85_500, decay_steps=4_500)
    assert lr(1) == approx(7.5e-5 + 3.5e-4 / 4_500, rel=1e-12)
    assert lr(4_500) == approx(4.25e-4, rel=1e-12)
    assert lr(90_000) == approx(4.25e-4, rel=1e-12)
    assert lr(92_250) == approx(2.125e-4, rel=1e-12)
    assert lr(94_500) == 0.0


def official_warmup_cosine(s, start, ref, final, warmup, t_max):  # src/utils/schedulers.py, step s >= 1
    if s < warmup:
        return start + s / max(1, warmup) * (ref - start)
    progress = (s - warmup) / max(1, t_max - warmup)
    return max(final, final + (ref - final) * 0.5 * (1.0 + math.cos(math.pi * progress)))


def official_wsd(s, start, ref, final, warmup, anneal, t_max):
    if s < warmup:
        return start + s / max(1, warmup) * (ref - start)
    if s < t_max - anneal:
        return ref
    return ref + (s - (t_max - anneal)) / max(1, anneal) * (final - ref)


def test_every_step_matches_the_official_schedulers():
    cosine, wsd = WarmupCosine(0.1, 1.0, 0.01, 7, 50), WSD(0.1, 1.0, 0.0, 7, 30, 13)
    for s in range(1, 51):
        assert cosine(s) == approx(official_warmup_cosine(s, 0.1, 1.0, 0.01, 7, 50), rel=1e-12, abs=1e-15)
        assert wsd(s) == approx(official_wsd(s, 0.1, 1.0, 0.0, 7, 13, 50), rel=1e-12, abs=1e-15)


def test_ema_and_weight_decay():
    assert Constant(0.99925)(123_456) == 0.99925
    assert [Linear(0.998, 1.0, 1000)(s) for s in (0, 500, 1000, 2000)] == approx([0.998, 0.999, 1.0, 1.0])
    assert [CosineWD(0.04, 0.4, 100)(s) for s in (0, 50, 100, 200)] == approx([0.04, 0.22, 0.4, 0.4])
    assert CosineWD(0.04, 0.04, 100)(37) == approx(0.04, rel=1e-12)
