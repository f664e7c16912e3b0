"""Cost-effectiveness against a baseline, and outcomes at a fixed budget.

Per scheme, against the baseline: incremental cost per additional adopting school,
``ICER = mean(delta cost) / mean(delta adopters)``, with Fieller's 95% interval from
the paired differences (``analysis.paired``); dominance judged on the means and
flagged as significant when the paired CIs agree; and the cost-effectiveness
frontier (no strongly or extendedly dominated scheme), ordered by cost.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mensi_sim.analysis.paired import paired, scenario_names, t_interval
from mensi_sim.experiments.spec import resolve_baseline
from mensi_sim.stats import t_quantile

COST = "total_cost"  # the cost column of the default perspective (PERSPECTIVES)
EFFECT = "adopters_final"


#: cost perspectives of ICERs and budgets: the summary column each one counts
#: (docs/ASSUMPTIONS.md 8.1): ``total`` = cash + staff time (what the programme and the
#: schools give up), ``cash`` = what the programme pays (a ministry's budget)
PERSPECTIVES: dict[str, str] = {"total": "total_cost", "cash": "total_cash"}
DEFAULT_PERSPECTIVE = "total"


def cost_column(perspective: str) -> str:
    """The summary column of a cost perspective (``PERSPECTIVES``).

    Raises:
        ValueError: An unknown perspective, naming the allowed ones.
    """
    try:
        return PERSPECTIVES[perspective]
    except KeyError:
        allowed = ", ".join(PERSPECTIVES)
        raise ValueError(f"unknown cost perspective {perspective!r} (allowed: {allowed})") from None


@dataclass(frozen=True)
class FiellerSet:
    """Fieller's confidence set of a ratio: what it is and its ends.

    ``kind`` is ``"interval"`` (``[low, high]``), ``"two rays"`` (every value except the
    open range ``(low, high)``: ``R <= low`` or ``R >= high``), ``"whole line"`` (no
    information on the ratio; ``low`` and ``high`` are NaN) or ``"undefined"`` (fewer
    than two pairs).
    """

    kind: str
    low: float
    high: float

    @property
    def bounded(self) -> bool:
        return self.kind == "interval"

    def describe(self, unit: str = "") -> str:
        """One phrase saying what the set is (``unit`` formats the numbers)."""
        from mensi_sim.formats import fmt

        def f(x: float) -> str:
            return fmt(x, unit) if unit else f"{x:.4g}"

        if self.kind == "interval":
            return f"[{f(self.low)}, {f(self.high)}]"
        if self.kind == "two rays":
            return (
                f"<= {f(self.low)} or >= {f(self.high)} ({f(self.low)} to {f(self.high)} excluded)"
            )
        if self.kind == "whole line":
            return "any value (no information on the ratio)"
        return "undefined"


def fieller_set(dc: np.ndarray, de: np.ndarray, level: float = 0.95) -> FiellerSet:
    """Fieller's confidence set for mean(dc) / mean(de) from paired per-replicate differences.

    The ratios R with ``(a - R b)^2 <= t^2 (v11 - 2 R v12 + R^2 v22)``, a, b the means, v
    the (co)variances of the means and t the Student quantile with n - 1 degrees of
    freedom: ``qa R^2 - 2 qb R + qc <= 0`` with ``qa = b^2 - t^2 v22``,
    ``qb = a b - t^2 v12``, ``qc = a^2 - t^2 v11``. When the denominator differs
    significantly from 0 (``qa > 0``) it is the interval between the roots; otherwise the
    parabola opens downward and the set is the two rays outside the roots (when they
    exist) or the whole line.
    """
    n = dc.size
    if n < 2:
        return FiellerSet("undefined", math.nan, math.nan)
    a, b = float(dc.mean()), float(de.mean())
    cov = np.cov(dc, de, ddof=1) / n
    v11, v12, v22 = float(cov[0, 0]), float(cov[0, 1]), float(cov[1, 1])
    t2 = float(t_quantile(level, n - 1)) ** 2
    qa = b * b - t2 * v22
    qb = a * b - t2 * v12
    qc = a * a - t2 * v11
    disc = qb * qb - qa * qc
    if qa > 0:
        root = math.sqrt(max(disc, 0.0))
        return FiellerSet("interval", (qb - root) / qa, (qb + root) / qa)
    if qa < 0 and disc > 0:
        root = math.sqrt(disc)
        r1, r2 = sorted(((qb - root) / qa, (qb + root) / qa))
        return FiellerSet("two rays", r1, r2)
    return FiellerSet("whole line", math.nan, math.nan)


def fieller_interval(
    dc: np.ndarray, de: np.ndarray, level: float = 0.95
) -> tuple[float, float, bool]:
    """Fieller's interval as (low, high, bounded): NaN ends unless it is an interval
    (``fieller_set`` says what the unbounded set is)."""
    fs = fieller_set(dc, de, level)
    if fs.bounded:
        return fs.low, fs.high, True
    return math.nan, math.nan, False


def _dominance(dc: float, de: float) -> str:
    if dc <= 0 and de >= 0 and (dc < 0 or de > 0):
        return "dominates"
    if dc >= 0 and de <= 0 and (dc > 0 or de < 0):
        return "dominated"
    if dc == 0 and de == 0:
        return "equal"
    return "dearer and better" if dc > 0 else "cheaper and worse"


#: what an ICER against the baseline means, by the dominance on the means (``icer_reading``)
ICER_READINGS = {
    "baseline": "baseline",
    "equal": "undefined",
    "dominates": "dominant",
    "dominated": "dominated",
    "cheaper and worse": "saving",
    "dearer and better": "cost",
}


def icer_reading(dominance: str) -> str:
    """How to read the ICER of a scheme whose dominance against the baseline is
    ``dominance``: ``"cost"`` (dearer and better: extra EUR per additional adopting school),
    ``"saving"`` (cheaper and worse: the ratio is the EUR saved per adopting school forgone),
    ``"dominant"`` / ``"dominated"`` (cheaper and better / dearer and worse: the ratio,
    negative, means nothing and is not shown), ``"undefined"`` (no difference) or
    ``"baseline"``."""
    return ICER_READINGS.get(dominance, "cost")


def icer_text(row: pd.Series | Mapping[str, object], significance: bool = False) -> str:
    """The ICER of a row of ``cost_effectiveness`` (or of ``comparison_table``) as a table
    cell says it: with Fieller's set (an interval, two rays with the excluded range, or any
    value). A scheme cheaper and better (dearer and worse) than the baseline reads
    "dominant" ("dominated") instead of the negative ratio, which means nothing; cheaper and
    worse, the ratio is a saving: "saves €X [...] per adopting school forgone"
    (``icer_reading``). ``significance``: a dominance says whether the paired intervals bear
    it out, "(significant)" or "(on the means, not significant)" (for a table without a
    column of its own for ``dominance_significant``)."""
    from mensi_sim.formats import fmt

    reading = icer_reading(str(row.get("dominance", "")))
    if reading in ("dominant", "dominated"):
        if not significance:
            return reading
        sure = bool(row.get("dominance_significant", False))
        return f"{reading} ({'significant' if sure else 'on the means, not significant'})"
    note = str(row.get("icer_note", ""))
    if note.startswith("no difference"):
        return "undefined (no difference in adopters)"
    if note.startswith("Fieller"):
        ratio = (
            f"{fmt(row['icer'], 'eur')} [{fmt(row['icer_ci_low'], 'eur')}, "
            f"{fmt(row['icer_ci_high'], 'eur')}]"
        )
    elif row.get("icer_set") == "two rays":
        ratio = (
            f"{fmt(row['icer'], 'eur')} (two rays: <= {fmt(row['icer_excluded_low'], 'eur')} "
            f"or >= {fmt(row['icer_excluded_high'], 'eur')})"
        )
    else:
        ratio = f"{fmt(row['icer'], 'eur')} (CI unbounded: any value)"
    return f"saves {ratio} per adopting school forgone" if reading == "saving" else ratio


def _significant_direction(d: np.ndarray, sign: int, level: float) -> bool | None:
    """True if the paired CI is on the ``sign`` side of 0, None if all differences are 0."""
    if d.size and np.all(d == 0):
        return None
    _, low, high, _ = t_interval(d, level)
    return bool(low > 0) if sign > 0 else bool(high < 0)


def dominance_significant(
    dc: np.ndarray, de: np.ndarray, cost_sign: int, effect_sign: int, level: float = 0.95
) -> bool:
    """Whether dominance holds significantly: each non-zero difference's CI is on its side."""
    flags = [
        _significant_direction(dc, cost_sign, level),
        _significant_direction(de, effect_sign, level),
    ]
    real = [f for f in flags if f is not None]
    return bool(real) and all(real)


