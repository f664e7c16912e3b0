"""Small statistics used to report outcomes over replications."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def mean_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval (low, high) of independent replicates.

    With one replicate the interval is the point itself (no spread can be estimated).
    """
    x = np.asarray(values, dtype=float)
    mean = float(x.mean())
    if x.size < 2:
        return mean, mean, mean
    half = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
    return mean, mean - half, mean + half


def describe_outcomes(
    summary: pd.DataFrame, outcomes: tuple[str, ...], by: str = "scenario", level: float = 0.95
) -> pd.DataFrame:
    """Mean and confidence interval of each outcome per group: one row per (group, outcome)."""
    rows = []
    for group, frame in summary.groupby(by, sort=False):
        for outcome in outcomes:
            mean, low, high = mean_ci(frame[outcome].to_numpy(), level)
            rows.append(
                {
                    by: group,
                    "outcome": outcome,
                    "mean": mean,
                    "ci_low": low,
                    "ci_high": high,
                    "n": len(frame),
                }
            )
    return pd.DataFrame(rows)
