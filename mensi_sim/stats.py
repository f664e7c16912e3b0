"""Small statistics used to report outcomes over replications.

The Student-t half-width of a mean's confidence interval lives here, once: every
interval of the package (headline outcomes, paired differences, adaptive
replications, the bands of the figures) is built from ``t_half_width``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def t_quantile(level: float, df: float | np.ndarray) -> float | np.ndarray:
    """The two-sided Student-t quantile ``t(0.5 + level / 2, df)``.

    ``scipy.special.stdtrit``, the function ``scipy.stats.t.ppf`` evaluates (the same
    values), imported here: scipy.stats takes a second to import.
    """
    from scipy.special import stdtrit

    return stdtrit(df, 0.5 + level / 2)


def t_half_width(
    sd: float | np.ndarray, n: float | np.ndarray, level: float = 0.95
) -> float | np.ndarray:
    """Half-width of the Student-t confidence interval of a mean of n >= 2 values.

    ``h = t(0.5 + level / 2, n - 1) * sd / sqrt(n)``, with ``sd`` the sample standard
    deviation (ddof = 1). Vectorised over ``sd`` and ``n``.
    """
    return t_quantile(level, np.asarray(n) - 1) * sd / np.sqrt(n)


def mean_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval (low, high) of independent replicates.

    With one replicate the interval is the point itself (no spread can be estimated).
    """
    x = np.asarray(values, dtype=float)
    mean = float(x.mean())
    if x.size < 2:
        return mean, mean, mean
    half = float(t_half_width(x.std(ddof=1), x.size, level))
    return mean, mean - half, mean + half


def describe_outcomes(
    summary: pd.DataFrame, outcomes: tuple[str, ...], by: str = "scenario", level: float = 0.95
) -> pd.DataFrame:
    """Mean and confidence interval of each outcome per group: one row per (group, outcome).

    A group of one replicate has the interval NaN: no spread can be estimated from it.
    """
    rows = []
    for group, frame in summary.groupby(by, sort=False):
        for outcome in outcomes:
            mean, low, high = mean_ci(frame[outcome].to_numpy(), level)
            if len(frame) < 2:  # no spread from one replicate: no interval, not a point
                low = high = float("nan")
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


def holm_adjust(p_values: np.ndarray | list[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values of one family of tests (NaN stays NaN).

    With the m finite p-values sorted, ``p_(i)`` becomes ``max_{j <= i} min(1, (m - j + 1)
    p_(j))``; rejecting where the adjusted value is below alpha controls the family-wise
    error rate at alpha (Holm 1979). Written here, not imported: these few lines are all
    of it, and statsmodels (which has ``multipletests``) is not otherwise a dependency.
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    m = finite.size
    if m == 0:
        return out
    order = finite[np.argsort(p[finite], kind="mergesort")]
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(scaled)
    return out
