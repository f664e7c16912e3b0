"""Adaptive replications: add replicates until every scenario's CI is narrow enough.

Rule (one round): for each scenario with n >= 2 successful replicates among the
replicates asked for so far, the 95% Student-t half-width is
``h = t(0.975, n - 1) * sd / sqrt(n)``. A scenario with ``h <= precision`` is done.
Otherwise the normal-theory projection ``n* = ceil(n (h / precision)^2)`` is the
number of replicates expected to reach the target; the next target is
``min(cap, max(n + 1, min(2 n, n*)))`` -- never more than doubling in one round, so a
noisy early estimate of the spread cannot overshoot by much. The rounds stop when
every scenario is done or at its cap.

Only replicates below the current target count, so that a sweep interrupted in
the middle of a round and resumed makes the same decisions as an uninterrupted one.
Stopping on an estimated spread makes the final interval's coverage slightly
below nominal (sequential stopping); docs/EXPERIMENTS.md says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from mensi_sim.stats import t_half_width


def half_width(values: Sequence[float] | np.ndarray, level: float = 0.95) -> float:
    """Half-width of the Student-t confidence interval of the mean (inf with < 2 values)."""
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        return math.inf
    return float(t_half_width(float(x.std(ddof=1)), x.size, level))


def next_target(n: int, h: float, precision: float, cap: int) -> int:
    """The replicate count to ask for next (== n when done or capped)."""
    if h <= precision or n >= cap:
        return n
    projected = math.ceil(n * (h / precision) ** 2) if math.isfinite(h) else 2 * n
    return min(cap, max(n + 1, min(2 * n, projected)))


@dataclass(frozen=True)
class AdaptiveStatus:
    """Where one scenario stands: replicates, half-width, and whether the target is met."""

    replications: int
    half_width: float
    reached: bool
    capped: bool


def adaptive_round(
    values: Mapping[str, Sequence[float]],
    targets: Mapping[str, int],
    precision: float,
    cap: int,
) -> tuple[dict[str, int], dict[str, AdaptiveStatus]]:
    """New targets and the status of each scenario after a round.

    Args:
        values: The outcome of the successful replicates below each scenario's target.
        targets: Replicates asked for so far, per scenario.
        precision: Target half-width.
        cap: Most replicates per scenario.
    """
    new, status = {}, {}
    for name, target in targets.items():
        x = values.get(name, ())
        h = half_width(x)
        n = len(x)
        if n < 2:  # failures: no spread to judge; do not ask for more
            new[name] = target
        else:
            new[name] = max(target, next_target(target, h, precision, cap))
        status[name] = AdaptiveStatus(
            replications=n,
            half_width=h,
            reached=h <= precision,
            capped=target >= cap and h > precision,
        )
    return new, status
