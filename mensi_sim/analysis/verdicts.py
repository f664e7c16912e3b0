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
        identical: ``"outcomes"`` when the two have the same value of every outcome that is
            not a cost in every replicate (``identical_columns``), ``"effect"`` when only
            the effect is the same in every replicate, else ``""``.
        cost_difference, cost_ci_low, cost_ci_high: Paired cost difference leader -
            runner-up with its 95% CI (NaN unless ``identical``): which one to prefer on
            cost, when its interval excludes 0.
    """

    leader: str
    runner_up: str
    difference: float
    ci_low: float
    ci_high: float
    distinguishable: bool
    n_pairs: int
    few: bool
    identical: str = ""
    cost_difference: float = math.nan
    cost_ci_low: float = math.nan
    cost_ci_high: float = math.nan

    def _identical_text(self, what: str) -> str:
        """Two leaders with the same outcomes in every replicate: no gap to test; the
        cheaper is named to prefer on cost only when its cost difference's CI excludes 0."""
        from mensi_sim.formats import fmt

        same = (
            "identical outcomes in every replicate"
            if self.identical == "outcomes"
            else f"the same {what} in every replicate"
        )
        text = (
            f"the two leading options, {self.leader} and {self.runner_up}, have {same} "
            f"(difference 0 in all {self.n_pairs})"
        )
        d, low, high = self.cost_difference, self.cost_ci_low, self.cost_ci_high
        if d == 0 and low == 0 and high == 0:
            return text + " and the same cost in every replicate: either will do"
        cheaper, dearer = (self.leader, self.runner_up) if d < 0 else (self.runner_up, self.leader)
        gap = (
            f"{fmt(abs(d), 'eur')} [{fmt(min(abs(low), abs(high)), 'eur')}, "
            f"{fmt(max(abs(low), abs(high)), 'eur')}]"
        )
        if low > 0 or high < 0:
            return (
                text + f"; {cheaper} costs {gap} less than {dearer} (paired 95% CI): prefer "
                f"{cheaper} on cost"
            )
        return (
            text + f"; their costs are not distinguishable either (difference "
            f"{fmt(d, 'deur')} [{fmt(low, 'deur')}, {fmt(high, 'deur')}], paired 95% CI "
            "includes 0)"
        )

    def sentence(
        self, what: str = "additional adopting schools", where: str = "", note: str = ""
    ) -> str:
        """The verdict in words: a leader, or "not distinguishable"; ``where`` (e.g. "at a
        budget of €400,000") opens it, ``note`` follows it in brackets."""
        gap = f"{self.difference:+.1f} [{self.ci_low:+.1f}, {self.ci_high:+.1f}]"
        if not self.runner_up:
            text = f"{self.leader} is the only option compared" + (f" ({note})" if note else "")
        elif self.identical:
            text = self._identical_text(what) + (f" ({note})" if note else "")
        elif self.distinguishable:
            text = (
                f"{self.leader} gives the most {what}, {gap} more than {self.runner_up} "
                f"(paired 95% CI{'; ' + note if note else ''})"
            )
        else:
            text = (
                f"{self.leader} and {self.runner_up} are not distinguishable in {what} "
                f"(difference {gap}, paired 95% CI includes 0): no winner can be named"
                + (f" ({note})" if note else "")
            )
        if self.few:
            text += f"; only {self.n_pairs} replicates: intervals are rough, add replicates"
        return f"{where}, {text}" if where else text


#: words in a summary column that make it a cost (``identical_columns`` leaves them out)
COST_WORDS = ("cost", "cash", "staff")


def identical_columns(summary: pd.DataFrame) -> list[str]:
    """The outcomes whose equality makes two options' outcomes identical: the numeric columns
    of the summary that are neither identifiers (replicate, seed) nor costs (``COST_WORDS``)."""
    return [
        c
        for c in summary.columns
        if c not in ("replicate", "seed")
        and pd.api.types.is_numeric_dtype(summary[c])
        and not pd.api.types.is_bool_dtype(summary[c])
        and not any(w in c for w in COST_WORDS)
    ]


