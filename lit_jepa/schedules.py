"""Step-wise schedules for the learning rate, weight decay and EMA momentum.

Each schedule is a callable of the optimizer step ``step`` and returns the value to use for it. LR and WD
schedules follow the official schedulers, which are stepped at the start of every iteration: ``step = 1`` is
the first optimizer step (in Lightning, ``trainer.global_step + 1`` inside ``training_step``). Past their
horizon the schedules hold their final value.

V-JEPA 2 values: phase 1 ``WarmupCosine(1e-4, 5.25e-4, 5.25e-4, 12_000, total)`` (warmup then constant),
cooldown ``LinearDecay(5.25e-4, 1e-6, 12_000)``, WD ``Constant(0.04)``, EMA ``Constant(0.99925)``, AC training
``WSD(7.5e-5, 4.25e-4, 0.0, 4_500, 85_500, 4_500)``.
"""

from __future__ import annotations

import math


def _lerp(start: float, end: float, progress: float) -> float:
    return start + min(max(progress, 0.0), 1.0) * (end - start)


def _cosine(start: float, end: float, progress: float) -> float:
    return end + (start - end) * 0.5 * (1.0 + math.cos(math.pi * min(max(progress, 0.0), 1.0)))


class Constant:
    """``value`` at every step (V-JEPA 2 weight decay 0.04 and EMA momentum 0.99925)."""

    def __init__(self, value: float) -> None:
        self.value = value

    def __call__(self, step: int) -> float:
        return self.value


class Linear:
    """Linear from ``start_value`` at step 0 to ``final_value`` at ``total_steps``.

    The official EMA momentum is this ramp indexed from 0 (its k-th update uses step ``k - 1``); V-JEPA 2 keeps
    it constant (``[0.99925, 0.99925]``), V-JEPA 1 ramped 0.998 -> 1.0 over ``1.25 * steps``.
    """

    def __init__(self, start_value: float, final_value: float, total_steps: int) -> None:
        self.start_value, self.final_value, self.total_steps = start_value, final_value, total_steps

    def __call__(self, step: int) -> float:
        return _lerp(self.start_value, self.final_value, step / max(1, self.total_steps))


class LinearDecay(Linear):
    """The cooldown: linear from ``start_value`` to ``final_value``, reached at step ``decay_steps``.

    The official cooldown sets ``T_max = ipe_scale * steps`` with ``ipe_scale = 1.25``, so a run of ``steps``
    stops at 80 % of its decay: 5.25e-4 -> 1e-6 over 12,000 steps ends at about 1.06e-4. Pass
    ``decay_steps = 1.25 * steps`` to reproduce that, or ``decay_steps = steps`` to reach ``final_value`` as the
    paper describes.
    """

    def __init__(self, start_value: float, final_value: float, decay_steps: int) -> None:
        super().__init__(start_value, final_value, decay_steps)


class WarmupCosine:
    """Linear warmup ``start_value -> peak_value`` over ``warmup_steps`` (peak reached at step ``warmup_steps``),
    then a half cosine ``peak_value -> final_value`` ending at step ``total_steps``. With
    ``final_value == peak_value`` it is warmup then constant (V-JEPA 2 phase 1)."""

    def __init__(self, start_value: float, peak_value: float, final_value: float, warmup_steps: int,
                 total_steps: int) -> None:
        self.warmup = Linear(start_value, peak_value, warmup_steps)
        self.peak_value, self.final_value = peak_value, final_value
        self.warmup_steps, self.total_steps = warmup_steps, total_steps

    def __call__(self, step: int) -> float:
        if step < self.warmup_steps:
            return self.warmup(step)
        progress = (step - self.warmup_steps) / max(1, self.total_steps - self.warmup_steps)
        return _cosine(self.peak_value, self.final_value, progress)


class CosineWD:
    """Half cosine from ``start_value`` at step 0 to ``final_value`` at ``total_steps`` (the official weight-decay
    schedule; constant in V-JEPA 2, where both ends are 0.04)."""

    def __init__(self, start_value: float, final_value: float, total_steps: int) -> None:
        self.start_value, self.final_value, self.total_steps = start_value, final_value, total_steps

    def __call__(self, step: int) -> float:
        return _cosine(self.start_value, self.final_value, step / max(1, self.total_steps))


class WSD:
    """Warmup-stable-decay (AC training): linear ``start_value -> peak_value`` over ``warmup_steps``, constant
    ``peak_value`` for ``stable_steps``, then linear to ``final_value`` over ``decay_steps``."""

    def __init__(self, start_value: float, peak_value: float, final_value: float, warmup_steps: int,
                 stable_steps: int, decay_steps: int) -> None:
        self.warmup = Linear(start_value, peak_value, warmup_steps)
        self.decay = Linear(peak_value, final_value, decay_steps)
        self.decay_start = warmup_steps + stable_steps

    def __call__(self, step: int) -> float:
        return self.warmup(step) if step < self.decay_start else self.decay(step - self.decay_start)
