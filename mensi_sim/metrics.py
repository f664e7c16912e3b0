"""Outcomes: per-step metrics of the school state and per-run summaries, all vectorised."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mensi_sim.codes import CASH_CATEGORIES, COST_CATEGORIES

STEP_METRICS = (
    "adoption_share",
    "adoption_share_members",
    "adoption_share_outside",
    "mean_capacity",
    "equity_gap",
    "capacity_gini",
    "active_participants",
    "members",
    "coverage_disadvantaged",
    "dropouts",
    "meetings",
    *(f"cost_{c}" for c in COST_CATEGORIES),
    "cost_cash",
    "cost_total",
    "staff_hours",
)


def share(mask: np.ndarray, within: np.ndarray | None = None) -> float:
    """Share of ``within`` (default: all) for which ``mask`` holds; 0 when ``within`` is empty.

    ``mask`` and ``within`` are boolean. (Counts divided as Python ints: the same
    correctly rounded value as ``mask.mean()``, without numpy's per-call overhead.)
    """
    if within is None:
        return np.count_nonzero(mask) / mask.size if mask.size else 0.0
    count = np.count_nonzero(within)
    return np.count_nonzero(mask & within) / count if count else 0.0


#: OpenBLAS computes a dot product of more values than this on several threads
BLAS_ONE_THREAD_MAX = 10_000


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0: all equal); 0 for an all-zero vector.

    The rank-weighted sum is ``np.dot`` up to ``BLAS_ONE_THREAD_MAX`` values, where
    OpenBLAS uses one thread, and numpy's pairwise sum above: OpenBLAS would split it
    over threads, so that its last bits depended on the thread count (Dask workers run
    with one BLAS thread, local processes with one per core) and its spinning threads
    took a core from the step (twice the time per step at 250,000 schools on 2 cores).
    """
    x = np.sort(np.asarray(values, dtype=float))
    n, total = x.size, x.sum()
    if n == 0 or total <= 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    weighted = np.dot(ranks, x) if n <= BLAS_ONE_THREAD_MAX else np.add.reduce(ranks * x)
    return float(2.0 * weighted / (n * total) - (n + 1) / n)


def equity_gap(capacity: np.ndarray, disadvantaged: np.ndarray) -> float:
    """Mean capacity of other schools minus that of disadvantaged ones (0 if a group is empty)."""
    k = np.count_nonzero(disadvantaged)
    if k == 0 or k == disadvantaged.size:
        return 0.0
    return float(_mean(capacity[~disadvantaged]) - _mean(capacity[disadvantaged]))


def _mean(values: np.ndarray) -> np.float64:
    """``values.mean()`` (the same pairwise sum divided by the count) with less overhead."""
    return np.add.reduce(values) / values.size


def step_metrics(
    *,
    adopted: np.ndarray,
    capacity: np.ndarray,
    member: np.ndarray,
    active: np.ndarray,
    disadvantaged: np.ndarray,
    dropouts: int,
    meetings: int,
    cost_by_category: np.ndarray,
    staff_hours: float,
) -> np.ndarray:
    """One row of STEP_METRICS (costs and staff hours cumulative; costs in EUR)."""
    return np.array(
        [
            share(adopted),
            share(adopted, member),
            share(adopted, ~member),
            float(_mean(capacity)),
            equity_gap(capacity, disadvantaged),
            gini(capacity),
            float(np.count_nonzero(member & active)),
            float(np.count_nonzero(member)),
            share(member, disadvantaged),
            float(dropouts),
            float(meetings),
            *cost_by_category.tolist(),
            float(cost_by_category[_CASH_INDEX].sum()),
            float(cost_by_category.sum()),
            staff_hours,
        ]
    )


_CASH_INDEX = np.array([COST_CATEGORIES.index(c) for c in CASH_CATEGORIES])


SUMMARY_OUTCOMES = (
    "final_adoption_share",
    "end_adoption_share",
    "weeks_to_half_adoption",
    "capacity_gain",
    "final_equity_gap",
    "total_cash",
    "total_staff_time",
    "total_cost",
    "cost_per_adopting_school",
)


def weeks_to_share(adoption_share: np.ndarray, level: float = 0.5) -> tuple[float, bool]:
    """First recorded week at which the adoption share reaches ``level``.

    Returns (weeks, reached). When the share never reaches the level the value is
    censored at the last recorded week and ``reached`` is False.
    """
    hit = np.flatnonzero(adoption_share >= level)
    if hit.size:
        return float(hit[0]), True
    return float(adoption_share.size - 1), False


def programme_end_row(timeseries: pd.DataFrame) -> int:
    """Row of the state at the programme's end: after its last running week (the last row
    when it runs to the horizon; row 0 when it never ran)."""
    running = np.flatnonzero(timeseries["programme_running"].to_numpy())
    return int(running[-1]) if running.size else 0


def run_summary(
    timeseries: pd.DataFrame, n_schools: int, programme_years: float
) -> dict[str, float | int | bool]:
    """Per-run outcomes from one run's time series (rows = recorded weeks).

    ``final_*`` outcomes are at the horizon (the last row), ``end_*`` at the programme's
    end. Costs are cumulative to the horizon: cash (what the programme pays) and staff
    time (the schools' hours at their hour rates) apart and together. The ``*_per_participant_year``
    outcomes divide what the programme cost while it ran by the schools that took part
    (members at its end) and its length in years (``programme_years``).
    """
    first, last = timeseries.iloc[0], timeseries.iloc[-1]
    end = timeseries.iloc[programme_end_row(timeseries)]
    weeks, reached = weeks_to_share(timeseries["adoption_share"].to_numpy())
    adopters_initial = int(round(first["adoption_share"] * n_schools))
    adopters_final = int(round(last["adoption_share"] * n_schools))
    total_cost = float(last["cost_total"])
    participants = float(end["members"])
    per_year = participants * programme_years
    row: dict[str, float | int | bool] = {
        "final_adoption_share": float(last["adoption_share"]),
        "final_adoption_share_members": float(last["adoption_share_members"]),
        "final_adoption_share_outside": float(last["adoption_share_outside"]),
        "end_adoption_share": float(end["adoption_share"]),
        "weeks_to_half_adoption": weeks,
        "half_adoption_reached": reached,
        "initial_mean_capacity": float(first["mean_capacity"]),
        "final_mean_capacity": float(last["mean_capacity"]),
        "capacity_gain": float(last["mean_capacity"] - first["mean_capacity"]),
        "end_capacity_gain": float(end["mean_capacity"] - first["mean_capacity"]),
        "final_equity_gap": float(last["equity_gap"]),
        "final_capacity_gini": float(last["capacity_gini"]),
        "adopters_final": adopters_final,
        "adopters_end": int(round(end["adoption_share"] * n_schools)),
        "new_adopters": adopters_final - adopters_initial,
        "dropouts": int(last["dropouts"]),
        "meetings_total": int(timeseries["meetings"].sum()),
        "members_final": int(last["members"]),
        "end_coverage_disadvantaged": float(end["coverage_disadvantaged"]),
    }
    for category in COST_CATEGORIES:
        row[f"cost_{category}"] = float(last[f"cost_{category}"])
    row["total_cash"] = float(last["cost_cash"])
    row["total_staff_time"] = float(last["cost_staff_time"])
    row["total_cost"] = total_cost
    row["staff_hours"] = float(last["staff_hours"])
    # cost per school practising at the end (initial adopters included); the cost of each
    # *additional* adopter relative to a baseline is the comparison's incremental ratio
    row["cost_per_adopting_school"] = total_cost / max(adopters_final, 1)
    for name, column in (
        ("cost", "cost_total"),
        ("cash", "cost_cash"),
        ("staff_hours", "staff_hours"),
    ):
        row[f"{name}_per_participant_year"] = float(end[column]) / per_year if per_year else 0.0
    return row


def _summary_columns() -> tuple[str, ...]:
    """The columns ``run_summary`` returns, in order (from a two-row dummy series)."""
    dummy = pd.DataFrame({m: [0.0, 0.0] for m in STEP_METRICS})
    dummy["programme_running"] = [False, True]
    return tuple(run_summary(dummy, 1, 1.0))


#: every column of a run's summary row, in order
SUMMARY_COLUMNS = _summary_columns()