def _identity(summary: pd.DataFrame, a: str, b: str, effect: str) -> str:
    """``"outcomes"``, ``"effect"`` or ``""``: what ``a`` and ``b`` share in every replicate."""
    x, y = paired(summary, a, b, effect)
    if x.size == 0 or not np.array_equal(x, y):
        return ""
    for column in identical_columns(summary):
        x, y = paired(summary, a, b, column)
        if not np.array_equal(x, y, equal_nan=True):
            return "effect"
    return "outcomes"


def leading_options(
    summary: pd.DataFrame,
    baseline: str | None = None,
    effect: str = EFFECT,
    level: float = 0.95,
    *,
    perspective: str = DEFAULT_PERSPECTIVE,
) -> Leading | None:
    """The option with the largest mean ``effect`` (baseline excluded) against the next one,
    on their paired difference; None with no option besides the baseline. When the two have
    the same effect in every replicate (``Leading.identical``), their paired cost difference
    (the cost of ``perspective``) says which to prefer on cost."""
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
    same = _identity(summary, leader, runner, effect)
    cost = (math.nan,) * 3
    column = cost_column(perspective)
    if same and column in summary.columns:
        ca, cb = paired(summary, leader, runner, column)
        cost = t_interval(ca - cb, level)[:3]
    return Leading(
        leader,
        runner,
        diff,
        low,
        high,
        distinct,
        int(a.size),
        a.size < FEW_REPLICATES,
        same,
        *cost,
    )


def _budget_mix(
    summary: pd.DataFrame, row: pd.Series, column: str, replicates: Sequence[int]
) -> np.ndarray:
    """A group's outcome at the budget, replicate by replicate: ``(1 - w) y_lower + w
    y_upper`` on ``replicates`` (the mix of ``at_budget``)."""

    def values(name: str) -> np.ndarray:
        part = summary[summary["scenario"] == name].drop_duplicates("replicate")
        return part.set_index("replicate")[column].loc[list(replicates)].to_numpy(float)

    w = float(row["weight"])
    if row["lower"] == row["upper"]:
        return values(str(row["lower"]))
    return (1 - w) * values(str(row["lower"])) + w * values(str(row["upper"]))


def budget_leading(
    summary: pd.DataFrame, budget: pd.DataFrame, effect: str = EFFECT, level: float = 0.95
) -> Leading | None:
    """At a fixed budget (the table of ``cost_effectiveness.at_budget``): the group whose mix
    adds the most ``effect`` against the runner-up, on the paired difference of their two
    mixes, replicate by replicate (the replicates the four sizes mixed all have); None when
    the table has no row of ``effect``."""
    rows = budget[budget["outcome"] == effect]
    if rows.empty:
        return None
    ranked = rows.sort_values("difference", ascending=False, kind="mergesort")
    top = ranked.iloc[0]
    if len(ranked) == 1:
        n = int(top["n_pairs"])
        return Leading(
            str(top["group"]), "", math.nan, math.nan, math.nan, True, n, n < FEW_REPLICATES
        )
    second = ranked.iloc[1]
    sizes = {str(r[k]) for r in (top, second) for k in ("lower", "upper")}
    common = None
    for name in sizes:
        reps = set(summary.loc[summary["scenario"] == name, "replicate"])
        common = reps if common is None else common & reps
    reps = sorted(common or ())
    d = _budget_mix(summary, top, effect, reps) - _budget_mix(summary, second, effect, reps)
    diff, low, high, _ = t_interval(d, level)
    distinct = bool(low > 0 or high < 0)
    return Leading(
        str(top["group"]),
        str(second["group"]),
        diff,
        low,
        high,
        distinct,
        len(reps),
        len(reps) < FEW_REPLICATES,
    )


