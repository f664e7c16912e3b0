"""The Pareto front of an optimisation: fronts, their stability under replicate noise, the
knee, and the out-of-sample verdicts against the shipped programmes. Pure functions of
arrays and summary tables.

Objectives are *oriented* for minimisation (a maximised outcome is negated); constraints
are ``g <= 0`` when kept. Every mean is over the same replicates for every candidate
(common random numbers), so a bootstrap resample draws one set of replicate indices for
all candidates at once: it keeps the pairing that makes their differences precise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from mensi_sim.analysis.paired import paired, t_interval
from mensi_sim.stats import mean_ci


def front_of(f: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated rows of ``f`` among the feasible ones (all ``g <= 0``).

    With no feasible row, the rows of least total violation (pymoo's constraint
    domination ranks them first). Sorted ascending.
    """
    f = np.asarray(f, float)
    n = f.shape[0]
    if n == 0:
        return np.zeros(0, np.int64)
    g = np.asarray(g, float).reshape(n, -1)
    violation = np.clip(g, 0, None).sum(axis=1) if g.shape[1] else np.zeros(n)
    feasible = np.flatnonzero(violation <= 0)
    if feasible.size == 0:
        return np.flatnonzero(violation == violation.min())
    if feasible.size == 1:
        return feasible
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting  # pymoo: on demand

    nd = NonDominatedSorting().do(f[feasible], only_non_dominated_front=True)
    return np.sort(feasible[np.asarray(nd, dtype=np.int64)])


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """|a ∩ b| / |a ∪ b| of two index sets (1 when both are empty)."""
    sa, sb = set(np.asarray(a).tolist()), set(np.asarray(b).tolist())
    union = sa | sb
    return len(sa & sb) / len(union) if union else 1.0


def front_stability(y: np.ndarray, g: np.ndarray, n_boot: int, rng: np.random.Generator) -> float:
    """How stable the front is under replicate noise: the mean Jaccard similarity between
    the front of the replicate means and the fronts of ``n_boot`` bootstrap resamples.

    Args:
        y: (candidates, replicates, objectives), oriented for minimisation.
        g: (candidates, replicates, constraints), ``g <= 0`` kept (the constraints are
            means, so a resample's constraint is the mean of its replicates' values).
        n_boot: Bootstrap resamples; each draws one set of replicate indices for every
            candidate (common random numbers stay paired).
        rng: The resampling generator.

    Returns:
        1 when every resample has the same front as the full sample; near 0 when the
        front is noise.
    """
    n_rep = y.shape[1]
    full = front_of(y.mean(axis=1), g.mean(axis=1))
    sims = np.empty(n_boot)
    for b in range(n_boot):
        idx = rng.integers(0, n_rep, n_rep)
        sims[b] = jaccard(full, front_of(y[:, idx].mean(axis=1), g[:, idx].mean(axis=1)))
    return float(sims.mean())


#: a knee must lie this far (scaled units) above the line joining the front's ends
KNEE_TOLERANCE = 1e-9


def knee_point(benefit: np.ndarray, cost: np.ndarray) -> int | None:
    """The knee of a two-objective front (more benefit, less cost): the point farthest above
    the straight line joining its cheapest and its most beneficial point, both axes scaled to
    [0, 1]. None when no point lies above that line (returns do not diminish: a straight or
    convex front has no knee) or the front has fewer than three points."""
    benefit, cost = np.asarray(benefit, float), np.asarray(cost, float)
    n = benefit.size
    if n == 0:
        raise ValueError("an empty front has no knee")
    if n < 3:
        return None
    span_b = np.ptp(benefit) or 1.0
    span_c = np.ptp(cost) or 1.0
    b = (benefit - benefit.min()) / span_b
    c = (cost - cost.min()) / span_c
    lo, hi = int(np.argmin(c)), int(np.argmax(b))
    if lo == hi:
        return None
    # signed distance from the line through the cheapest and the most beneficial point:
    # positive above it (more benefit for the cost than the straight trade-off)
    dc, db = c[hi] - c[lo], b[hi] - b[lo]
    above = (dc * (b - b[lo]) - db * (c - c[lo])) / math.hypot(dc, db)
    best = int(np.argmax(above))
    return best if above[best] > KNEE_TOLERANCE else None


def spread_pick(values: np.ndarray, count: int) -> np.ndarray:
    """``count`` positions spread evenly over ``values`` sorted ascending (all if fewer)."""
    order = np.argsort(values, kind="stable")
    if order.size <= count:
        return order
    pick = np.unique(np.round(np.linspace(0, order.size - 1, count)).astype(int))
    return order[pick]


def outcome_intervals(
    summary: pd.DataFrame, names: Sequence[str], outcomes: Sequence[str], level: float = 0.95
) -> pd.DataFrame:
    """Mean and Student-t CI of each outcome per scenario: one row per scenario, columns
    ``<outcome>_mean``, ``_ci_low``, ``_ci_high`` and ``n``."""
    rows = []
    for name in names:
        part = summary.loc[summary["scenario"] == name]
        row: dict = {"scenario": name, "n": len(part)}
        for outcome in outcomes:
            if part.empty:
                mean = low = high = math.nan
            else:
                mean, low, high = mean_ci(part[outcome].to_numpy(float), level)
            row[f"{outcome}_mean"] = mean
            row[f"{outcome}_ci_low"] = low
            row[f"{outcome}_ci_high"] = high
        rows.append(row)
    return pd.DataFrame(rows)


