"""Paired comparisons against a baseline.

Replicate r of every scenario uses the same seed (common random numbers), so
scenario s and the baseline b are compared on the paired differences
``d_r = y_s,r - y_b,r`` over the replicates both have: mean, paired-t 95% CI, p-value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from mensi_sim.experiments.spec import DEFAULT_OUTCOMES, resolve_baseline
from mensi_sim.stats import holm_adjust, t_half_width

# the outcomes a comparison reports: the experiments' default outcomes of interest
COMPARE_OUTCOMES: tuple[str, ...] = DEFAULT_OUTCOMES


def scenario_names(summary: pd.DataFrame) -> list[str]:
    """The scenarios of a summary table, in order of first appearance."""
    return list(dict.fromkeys(summary["scenario"]))


def paired(
    summary: pd.DataFrame, scenario: str, baseline: str, column: str
) -> tuple[np.ndarray, np.ndarray]:
    """Values of ``column`` of the scenario and of the baseline on their common replicates."""
    a = summary.loc[summary["scenario"] == scenario, ["replicate", column]]
    b = summary.loc[summary["scenario"] == baseline, ["replicate", column]]
    m = a.merge(b, on="replicate", suffixes=("_s", "_b")).sort_values("replicate")
    return m[f"{column}_s"].to_numpy(float), m[f"{column}_b"].to_numpy(float)


def t_interval(d: np.ndarray, level: float = 0.95) -> tuple[float, float, float, float]:
    """Mean, CI low, CI high and two-sided p-value (H0: mean 0) of paired differences.

    With zero spread the interval is the point itself and p is 1 (mean 0) or 0.
    With fewer than two pairs the interval and p are NaN.
    """
    n = d.size
    if n == 0:
        return (math.nan,) * 4
    mean = float(d.mean())
    if n < 2:
        return mean, math.nan, math.nan, math.nan
    sd = float(d.std(ddof=1))
    if sd == 0.0:
        return mean, mean, mean, 1.0 if mean == 0 else 0.0
    half = float(t_half_width(sd, n, level))
    p = float(2 * stats.t.sf(abs(mean / (sd / math.sqrt(n))), n - 1))
    return mean, mean - half, mean + half, p


def paired_comparison(
    summary: pd.DataFrame,
    baseline: str | None = None,
    outcomes: Sequence[str] = COMPARE_OUTCOMES,
    level: float = 0.95,
) -> pd.DataFrame:
    """Paired difference of each outcome, every scenario against the baseline.

    Multiple comparisons: the schemes compared with the baseline on one outcome are one
    family; ``p_holm`` is its Holm-adjusted p-value (``stats.holm_adjust``) and
    ``significant`` (the star of ``compare``, the bold of the report) follows it:
    ``p_holm < 1 - level``. ``significant_unadjusted`` is the paired CI excluding 0.

    Returns:
        One row per (scenario, outcome): ``n_pairs``, ``mean`` (scenario),
        ``mean_baseline``, ``difference`` (mean paired difference), ``ci_low``,
        ``ci_high`` (paired t), ``p_value``, ``p_holm``, ``significant`` and
        ``significant_unadjusted``.

    Raises:
        KeyError: ``baseline`` is not a scenario of the summary.
    """
    names = scenario_names(summary)
    baseline = resolve_baseline(names, baseline)
    rows = []
    for name in names:
        if name == baseline:
            continue
        for outcome in outcomes:
            s, b = paired(summary, name, baseline, outcome)
            diff, low, high, p = t_interval(s - b, level)
            rows.append(
                {
                    "scenario": name,
                    "baseline": baseline,
                    "outcome": outcome,
                    "n_pairs": int(s.size),
                    "mean": float(s.mean()) if s.size else math.nan,
                    "mean_baseline": float(b.mean()) if b.size else math.nan,
                    "difference": diff,
                    "ci_low": low,
                    "ci_high": high,
                    "p_value": p,
                    "significant_unadjusted": bool(low > 0 or high < 0),
                }
            )
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["p_holm"] = np.nan
    for _, index in table.groupby("outcome", sort=False).groups.items():
        table.loc[index, "p_holm"] = holm_adjust(table.loc[index, "p_value"].to_numpy(float))
    table["significant"] = table["p_holm"] < 1 - level
    return table
