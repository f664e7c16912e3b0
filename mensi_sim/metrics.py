"""Outcomes: per-step metrics of the school state and per-run summaries, all vectorised."""

from __future__ import annotations

import functools
from dataclasses import dataclass

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
    "courses_enrolled",
    "course_completion_share",
    "mentee_gap_closure",
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
    return _gini_of_sorted(x, np.empty_like(x))


def _numpy_sorts_floats_by_simd() -> bool:
    """Whether ``np.sort`` of float64 runs numpy's vectorised quicksort on this CPU.

    numpy dispatches its sort at run time: x86-simd-sort with AVX-512 (numpy 1.25 on) or
    AVX2 (numpy 2 on), Highway's vqsort on Arm (numpy 2 on). A dispatch target counts
    when numpy found it on this CPU (``NPY_DISABLE_CPU_FEATURES`` turns one off). The
    feature table is numpy's own (``numpy.show_runtime`` prints it); where it cannot be
    read the answer is False, which only makes ``sort_into`` take its other path. Both
    paths give the same sorted array.
    """
    try:
        from numpy._core import _multiarray_umath as core
    except ImportError:  # numpy 1.x
        try:
            from numpy.core import _multiarray_umath as core
        except ImportError:
            return False
    features = getattr(core, "__cpu_features__", {})
    found = set(getattr(core, "__cpu_baseline__", ())) | {
        target for target in getattr(core, "__cpu_dispatch__", ()) if features.get(target)
    }
    vectorised = {"AVX512_SKX", "X86_V4"}
    if int(np.__version__.split(".")[0]) >= 2:
        vectorised |= {"AVX2", "X86_V3", "ASIMD", "NEON"}
    return bool(found & vectorised)


#: whether ``sort_into`` leaves the sort to ``np.sort`` (vectorised on this CPU)
SIMD_SORT = _numpy_sorts_floats_by_simd()

#: from this many values on, without ``SIMD_SORT``, ``sort_into`` first orders them by
#: 16-bit buckets
BUCKET_SORT_MIN = 2_000
_BUCKETS = 65535.0  # the largest 16-bit key


def sort_into(
    values: np.ndarray,
    out: np.ndarray,
    scratch: np.ndarray,
    keys: np.ndarray,
    *,
    simd: bool | None = None,
) -> None:
    """``values`` (non-negative, finite) sorted ascending into ``out``: ``np.sort``'s array.

    Where numpy's sort is vectorised (``simd``, by default ``SIMD_SORT``) it is
    ``np.sort``: at a million capacities 13 ms against 46 ms for the buckets below (AVX2,
    CPU time, one process). Otherwise, from ``BUCKET_SORT_MIN`` values on, the values are
    first put in order of a 16-bit bucket each (``value * 65535 / max``, truncated: a
    bucket never holds a larger value than the next), by numpy's stable sort of 16-bit
    keys, a radix sort; that order is sorted within each bucket by the stable sort
    (timsort), which finds it nearly sorted: 45 ms against 99 ms for numpy's scalar
    quicksort at a million capacities (the same CPU with ``NPY_DISABLE_CPU_FEATURES``).
    It is a complete sort (whatever the buckets, ``out`` ends sorted), so ``out`` holds
    the values ``np.sort`` gives either way. ``scratch`` (floats) and ``keys``
    (``uint16``) are work arrays of the same size; values that are not non-negative and
    finite are sorted by ``np.sort``.
    """
    n = values.size
    if SIMD_SORT if simd is None else simd:
        np.copyto(out, values)
        out.sort()
        return
    top = np.maximum.reduce(values) if n else 0.0
    if n < BUCKET_SORT_MIN or not (np.minimum.reduce(values) >= 0 and 0 < top < np.inf):
        np.copyto(out, values)
        out.sort()
        return
    np.multiply(values, _BUCKETS / top, out=scratch)
    keys[...] = scratch  # truncated: 0 .. 65535
    np.take(values, np.argsort(keys, kind="stable"), out=out)
    out.sort(kind="stable")


def _gini_of_sorted(x: np.ndarray, work: np.ndarray) -> float:
    """``gini`` of values already sorted ascending; ``work`` is scratch of the same size."""
    n, total = x.size, np.add.reduce(x)
    if n == 0 or total <= 0:
        return 0.0
    ranks = _ranks(n)
    if n <= BLAS_ONE_THREAD_MAX:
        weighted = np.dot(ranks, x)
    else:
        weighted = np.add.reduce(np.multiply(ranks, x, out=work))
    return float(2.0 * weighted / (n * total) - (n + 1) / n)


@functools.lru_cache(maxsize=4)
def _ranks(n: int) -> np.ndarray:
    """1, 2, ..., n as floats (exact), kept for the next week's Gini of as many schools."""
    ranks = np.arange(1, n + 1, dtype=float)
    ranks.setflags(write=False)
    return ranks


@dataclass(frozen=True)
class EquityGroups:
    """The disadvantaged schools and the others, by id (fixed for a run)."""

    disadvantaged: np.ndarray
    other: np.ndarray

    @classmethod
    def of(cls, disadvantaged: np.ndarray) -> EquityGroups:
        """The groups of a boolean mask."""
        return cls(np.flatnonzero(disadvantaged), np.flatnonzero(~disadvantaged))