def paired_against(
    summary: pd.DataFrame,
    designs: Sequence[str],
    programmes: Sequence[str],
    outcomes: dict[str, str],
    level: float = 0.95,
) -> pd.DataFrame:
    """Paired difference (design minus programme) of each outcome on common replicates.

    Args:
        summary: Summary rows of the designs and programmes on the same replicates.
        designs, programmes: Scenario names.
        outcomes: Outcome -> ``"max"`` or ``"min"`` (which side is better).

    Returns:
        One row per (design, programme, outcome): ``n_pairs``, ``difference``, ``ci_low``,
        ``ci_high``, ``p_value``, ``significant`` (the CI excludes 0) and ``better`` (the CI
        lies wholly on the better side of 0).
    """
    rows = []
    for design in designs:
        for programme in programmes:
            for outcome, sense in outcomes.items():
                s, b = paired(summary, design, programme, outcome)
                diff, low, high, p = t_interval(s - b, level)
                significant = bool(low > 0 or high < 0)
                better = bool(low > 0) if sense == "max" else bool(high < 0)
                rows.append(
                    {
                        "design": design,
                        "programme": programme,
                        "outcome": outcome,
                        "n_pairs": int(s.size),
                        "difference": diff,
                        "ci_low": low,
                        "ci_high": high,
                        "p_value": p,
                        "significant": significant,
                        "better": better,
                    }
                )
    return pd.DataFrame(rows)


#: relative (and absolute) difference below which two means are one value (a tie)
TIE_TOLERANCE = 1e-12


def regret_by_draw(outcomes: pd.DataFrame, sense: str = "max") -> pd.DataFrame:
    """Each design's regret under each draw: the best value of that draw minus its own
    (for ``sense = "min"``: its own minus the least), so 0 for the draw's best.

    Args:
        outcomes: One row per (``design``, ``draw``) with the design's mean ``value`` under
            that draw; only the draws every design has are used.
        sense: ``"max"`` when more is better, ``"min"`` when less is.

    Returns:
        One row per (design, draw), designs in first-seen order, draws ascending:
        ``design``, ``draw``, ``value``, ``regret``, ``best`` (it has the draw's best value;
        several designs may share it).
    """
    if sense not in ("max", "min"):
        raise ValueError(f"sense must be 'max' or 'min', got {sense!r}")
    designs = list(dict.fromkeys(outcomes["design"]))
    wide = outcomes.pivot(index="draw", columns="design", values="value")
    wide = wide.reindex(columns=designs).dropna().sort_index()
    v = wide.to_numpy(float)
    best = v.max(axis=1, keepdims=True) if sense == "max" else v.min(axis=1, keepdims=True)
    gap = (best - v) * (1.0 if sense == "max" else -1.0)
    # equal means summed in another order differ in the last bits (2/6 + 2/6 against
    # 1/6 + 3/6): such a design is tied with the best, its regret exactly 0
    gap[np.isclose(v, best, rtol=TIE_TOLERANCE, atol=TIE_TOLERANCE)] = 0.0
    return pd.DataFrame(
        {
            "design": np.repeat(designs, v.shape[0]),
            "draw": np.tile(wide.index.to_numpy(), len(designs)),
            "value": v.T.ravel(),
            "regret": gap.T.ravel(),
            "best": (gap == 0).T.ravel(),
        }
    )


def regret(outcomes: pd.DataFrame, sense: str = "max") -> pd.DataFrame:
    """The regret of each design across draws (``regret_by_draw``), summarised.

    Args:
        outcomes: One row per (``design``, ``draw``) with the design's mean ``value`` under
            that draw (e.g. adoption at the horizon under one PSA draw of the parameters,
            on common random numbers within the draw).
        sense: ``"max"`` when more is better, ``"min"`` when less is.

    Returns:
        One row per design: ``draws``, ``mean_value``, ``mean_regret``, ``max_regret`` and
        ``p_best`` (the share of draws in which it has the best value, a tie split evenly
        between the tied designs), sorted by ``max_regret`` then ``mean_regret`` (the
        minimax-regret design first).
    """
    long = regret_by_draw(outcomes, sense)
    designs = list(dict.fromkeys(long["design"]))
    n_best = long.groupby("draw")["best"].transform("sum")
    long = long.assign(share=long["best"] / n_best)
    grouped = long.groupby("design", sort=False)
    table = pd.DataFrame(
        {
            "design": designs,
            "draws": grouped.size().reindex(designs).to_numpy(),
            "mean_value": grouped["value"].mean().reindex(designs).to_numpy(),
            "mean_regret": grouped["regret"].mean().reindex(designs).to_numpy(),
            "max_regret": grouped["regret"].max().reindex(designs).to_numpy(),
            "p_best": grouped["share"].mean().reindex(designs).to_numpy(),
        }
    )
    return table.sort_values(["max_regret", "mean_regret", "design"], kind="mergesort").reset_index(
        drop=True
    )
