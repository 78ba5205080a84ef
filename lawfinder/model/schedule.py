"""Learning-rate schedules as pure functions of the step: warmup–stable–decay (Flash-ANSR: linear 0 -> peak, hold,
linear -> 0) and warmup–cosine (scaling-laws paper: linear warmup, cosine annealing)."""

from __future__ import annotations

import math

SCHEDULES = ("wsd", "cosine", "constant")


def learning_rate(step: int, max_steps: int, peak: float, schedule: str = "wsd", warmup: float = 0.1,
                  stable: float = 0.7, min_ratio: float = 0.0) -> float:
    """LR used for optimiser step ``step`` (0-based) of ``max_steps``.

    ``warmup`` and ``stable`` are fractions of ``max_steps``; for "wsd" the rest is the decay, for "cosine" the rest
    is the cosine from ``peak`` down to ``min_ratio·peak``."""
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; choose one of {SCHEDULES}")
    if max_steps < 1:
        raise ValueError(f"max_steps must be >= 1, got {max_steps}")
    floor = min_ratio * peak
    warm = round(warmup * max_steps)
    if schedule == "constant":
        return peak
    if step < warm:
        return peak * (step + 1) / warm  # the first step already moves: 0 would waste it
    if schedule == "cosine":
        span = max(max_steps - warm, 1)
        progress = min((step - warm) / span, 1.0)
        return floor + (peak - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))
    hold_end = warm + round(stable * max_steps)
    if step < hold_end:
        return peak
    span = max(max_steps - hold_end, 1)
    progress = min((step - hold_end) / span, 1.0)
    return floor + (peak - floor) * (1.0 - progress)