def equity_gap(capacity: np.ndarray, disadvantaged: np.ndarray | EquityGroups) -> float:
    """Mean capacity of other schools minus that of disadvantaged ones (0 if a group is empty).

    ``disadvantaged`` is a boolean mask or its ``EquityGroups``. The others' sum is the
    total less the disadvantaged schools' sum (one pass over all schools, one over the
    disadvantaged).
    """
    groups = (
        disadvantaged
        if isinstance(disadvantaged, EquityGroups)
        else EquityGroups.of(np.asarray(disadvantaged, dtype=bool))
    )
    values = capacity[groups.disadvantaged]
    return _gap(np.add.reduce(capacity), np.add.reduce(values), groups)


def _gap(total: float, disadvantaged_total: float, groups: EquityGroups) -> float:
    k_dis, k_other = groups.disadvantaged.size, groups.other.size
    if k_dis == 0 or k_other == 0:
        return 0.0
    return float((total - disadvantaged_total) / k_other - disadvantaged_total / k_dis)


class MetricsRecorder:
    """The per-step metrics of one run (``STEP_METRICS``), week after week.

    Each quantity is computed once (the capacity total serves the mean and the equity
    gap; adopters, members and adopting members give the three shares), and the work
    arrays (the sorted capacities of the Gini, its sort keys, the products, the
    disadvantaged schools' capacities) are kept from week to week: a fresh array of a
    million schools each week costs its page faults. The Gini's sort is ``sort_into``.
    """

    def __init__(self, disadvantaged: np.ndarray | EquityGroups) -> None:
        groups = (
            disadvantaged
            if isinstance(disadvantaged, EquityGroups)
            else EquityGroups.of(np.asarray(disadvantaged, dtype=bool))
        )
        n = groups.disadvantaged.size + groups.other.size
        self.groups = groups
        self._sorted = np.empty(n)
        self._work = np.empty(n)
        self._keys = np.empty(n, dtype=np.uint16)
        self._both = np.empty(n, dtype=bool)
        self._dis = np.empty(groups.disadvantaged.size)

    def _covered(self, member: np.ndarray) -> float:
        """The share of disadvantaged schools that are members (0 without any)."""
        dis = self.groups.disadvantaged
        return np.count_nonzero(member[dis]) / dis.size if dis.size else 0.0

    def row(
        self,
        *,
        adopted: np.ndarray,
        capacity: np.ndarray,
        member: np.ndarray,
        active: np.ndarray,
        dropouts: int,
        meetings: int,
        cost_by_category: np.ndarray,
        staff_hours: float,
        courses_enrolled: int = 0,
        courses_completed: int = 0,
        gap_closed: np.ndarray | None = None,
    ) -> np.ndarray:
        """One row of STEP_METRICS (costs and staff hours cumulative; costs in EUR;
        ``cost_by_category`` the running totals, the ledger).

        ``courses_enrolled`` and ``course_completion_share`` count school enrolments over
        every course so far and the share of them completed (0 before any);
        ``mentee_gap_closure`` is the mean of ``gap_closed``, each week-0 mentee's share of
        its initial gap to its mentor closed since week 0 (0 without mentees): the
        learning-rate calibration target.
        """
        n = adopted.size
        both = self._both
        adopters = np.count_nonzero(adopted)
        members = np.count_nonzero(member)
        adopting_members = np.count_nonzero(np.logical_and(adopted, member, out=both))
        active_members = np.count_nonzero(np.logical_and(member, active, out=both))
        outside = n - members
        total = np.add.reduce(capacity)
        dis_total = np.add.reduce(np.take(capacity, self.groups.disadvantaged, out=self._dis))
        x = self._sorted
        sort_into(capacity, x, self._work, self._keys)
        return np.array(
            [
                adopters / n if n else 0.0,
                adopting_members / members if members else 0.0,
                (adopters - adopting_members) / outside if outside else 0.0,
                float(total / n) if n else float("nan"),
                _gap(total, dis_total, self.groups),
                _gini_of_sorted(x, self._work),
                float(active_members),
                float(members),
                self._covered(member),
                float(dropouts),
                float(meetings),
                *cost_by_category.tolist(),
                float(cost_by_category[_CASH_INDEX].sum()),
                float(cost_by_category.sum()),
                staff_hours,
                float(courses_enrolled),
                courses_completed / courses_enrolled if courses_enrolled else 0.0,
                float(np.add.reduce(gap_closed) / gap_closed.size)
                if gap_closed is not None and gap_closed.size
                else 0.0,
            ]
        )


def step_metrics(
    *,
    adopted: np.ndarray,
    capacity: np.ndarray,
    member: np.ndarray,
    active: np.ndarray,
    disadvantaged: np.ndarray | EquityGroups,
    dropouts: int,
    meetings: int,
    cost_by_category: np.ndarray,
    staff_hours: float,
    courses_enrolled: int = 0,
    courses_completed: int = 0,
    gap_closed: np.ndarray | None = None,
) -> np.ndarray:
    """One row of STEP_METRICS (``MetricsRecorder.row`` for one week)."""
    return MetricsRecorder(disadvantaged).row(
        adopted=adopted,
        capacity=capacity,
        member=member,
        active=active,
        dropouts=dropouts,
        meetings=meetings,
        cost_by_category=cost_by_category,
        staff_hours=staff_hours,
        courses_enrolled=courses_enrolled,
        courses_completed=courses_completed,
        gap_closed=gap_closed,
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