def frontier(costs: Mapping[str, float], effects: Mapping[str, float]) -> dict[str, str]:
    """Status of each scheme on the cost-effectiveness plane (means).

    ``"frontier"``; ``"dominated by X"`` (X costs no more and achieves no less, one of
    them strictly); ``"same as X"`` (equal means: only the first in cost order stays);
    or ``"extendedly dominated"`` (a mix of the neighbouring frontier schemes would
    achieve more at the same cost: its ICER exceeds the next one's).
    """
    names = sorted(costs, key=lambda n: (costs[n], -effects[n]))
    status: dict[str, str] = {}
    for n in names:
        for m in names:
            if m == n:
                continue
            if (
                costs[m] <= costs[n]
                and effects[m] >= effects[n]
                and (costs[m] < costs[n] or effects[m] > effects[n])
            ):
                status[n] = f"dominated by {m}"
                break
        else:
            if n in status:
                continue
            # equal cost and effect: keep the first in order only
            twins = [m for m in names if costs[m] == costs[n] and effects[m] == effects[n]]
            if twins[0] != n:
                status[n] = f"same as {twins[0]}"
    rest = [n for n in names if n not in status]
    changed = True
    while changed and len(rest) > 2:
        changed = False
        icers = [
            (costs[rest[i + 1]] - costs[rest[i]]) / (effects[rest[i + 1]] - effects[rest[i]])
            for i in range(len(rest) - 1)
        ]
        for i in range(len(icers) - 1):
            if icers[i] > icers[i + 1]:
                status[rest[i + 1]] = "extendedly dominated"
                del rest[i + 1]
                changed = True
                break
    for n in rest:
        status[n] = "frontier"
    return status


