"""The per-step metrics: MetricsRecorder keeps work arrays from week to week; the rows it
gives must not depend on the weeks before, and must equal the textbook definitions."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from mensi_sim.codes import CASH_CATEGORIES, COST_CATEGORIES
from mensi_sim.metrics import (
    BUCKET_SORT_MIN,
    STEP_METRICS,
    MetricsRecorder,
    sort_into,
    step_metrics,
)

COLUMN = {name: i for i, name in enumerate(STEP_METRICS)}


def _week(rng: np.random.Generator, n: int) -> dict:
    enrolled = int(rng.integers(1, 50))
    return dict(
        adopted=rng.random(n) < 0.3,
        capacity=rng.random(n),
        member=rng.random(n) < 0.2,
        active=rng.random(n) < 0.5,
        dropouts=int(rng.integers(10)),
        meetings=int(rng.integers(100)),
        cost_by_category=rng.random(len(COST_CATEGORIES)) * 1e4,
        staff_hours=float(rng.random()),
        courses_enrolled=enrolled,
        courses_completed=int(rng.integers(enrolled + 1)),
        gap_closed=rng.random(int(rng.integers(1, 30))),
    )


@pytest.mark.parametrize("n", [7, 12_000])  # both sides of BLAS_ONE_THREAD_MAX
def test_a_recorder_reused_over_weeks_gives_each_week_its_own_row(n):
    rng = np.random.default_rng(3)
    disadvantaged = rng.random(n) < 0.4
    recorder = MetricsRecorder(disadvantaged)
    for _ in range(4):
        week = _week(rng, n)
        np.testing.assert_array_equal(
            recorder.row(**week), step_metrics(disadvantaged=disadvantaged, **week)
        )


def test_the_row_matches_the_definitions():
    rng = np.random.default_rng(5)
    n = 2_000
    disadvantaged = rng.random(n) < 0.25
    week = _week(rng, n)
    row = MetricsRecorder(disadvantaged).row(**week)
    cap, adopted, member = week["capacity"], week["adopted"], week["member"]
    assert row[COLUMN["adoption_share"]] == pytest.approx(adopted.mean(), rel=1e-15)
    assert row[COLUMN["adoption_share_members"]] == pytest.approx(adopted[member].mean())
    assert row[COLUMN["adoption_share_outside"]] == pytest.approx(adopted[~member].mean())
    assert row[COLUMN["mean_capacity"]] == pytest.approx(cap.mean(), rel=1e-14)
    # the gap is computed as (total - disadvantaged total) / others: the same to rounding
    gap = cap[~disadvantaged].mean() - cap[disadvantaged].mean()
    assert row[COLUMN["equity_gap"]] == pytest.approx(gap, rel=1e-12, abs=1e-14)
    # Gini as the mean absolute difference over twice the mean (O(n^2), the definition)
    mad = np.abs(cap[:, None] - cap[None, :]).mean()
    assert row[COLUMN["capacity_gini"]] == pytest.approx(mad / (2 * cap.mean()), rel=1e-12)
    assert row[COLUMN["active_participants"]] == np.count_nonzero(member & week["active"])
    assert row[COLUMN["members"]] == np.count_nonzero(member)
    dis = disadvantaged
    assert row[COLUMN["coverage_disadvantaged"]] == pytest.approx(member[dis].mean())
    assert row[COLUMN["dropouts"]] == week["dropouts"]
    assert row[COLUMN["meetings"]] == week["meetings"]
    cost = week["cost_by_category"]
    for k, category in enumerate(COST_CATEGORIES):  # the ledger's totals, as given
        assert row[COLUMN[f"cost_{category}"]] == cost[k]
    cash = sum(cost[COST_CATEGORIES.index(c)] for c in CASH_CATEGORIES)
    assert "staff_time" not in CASH_CATEGORIES  # cash: all but the staff time
    assert row[COLUMN["cost_cash"]] == pytest.approx(cash, rel=1e-15)
    assert row[COLUMN["cost_total"]] == pytest.approx(cost.sum(), rel=1e-15)
    assert row[COLUMN["staff_hours"]] == week["staff_hours"]
    assert row[COLUMN["courses_enrolled"]] == week["courses_enrolled"]
    assert row[COLUMN["course_completion_share"]] == pytest.approx(
        week["courses_completed"] / week["courses_enrolled"], rel=1e-15
    )
    assert row[COLUMN["mentee_gap_closure"]] == pytest.approx(week["gap_closed"].mean())


def test_without_courses_or_mentees_their_metrics_are_zero():
    rng = np.random.default_rng(8)
    week = {**_week(rng, 40), "courses_enrolled": 0, "courses_completed": 0, "gap_closed": None}
    row = MetricsRecorder(rng.random(40) < 0.3).row(**week)
    assert row[COLUMN["course_completion_share"]] == 0.0
    assert row[COLUMN["mentee_gap_closure"]] == 0.0
    week["gap_closed"] = np.zeros(0)
    assert MetricsRecorder(rng.random(40) < 0.3).row(**week)[COLUMN["mentee_gap_closure"]] == 0.0


def test_an_empty_group_gives_no_gap():
    rng = np.random.default_rng(1)
    week = _week(rng, 50)
    for mask in (np.zeros(50, bool), np.ones(50, bool)):
        assert MetricsRecorder(mask).row(**week)[COLUMN["equity_gap"]] == 0.0


def _sorted_by_sort_into(values: np.ndarray, simd: bool) -> np.ndarray:
    out = np.empty(values.size)
    sort_into(values, out, np.empty(values.size), np.empty(values.size, dtype=np.uint16), simd=simd)
    return out


# both paths on every machine: numpy's vectorised sort, and the buckets used without it
both_paths = pytest.mark.parametrize("simd", [True, False], ids=["np.sort", "buckets"])


@pytest.mark.parametrize(
    "values",
    [
        np.random.default_rng(1).random(50_000),  # about one value per bucket
        np.random.default_rng(2).beta(2.0, 5.0, 300_000),  # several per bucket, skewed
        np.round(np.random.default_rng(3).random(20_000), 2),  # many equal values
        np.r_[np.zeros(5_000), np.random.default_rng(4).random(5_000) * 1e-12],  # near 0
        np.random.default_rng(5).random(10_000) * 1e6,  # not capacities: above 1
        np.full(BUCKET_SORT_MIN, 0.25),  # one bucket
        np.zeros(BUCKET_SORT_MIN),  # no maximum to scale by: np.sort
        np.r_[-1.0, np.random.default_rng(6).random(9_999)],  # negative: np.sort
        np.random.default_rng(7).random(BUCKET_SORT_MIN - 1),  # below the bucket sort
    ],
)
@both_paths
def test_the_gini_sort_gives_numpys_sorted_array(values, simd):
    assert np.array_equal(_sorted_by_sort_into(values, simd), np.sort(values))


@both_paths
def test_the_gini_sort_of_capacities_changed_a_little_week_after_week(simd):
    # a week's capacities are last week's plus small changes: the case the sort meets
    rng = np.random.default_rng(8)
    capacity = rng.beta(2.0, 3.0, 100_000)
    for _ in range(3):
        capacity = np.clip(capacity + rng.normal(0, 1e-3, capacity.size), 0.0, 1.0)
        assert np.array_equal(_sorted_by_sort_into(capacity, simd), np.sort(capacity))


def _simd_sort_in_a_fresh_numpy(disabled: str | None) -> tuple[bool, list, list]:
    """SIMD_SORT, numpy's dispatch targets and its baseline, read in a fresh interpreter
    (numpy reads NPY_DISABLE_CPU_FEATURES once, at import)."""
    env = {k: v for k, v in os.environ.items() if k != "NPY_DISABLE_CPU_FEATURES"}
    if disabled is not None:
        env["NPY_DISABLE_CPU_FEATURES"] = disabled
    code = (
        "import json, numpy\n"
        "from mensi_sim.metrics import SIMD_SORT\n"
        "try:\n"
        "    from numpy._core import _multiarray_umath as core\n"
        "except ImportError:\n"
        "    from numpy.core import _multiarray_umath as core\n"
        "print(json.dumps([SIMD_SORT, list(core.__cpu_dispatch__), list(core.__cpu_baseline__)]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    simd, dispatch, baseline = json.loads(done.stdout.strip().splitlines()[-1])
    return simd, dispatch, baseline


def test_the_sort_follows_the_cpu_features_numpy_dispatches_to():
    # with every dispatch target turned off, numpy sorts with its baseline only: the
    # vectorised sort is there only where the baseline has it (Arm's ASIMD), never on x86
    _, dispatch, baseline = _simd_sort_in_a_fresh_numpy(None)
    simd_off, _, _ = _simd_sort_in_a_fresh_numpy(" ".join(dispatch))
    numpy_2 = int(np.__version__.split(".")[0]) >= 2
    assert simd_off == (numpy_2 and bool({"ASIMD", "NEON"} & set(baseline)))
