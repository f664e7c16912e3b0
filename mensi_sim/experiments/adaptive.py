"""Adaptive replications: add replicates until every comparison's CI is narrow enough.

What is made precise is what the comparison reports: the paired difference of each
scenario from the baseline (``paired_round``, used whenever the experiment compares named
scenarios with a baseline), on the replicates both have; the baseline runs as many
replicates as the scenario that needs most. Without a baseline (a sample design), each
scenario's own mean (``adaptive_round``). A sweep starts from at least ``MIN_START`` = 10
replicates: from 2, a skewed outcome's spread is underestimated early, the rule stops too
soon, and the interval undercovers and the mean is biased low (tests/experiments/
test_adaptive.py measures the coverage on a lognormal outcome).

Rule (one round): for each scenario (or difference) with n >= 2 successful values among the
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

MIN_START = 10  # replicates before the first adaptive decision


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


def paired_round(
    values: Mapping[str, Mapping[int, float]],
    targets: Mapping[str, int],
    precision: float,
    cap: int,
    baseline: str,
) -> tuple[dict[str, int], dict[str, AdaptiveStatus]]:
    """New targets after a round, judged on each scenario's paired difference from the
    baseline (replicate r minus the baseline's replicate r, over the replicates both have).

    Args:
        values: Per scenario, replicate index -> outcome (successful replicates below the
            current target).
        baseline: The scenario every other is compared with; it is given the largest
            target of the others (its status: the widest of their half-widths).
    """
    base = values.get(baseline, {})
    new: dict[str, int] = {}
    status: dict[str, AdaptiveStatus] = {}
    widths = []
    for name, target in targets.items():
        if name == baseline:
            continue
        own = values.get(name, {})
        common = sorted(set(own) & set(base))
        d = np.array([own[r] - base[r] for r in common], dtype=float)
        h = half_width(d)
        n = d.size
        new[name] = target if n < 2 else max(target, next_target(target, h, precision, cap))
        status[name] = AdaptiveStatus(
            replications=len(own),
            half_width=h,
            reached=h <= precision,
            capped=target >= cap and h > precision,
        )
        widths.append(h)
    others = [new[n] for n in new]
    new[baseline] = max([targets.get(baseline, 0), *others]) if others else targets[baseline]
    worst = max(widths) if widths else math.inf
    status[baseline] = AdaptiveStatus(
        replications=len(base),
        half_width=worst,
        reached=all(s.reached for s in status.values()),
        capped=any(s.capped for s in status.values()),
    )
    return {n: new[n] for n in targets}, {n: status[n] for n in targets}
