"""Honest verdicts: how sure a frontier or dominance verdict is, and who leads (if anyone).

A verdict on means ("virtual is on the frontier", "bottom_up is dominated by virtual",
"hybrid adds the most schools") can rest on a difference far smaller than its noise. Each
verdict here carries its probability:

- over the **replicates** (``bootstrap_verdicts``): the replicates are resampled with
  replacement, the same replicate indices for every scenario (so the common random
  numbers stay paired), and the frontier is decided again on each resample; the share of
  resamples that give the verdict is its probability;
- over the **draws** of a probabilistic sensitivity analysis (``analysis.psa``): the share
  of parameter draws under which it holds.

An option is called **better** (or a verdict **firm**) only when that probability is at least
``VERDICT_PROBABILITY`` = 0.95: the same evidence standard as the 95% intervals reported
beside it, so that no summary states more confidently than its intervals allow. Between
0.5 and 0.95 a verdict is reported as uncertain with its probability; two leading options
whose paired difference has a CI including 0 are **not distinguishable**.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mensi_sim.analysis.cost_effectiveness import (
    DEFAULT_PERSPECTIVE,
    EFFECT,
    cost_column,
    frontier,
)
from mensi_sim.analysis.paired import paired, scenario_names, t_interval
from mensi_sim.experiments.spec import resolve_baseline

#: probability at or above which a verdict is called firm ("better", "on the frontier")
VERDICT_PROBABILITY = 0.95
#: fewer replicates than this get a warning: intervals are rough and verdicts may flip
FEW_REPLICATES = 10
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 0  # a fixed seed: the same table gives the same probabilities


def common_matrix(
    summary: pd.DataFrame, names: Sequence[str], column: str
) -> tuple[np.ndarray, np.ndarray]:
    """Values of ``column`` as a (replicates, scenarios) matrix on the replicates every
    scenario has, and those replicate indices."""
    wide = summary.pivot_table(index="replicate", columns="scenario", values=column)
    wide = wide.reindex(columns=list(names)).dropna()
    return wide.to_numpy(float), wide.index.to_numpy()


def status_kind(status: str) -> str:
    """The verdict of a frontier status without the scheme it names: ``"dominated by
    virtual"`` and ``"dominated by hybrid"`` are both ``"dominated"``, ``"same as X"`` is
    ``"same"``. A scheme dominated in every resample is firmly dominated, whichever scheme
    dominates it in each (the status on the means names that one)."""
    for kind, prefix in (("dominated", "dominated by "), ("same", "same as ")):
        if status.startswith(prefix):
            return kind
    return status


def bootstrap_verdicts(
    summary: pd.DataFrame,
    baseline: str | None = None,
    *,
    perspective: str = DEFAULT_PERSPECTIVE,
    cost: str | None = None,
    effect: str = EFFECT,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> pd.DataFrame:
    """Probability of each scheme's frontier status over bootstrap resamples of replicates.

    Returns:
        One row per scheme: ``p_frontier`` (share of resamples in which it is on the
        frontier), ``p_status`` (share giving the kind of status decided on the full
        means: on the frontier, dominated, extendedly dominated; ``status_kind``: which
        scheme dominates it may differ from resample to resample), ``p_most_effective``
        (share in which it has the largest mean effect), ``bootstrap_replicates``
        (replicates resampled).
    """
    cost = cost if cost is not None else cost_column(perspective)
    names = scenario_names(summary)
    resolve_baseline(names, baseline)
    c, reps = common_matrix(summary, names, cost)
    e, _ = common_matrix(summary, names, effect)
    n = len(reps)
    status = frontier(
        dict(zip(names, c.mean(0), strict=True)), dict(zip(names, e.mean(0), strict=True))
    )
    on = np.zeros(len(names))
    same = np.zeros(len(names))
    top = np.zeros(len(names))
    if n >= 2:
        rng = np.random.default_rng(seed)
        weights = rng.multinomial(n, np.full(n, 1.0 / n), size=resamples) / n
        cb, eb = weights @ c, weights @ e
        for b in range(resamples):
            st = frontier(
                dict(zip(names, cb[b], strict=True)), dict(zip(names, eb[b], strict=True))
            )
            for i, name in enumerate(names):
                on[i] += st[name] == "frontier"
                same[i] += status_kind(st[name]) == status_kind(status[name])
            best = np.flatnonzero(eb[b] == eb[b].max())
            top[best] += 1.0 / best.size
        on, same, top = on / resamples, same / resamples, top / resamples
    else:
        on[:] = same[:] = top[:] = math.nan
    return pd.DataFrame(
        {
            "scenario": names,
            "p_frontier": on,
            "p_status": same,
            "p_most_effective": top,
            "bootstrap_replicates": n,
        }
    )


@dataclass(frozen=True)
class Leading:
    """Who adds the most (effect against the baseline), and whether that is distinguishable.

    Attributes:
        leader, runner_up: The two options with the largest mean effect (runner_up "" when
            there is one option).
        difference, ci_low, ci_high: Paired difference leader - runner-up, 95% CI.
        distinguishable: The CI excludes 0.
        n_pairs: Replicates (or draws) the difference is over.
        few: Fewer than ``FEW_REPLICATES`` pairs.
    """

    leader: str
    runner_up: str
    difference: float
    ci_low: float
    ci_high: float
    distinguishable: bool
    n_pairs: int
    few: bool

    def sentence(self, what: str = "additional adopting schools") -> str:
        """The verdict in words: a leader, or "not distinguishable"."""
        gap = f"{self.difference:+.1f} [{self.ci_low:+.1f}, {self.ci_high:+.1f}]"
        if not self.runner_up:
            text = f"{self.leader} is the only option compared"
        elif self.distinguishable:
            text = (
                f"{self.leader} gives the most {what}, {gap} more than {self.runner_up} "
                "(paired 95% CI)"
            )
        else:
            text = (
                f"{self.leader} and {self.runner_up} are not distinguishable in {what} "
                f"(difference {gap}, paired 95% CI includes 0): no winner can be named"
            )
        if self.few:
            text += f"; only {self.n_pairs} replicates: intervals are rough, add replicates"
        return text


def leading_options(
    summary: pd.DataFrame,
    baseline: str | None = None,
    effect: str = EFFECT,
    level: float = 0.95,
) -> Leading | None:
    """The option with the largest mean ``effect`` (baseline excluded) against the next one,
    on their paired difference; None with no option besides the baseline."""
    names = scenario_names(summary)
    base = resolve_baseline(names, baseline)
    others = [n for n in names if n != base]
    if not others:
        return None
    means = summary.groupby("scenario", sort=False)[effect].mean()
    ranked = sorted(others, key=lambda n: -means[n])
    leader = ranked[0]
    if len(ranked) == 1:
        n = int((summary["scenario"] == leader).sum())
        return Leading(leader, "", math.nan, math.nan, math.nan, True, n, n < FEW_REPLICATES)
    runner = ranked[1]
    a, b = paired(summary, leader, runner, effect)
    diff, low, high, _ = t_interval(a - b, level)
    distinct = bool(low > 0 or high < 0)
    return Leading(leader, runner, diff, low, high, distinct, int(a.size), a.size < FEW_REPLICATES)


def firmness(p: float) -> str:
    """``firm`` (p >= VERDICT_PROBABILITY), ``uncertain`` (0.5 <= p < it), ``unlikely``."""
    if not p == p:  # NaN
        return "unknown"
    if p >= VERDICT_PROBABILITY:
        return "firm"
    return "uncertain" if p >= 0.5 else "unlikely"