def dominators(
    name: str, means: Mapping[str, tuple[float, float]], first: str | None = None
) -> list[str]:
    """The schemes that dominate ``name`` on the means (``means``: scheme -> (mean cost,
    mean effect)): costing no more and achieving no less, one of them strictly; ``first``
    (the one ``frontier`` names) first, then the others by cost."""
    c, e = means[name]
    found = [
        m
        for m, (cm, em) in means.items()
        if m != name and cm <= c and em >= e and (cm < c or em > e)
    ]
    found.sort(key=lambda m: (m != first, means[m][0], -means[m][1]))
    return found


def cost_effectiveness(
    summary: pd.DataFrame,
    baseline: str | None = None,
    *,
    perspective: str = DEFAULT_PERSPECTIVE,
    cost: str | None = None,
    effect: str = EFFECT,
    level: float = 0.95,
) -> pd.DataFrame:
    """ICER per additional adopting school, dominance and the frontier, one row per scheme.

    The cost is that of the ``perspective`` (``PERSPECTIVES``: ``total``, the default, is
    cash + staff time; ``cash`` is what the programme pays), or the column ``cost``.
    ``icer_set`` says what Fieller's set is (``interval``, ``two rays``, ``whole line``);
    for two rays ``icer_ci_low``/``icer_ci_high`` are NaN and the excluded range is in
    ``icer_excluded_low``/``icer_excluded_high`` and in ``icer_note``.

    Returns:
        Columns: ``scenario``, ``mean_cost``, ``mean_effect``, ``delta_cost`` (+ CI),
        ``delta_effect`` (+ CI), ``icer`` (mean delta cost / mean delta effect, EUR per
        additional adopting school), ``icer_ci_low``/``icer_ci_high`` (Fieller),
        ``icer_note``, ``dominance`` (vs the baseline, on means),
        ``dominance_significant``, ``frontier`` (status), ``frontier_rank`` (order
        by cost on the frontier), ``frontier_icer`` (against the previous frontier
        scheme). Rows are ordered by mean cost.

    Raises:
        KeyError: ``baseline`` is not a scenario of the summary.
    """
    cost = cost if cost is not None else cost_column(perspective)
    names = scenario_names(summary)
    baseline = resolve_baseline(names, baseline)
    groups = summary.groupby("scenario", sort=False)
    mean_cost = groups[cost].mean().to_dict()
    mean_effect = groups[effect].mean().to_dict()
    status = frontier(mean_cost, mean_effect)
    rows = []
    for name in names:
        cs, cb = paired(summary, name, baseline, cost)
        es, eb = paired(summary, name, baseline, effect)
        dc, de = cs - cb, es - eb
        c_mean, c_low, c_high, _ = t_interval(dc, level)
        e_mean, e_low, e_high, _ = t_interval(de, level)
        row = {
            "scenario": name,
            "baseline": baseline,
            "n_pairs": int(dc.size),
            "mean_cost": mean_cost[name],
            "mean_effect": mean_effect[name],
            "delta_cost": c_mean,
            "delta_cost_ci_low": c_low,
            "delta_cost_ci_high": c_high,
            "delta_effect": e_mean,
            "delta_effect_ci_low": e_low,
            "delta_effect_ci_high": e_high,
        }
        if name == baseline:
            row.update(
                icer=math.nan,
                icer_ci_low=math.nan,
                icer_ci_high=math.nan,
                icer_set="",
                icer_excluded_low=math.nan,
                icer_excluded_high=math.nan,
                icer_note="baseline",
                dominance="baseline",
                dominance_significant=False,
            )
        else:
            icer = c_mean / e_mean if e_mean else math.nan
            fs = fieller_set(dc, de, level)
            low, high = (fs.low, fs.high) if fs.bounded else (math.nan, math.nan)
            if not e_mean:
                note = "no difference in adopters: ICER undefined"
            elif fs.bounded:
                note = "Fieller 95% CI"
            elif fs.kind == "two rays":
                note = (
                    "adopter difference CI includes 0: Fieller set is two rays, "
                    f"ICER <= {fs.low:,.0f} or >= {fs.high:,.0f} "
                    f"({fs.low:,.0f} to {fs.high:,.0f} excluded)"
                )
            else:
                note = "adopter difference CI includes 0: ICER CI unbounded (any value)"
            dom = _dominance(c_mean, e_mean)
            sig = False
            if dom == "dominates":
                sig = dominance_significant(dc, de, -1, +1, level)
            elif dom == "dominated":
                sig = dominance_significant(dc, de, +1, -1, level)
            row.update(
                icer=icer,
                icer_ci_low=low,
                icer_ci_high=high,
                icer_set=fs.kind,
                icer_excluded_low=fs.low if fs.kind == "two rays" else math.nan,
                icer_excluded_high=fs.high if fs.kind == "two rays" else math.nan,
                icer_note=note,
                dominance=dom,
                dominance_significant=sig,
            )
        row["frontier"] = status[name]
        row["perspective"] = perspective if cost == cost_column(perspective) else cost
        rows.append(row)
    table = pd.DataFrame(rows)
    table = table.sort_values(
        ["mean_cost", "mean_effect"], ascending=[True, False], kind="mergesort"
    ).reset_index(drop=True)
    on = table["frontier"] == "frontier"
    table["frontier_rank"] = pd.Series(pd.NA, index=table.index, dtype="Int64")
    table.loc[on, "frontier_rank"] = np.arange(1, int(on.sum()) + 1)
    front = table[on]
    step = (front["mean_cost"].diff() / front["mean_effect"].diff()).astype(float)
    table["frontier_icer"] = np.nan
    table.loc[on, "frontier_icer"] = step.to_numpy()
    # dominance of one scheme by another: significant when the paired CIs agree. The
    # status on the means names the cheapest scheme that dominates; when that dominance is
    # not significant but another dominating scheme's is, that one is named instead, so a
    # "dominated by X" is marked significant whenever some scheme significantly dominates
    pairs = zip(table["mean_cost"], table["mean_effect"], strict=True)
    mean_of = dict(zip(table["scenario"], pairs, strict=True))
    sig, named = [], []
    for name, st in zip(table["scenario"], table["frontier"], strict=True):
        if not st.startswith("dominated by "):
            sig.append(False)
            named.append(st)
            continue
        first = st.removeprefix("dominated by ")
        found = None
        for other in dominators(name, mean_of, first):
            cs, co = paired(summary, name, other, cost)
            es, eo = paired(summary, name, other, effect)
            if dominance_significant(cs - co, es - eo, +1, -1, level):
                found = other
                break
        sig.append(found is not None)
        named.append(f"dominated by {found if found is not None else first}")
    table["frontier"] = named
    table["frontier_dominance_significant"] = sig
    return table


