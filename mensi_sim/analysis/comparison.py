"""The comparison table: paired differences and cost-effectiveness, one row per scenario."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mensi_sim.analysis.cost_effectiveness import COST, EFFECT, cost_effectiveness
from mensi_sim.analysis.paired import COMPARE_OUTCOMES, paired_comparison, scenario_names
from mensi_sim.experiments.spec import resolve_baseline
from mensi_sim.results.checks import finite_problem

PAIRED_COLUMNS = ("mean", "difference", "ci_low", "ci_high", "p_value", "significant")


def comparison_table(
    summary: pd.DataFrame, baseline: str | None = None, level: float = 0.95
) -> pd.DataFrame:
    """One row per scenario: paired differences (wide) and the cost-effectiveness columns.

    Columns ``<outcome>_<mean|difference|ci_low|ci_high|p_value|significant>`` for
    every outcome of ``COMPARE_OUTCOMES``, then those of ``cost_effectiveness``; rows
    in its order (by mean cost). This is what ``mensi-sim compare`` writes as
    comparison.parquet.

    Raises:
        KeyError: ``baseline`` is not a scenario of the summary.
        ValueError: The cost or the effect is not a finite number in some run.
    """
    problem = finite_problem(summary, (COST, EFFECT))
    if problem is not None:
        raise ValueError(f"summary: {problem}; cannot compare costs")
    baseline = resolve_baseline(scenario_names(summary), baseline)
    ce = cost_effectiveness(summary, baseline, level=level)
    pc = paired_comparison(summary, baseline, level=level)
    wide = pd.DataFrame({"scenario": ce["scenario"]})
    for outcome in COMPARE_OUTCOMES:
        part = pc[pc["outcome"] == outcome].set_index("scenario")
        for col in PAIRED_COLUMNS:
            wide[f"{outcome}_{col}"] = wide["scenario"].map(part[col]) if len(part) else np.nan
        base_mean = summary.loc[summary["scenario"] == baseline, outcome].mean()
        wide.loc[wide["scenario"] == baseline, f"{outcome}_mean"] = base_mean
    return wide.merge(ce, on="scenario")
