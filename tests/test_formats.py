"""The shared small pieces: the one number formatter, the outcome table, the t half-width."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mensi_sim.codes import COST_CATEGORIES
from mensi_sim.formats import KINDS, fmt, with_ci
from mensi_sim.metrics import SUMMARY_OUTCOMES
from mensi_sim.outcomes import OUTCOME_FORMATS, cost_label, cost_labels, format_of
from mensi_sim.stats import mean_ci, t_half_width


@pytest.mark.parametrize(
    ("value", "kind", "text"),
    [
        (0.253, "pct", "25.3%"),
        (0.021, "dpct", "+2.1pp"),
        (-0.021, "pp", "-2.1 pp"),
        (1234.4, "eur", "€1,234"),
        (-1234.4, "eur", "-€1,234"),
        (1234.4, "deur", "+€1,234"),
        (0.0, "deur", "€0"),
        (2.46, "num1", "2.5"),
        (2.46, "signed1", "+2.5"),
        (0.1254, "num3", "0.125"),
        (-0.1254, "signed3", "-0.125"),
        (1234.6, "int", "1,235"),
        (1234.5678, "other", "1235"),
        (math.inf, "pct", "inf%"),
        (np.int64(3), "num1", "3.0"),
    ],
)
def test_fmt_writes_each_kind(value, kind, text) -> None:
    assert fmt(value, kind) == text


@pytest.mark.parametrize("missing", [None, math.nan, np.nan, pd.NA, "x"])
def test_fmt_missing_is_na_in_every_kind(missing) -> None:
    assert {fmt(missing, k) for k in KINDS} == {"n/a"}


def test_with_ci_leaves_out_a_missing_interval() -> None:
    assert with_ci(0.5, 0.4, 0.6, "pct") == "50.0% [40.0%, 60.0%]"
    assert with_ci(0.5, math.nan, 0.6, "pct") == "50.0%"


def test_every_headline_outcome_has_a_row_and_new_ones_fall_back() -> None:
    assert set(SUMMARY_OUTCOMES) <= set(OUTCOME_FORMATS)
    assert {f.kind for f in OUTCOME_FORMATS.values()} <= set(KINDS)
    assert {f.change_kind for f in OUTCOME_FORMATS.values()} <= set(KINDS)
    # an outcome the model may add later: its own name, a format guessed from the name
    cash = format_of("total_cash_cost")
    assert (cash.label, cash.kind, cash.change_kind) == ("total_cash_cost", "eur", "deur")
    assert format_of("final_adoption_share_horizon").kind == "pct"
    assert format_of("meetings_total").kind == "num1"
    assert format_of("final_capacity_gini").kind == "num3"


def test_every_cost_category_has_a_label() -> None:
    assert list(cost_labels()) == list(COST_CATEGORIES)
    assert cost_label("staff_time") == "Staff time"
    assert cost_label("cash_other") == "Cash other"  # a category without an entry


def test_t_half_width_is_scipys_interval() -> None:
    x = np.array([1.0, 2.0, 4.0, 7.0, 3.0])
    ci = stats.ttest_1samp(x, 0.0).confidence_interval(0.9)
    half = t_half_width(x.std(ddof=1), x.size, 0.9)
    assert (x.mean() - half, x.mean() + half) == pytest.approx((ci.low, ci.high))
    vector = t_half_width(np.array([1.0, 2.0]), np.array([4, 9]))
    assert vector == pytest.approx(
        [stats.t.ppf(0.975, 3) * 1.0 / 2, stats.t.ppf(0.975, 8) * 2.0 / 3]
    )
    assert mean_ci([3.0]) == (3.0, 3.0, 3.0)