def budget_sentence(
    summary: pd.DataFrame, budget: pd.DataFrame, effect: str = EFFECT, level: float = 0.95
) -> str | None:
    """The fixed-budget table's verdict in one sentence (``budget_leading``): the group that
    adds the most at the budget, against the runner-up, or "not distinguishable"; a group
    named that spends less than the budget (its largest size costs less) says so."""
    from mensi_sim.formats import fmt

    lead = budget_leading(summary, budget, effect, level)
    if lead is None:
        return None
    amount = float(budget["budget"].iloc[0])
    rows = budget[budget["outcome"] == effect].set_index("group")
    under = [
        f"{g} spends {fmt(float(rows.loc[g, 'spent']), 'eur')}, its largest size"
        for g in (lead.leader, lead.runner_up)
        if g and float(rows.loc[g, "spent"]) < amount
    ]
    return lead.sentence(where=f"at a budget of {fmt(amount, 'eur')}", note="; ".join(under))


def companion_psa(experiment: str, source: str | None = None) -> tuple[str, str] | None:
    """The PSA of an experiment, as (file, what ``mensi-sim sweep`` takes): a shipped
    experiment ``<name>_psa`` (``experiments/structures_psa.toml``, ``structures_psa``
    for ``structures``), else ``<stem>_psa.toml`` beside the experiment's file
    (``source``); None when there is none."""
    from pathlib import Path

    from mensi_sim import shipped

    name = f"{experiment}_psa"
    if name in shipped.names("experiments"):
        return f"experiments/{name}.toml", name
    if source:
        beside = Path(source).with_name(f"{Path(source).stem}_psa.toml")
        if beside.is_file():
            return str(beside), str(beside)
    return None


def parameter_caveat(experiment: str, source: str | None = None) -> str:
    """The line under the verdicts of an experiment without parameter draws: they cover the
    replicates' noise with the parameters fixed; the PSA that asks whether they hold across
    the uncertain parameters (``companion_psa``), or the way to make one."""
    head = "these verdicts cover replicate noise only, with the parameters fixed"
    psa = companion_psa(experiment, source)
    if psa is not None:
        return (
            f"{head}; whether they hold across the uncertain parameters is what the PSA "
            f"{psa[0]} asks (mensi-sim sweep {psa[1]}, then compare)"
        )
    return (
        f"{head}; an [uncertainty] table makes the experiment a PSA that asks whether they "
        "hold across the uncertain parameters (docs/EXPERIMENTS.md 4.9)"
    )


def distinct_resamples(replicates: int) -> int:
    """How many different bootstrap resamples ``replicates`` replicates have: the multisets
    of that size, ``C(2r - 1, r)`` (10 for 3 replicates, 462 for 6, 92,378 for 10)."""
    return math.comb(2 * replicates - 1, replicates) if replicates > 0 else 0


def _min_firm_replicates(level: float = VERDICT_PROBABILITY) -> int:
    r = 2
    while 2.0 ** (1 - r) > 1 - level:
        r += 1
    return r


#: fewest replicates at which a bootstrap probability may be called firm. A bootstrap
#: verdict that is a sign (a scheme dominated, on the frontier) holds in every resample
#: whenever the r paired differences all have one sign, since each replicate repeated r
#: times is a resample; with no difference at all that happens with probability
#: 2^(1 - r): 25% at 3 replicates (10 distinct resamples), 6.3% at 5 (126), 3.1% at 6
#: (462). Firm needs it at most 1 - VERDICT_PROBABILITY, so at least 6 replicates.
MIN_FIRM_REPLICATES = _min_firm_replicates()


def firmness(p: float, replicates: int | None = None) -> str:
    """``firm`` (p >= VERDICT_PROBABILITY), ``uncertain`` (0.5 <= p < it), ``unlikely``.

    ``replicates``: a bootstrap probability over that many replicates; below
    ``MIN_FIRM_REPLICATES`` a probability of VERDICT_PROBABILITY or more is ``too few
    replicates`` (a probability over parameter draws passes None)."""
    if not p == p:  # NaN
        return "unknown"
    if p >= VERDICT_PROBABILITY:
        if replicates is not None and replicates < MIN_FIRM_REPLICATES:
            return "too few replicates"
        return "firm"
    return "uncertain" if p >= 0.5 else "unlikely"