def sizes_mixed(row) -> str:
    """A row of ``at_budget`` (or of the PSA's budget table) as its mix of sizes in words:
    ``virtual-k4`` for one size, ``top_down-k3 + 0.35 x top_down-k4`` for two."""
    if row["lower"] == row["upper"]:
        return str(row["lower"])
    return f"{row['lower']} + {row['weight']:.2f} x {row['upper']}"


def at_budget(
    summary: pd.DataFrame,
    groups: Mapping[str, str],
    budget: float,
    baseline: str | None = None,
    *,
    outcomes: Sequence[str] = ("adopters_final", "final_adoption_share", "capacity_gain"),
    perspective: str = DEFAULT_PERSPECTIVE,
    cost: str | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """What each group (e.g. structure) achieves when it may spend ``budget``.

    Each group's scenarios are sizes of one programme (e.g. 1-4 mentees per
    mentor); the baseline is the size 0 (no programme). Sorted by mean cost, the
    two sizes whose mean costs bracket the budget are mixed: running the larger
    in a share ``w = (B - C_lo) / (C_hi - C_lo)`` of the system and the smaller
    in the rest costs B in expectation and achieves
    ``(1 - w) y_lo + w y_hi`` -- linear interpolation on the cost-outcome curve,
    assuming the parts of the system do not interact. A budget above a group's
    largest size buys that size (``spent`` < budget). The mix is formed per
    replicate, so the comparison with the baseline stays paired. The budget is in the
    cost of ``perspective`` (``total`` by default, ``cash``: what the programme pays), or
    of the column ``cost``.

    Returns:
        One row per (group, outcome): ``lower``/``upper`` sizes mixed, ``weight``,
        ``spent`` (expected cost), ``mean``, ``difference`` from the baseline with
        paired-t ``ci_low``/``ci_high``.
    """
    cost = cost if cost is not None else cost_column(perspective)
    names = scenario_names(summary)
    baseline = resolve_baseline(names, baseline)
    means = summary.groupby("scenario", sort=False)[cost].mean()
    base_reps = summary.loc[summary["scenario"] == baseline, "replicate"]
    rows = []
    by_group: dict[str, list[str]] = {}
    for name in names:
        if name != baseline and name in groups:
            by_group.setdefault(groups[name], []).append(name)
    for group, members in by_group.items():
        ladder = sorted([baseline, *members], key=lambda n: means[n])
        costs = [float(means[n]) for n in ladder]
        if budget >= costs[-1]:
            lo = hi = ladder[-1]
            w, spent = 1.0, costs[-1]
        elif budget < costs[0]:
            lo = hi = ladder[0]
            w, spent = 0.0, costs[0]
        else:
            k = max(i for i, c in enumerate(costs) if c <= budget)
            lo, hi = ladder[k], ladder[k + 1]
            w = (budget - costs[k]) / (costs[k + 1] - costs[k])
            spent = budget
        common = set(base_reps)
        for n in {lo, hi}:
            common &= set(summary.loc[summary["scenario"] == n, "replicate"])
        reps = sorted(common)
        for outcome in outcomes:

            def values(n: str, outcome: str = outcome, reps: list = reps) -> np.ndarray:
                f = summary[summary["scenario"] == n].set_index("replicate")[outcome]
                return f.loc[reps].to_numpy(float)

            mix = (1 - w) * values(lo) + w * values(hi)
            diff, low, high, _ = t_interval(mix - values(baseline), level)
            rows.append(
                {
                    "group": group,
                    "outcome": outcome,
                    "budget": budget,
                    "cost": cost,
                    "lower": lo,
                    "upper": hi,
                    "weight": w,
                    "spent": spent,
                    "n_pairs": len(reps),
                    "mean": float(mix.mean()) if len(reps) else math.nan,
                    "difference": diff,
                    "ci_low": low,
                    "ci_high": high,
                }
            )
    return pd.DataFrame(rows)
