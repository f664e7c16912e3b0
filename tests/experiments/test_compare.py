"""Paired comparisons, ICER with Fieller's interval, dominance, frontier, fixed budget."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mensi_sim import sweep
from mensi_sim.analysis import (
    at_budget,
    comparison_table,
    cost_effectiveness,
    fieller_interval,
    frontier,
    paired_comparison,
    t_interval,
)
from mensi_sim.experiments import default_baseline, load_experiment
from mensi_sim.experiments.spec import DEFAULT_OUTCOMES

from .helpers import PILOT, write_experiment

# Pilot, 26 weeks, p = 0.003 per week; "same" repeats the baseline, "double_p" doubles p.
# Expected extra adopters with p doubled: 96 non-adopters x 0.003 x g(c) ~ 0.45 x 26 weeks
# ~ 3.4 schools. With common random numbers the paired difference is roughly Poisson
# (sd ~ 1.8), so with 20 pairs its standard error is ~ 0.4: the 95% CI lies about 8 SE
# above 0 -- a wide margin, not a lucky seed.
KNOWN = f"""\
name = "known"
replications = 20
root_seed = 5
steps = 26
executor = "serial"

[base]
scenario = "{PILOT}"
overrides = {{ "adoption.p" = 0.003 }}

[[factors.scenarios]]
name = "baseline"

[[factors.scenarios]]
name = "same"

[[factors.scenarios]]
name = "double_p"
overrides = {{ "adoption.p" = 0.006 }}
"""


@pytest.fixture(scope="module")
def known(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    path = write_experiment(tmp_path_factory.mktemp("known"), KNOWN)
    return sweep(load_experiment(path)).summary


def test_identical_scenarios_differ_by_exactly_zero(known: pd.DataFrame) -> None:
    table = paired_comparison(known, "baseline")
    same = table[table["scenario"] == "same"]
    assert len(same) == len(DEFAULT_OUTCOMES)  # one row per outcome compared
    # common random numbers: replicate r of both is the same run, so every difference is 0
    assert (same["difference"] == 0).all()
    assert (same["ci_low"] <= 0).all() and (same["ci_high"] >= 0).all()
    assert not same["significant"].any()


def test_doubling_p_raises_adoption_significantly(known: pd.DataFrame) -> None:
    table = paired_comparison(known, "baseline").set_index(["scenario", "outcome"])
    row = table.loc[("double_p", "final_adoption_share")]
    assert row["difference"] > 0 and row["ci_low"] > 0 and row["significant"]
    assert row["n_pairs"] == 20


def test_paired_t_matches_scipy() -> None:
    from scipy import stats

    rng = np.random.default_rng(3)
    d = rng.normal(0.5, 1.0, size=15)
    mean, low, high, p = t_interval(d)
    res = stats.ttest_1samp(d, 0.0)
    ci = res.confidence_interval(0.95)
    assert mean == pytest.approx(d.mean())
    assert (low, high) == pytest.approx((ci.low, ci.high))
    assert p == pytest.approx(res.pvalue)


def _merge_pairs(summary, scenario, baseline, column):
    """What ``paired`` returns, the pandas way: a merge on the replicate, in its order."""
    a = summary.loc[summary["scenario"] == scenario, ["replicate", column]]
    b = summary.loc[summary["scenario"] == baseline, ["replicate", column]]
    m = a.merge(b, on="replicate", suffixes=("_s", "_b")).sort_values("replicate", kind="stable")
    return m[f"{column}_s"].to_numpy(float), m[f"{column}_b"].to_numpy(float)


@pytest.mark.parametrize("duplicated", [False, True], ids=["one_row_each", "a_replicate_twice"])
def test_pairs_are_the_common_replicates_in_replicate_order(duplicated: bool) -> None:
    from mensi_sim.analysis.paired import paired

    rng = np.random.default_rng(8)
    rows = [("base", r) for r in range(12)] + [("arm", r) for r in (11, 3, 0, 7, 5, 13, 2)]
    if duplicated:
        rows.append(("arm", 3))
    order = rng.permutation(len(rows))  # rows in any order, as a resumed sweep writes them
    summary = pd.DataFrame(
        {
            "scenario": [rows[i][0] for i in order],
            "replicate": [rows[i][1] for i in order],
            "y": rng.normal(size=len(rows)),
        }
    )
    s, b = paired(summary, "arm", "base", "y")
    want_s, want_b = _merge_pairs(summary, "arm", "base", "y")
    np.testing.assert_array_equal(s, want_s)
    np.testing.assert_array_equal(b, want_b)
    assert s.size == (7 if duplicated else 6)  # replicate 13 has no baseline run
    if not duplicated:  # in replicate order: the baseline's values of 0, 2, 3, 5, 7, 11
        by_rep = summary[summary["scenario"] == "base"].set_index("replicate")["y"]
        np.testing.assert_array_equal(b, by_rep.loc[[0, 2, 3, 5, 7, 11]].to_numpy())


def test_fieller_bounded_and_unbounded() -> None:
    rng = np.random.default_rng(0)
    de = rng.normal(5.0, 1.0, 50)
    dc = 1000 * de + rng.normal(0, 100, 50)
    low, high, bounded = fieller_interval(dc, de)
    assert bounded and low < dc.mean() / de.mean() < high
    assert low == pytest.approx(1000, rel=0.05) and high == pytest.approx(1000, rel=0.05)
    # effect difference indistinguishable from 0: no bounded interval
    de0 = rng.normal(0.0, 1.0, 50)
    low, high, bounded = fieller_interval(dc, de0)
    assert not bounded and math.isnan(low) and math.isnan(high)


def test_fieller_with_exact_denominator_is_the_t_interval_of_the_ratio() -> None:
    # de constant: R = mean(dc) / b, Var(R) = Var(mean dc) / b^2 -- Fieller reduces to the
    # ordinary t interval of dc scaled by 1 / b
    dc = np.array([10.0, 14.0, 9.0, 11.0, 16.0])
    de = np.full(5, 2.0)
    low, high, bounded = fieller_interval(dc, de)
    _, tl, th, _ = t_interval(dc)
    assert bounded and (low, high) == pytest.approx((tl / 2, th / 2))


def test_frontier_strong_and_extended_dominance() -> None:
    # by hand: C is dearer and worse than B (strongly dominated); among A, B, D, E the
    # ICERs are A->B 50, B->D 100, D->E 25: D's exceeds the next one, so a mix of B and E
    # beats D at its cost (extendedly dominated); then A->B 50, B->E 100: increasing.
    costs = {"A": 0.0, "B": 100.0, "C": 150.0, "D": 400.0, "E": 500.0}
    effects = {"A": 0.0, "B": 2.0, "C": 1.0, "D": 5.0, "E": 9.0}
    status = frontier(costs, effects)
    assert status["C"] == "dominated by B"
    assert status["D"] == "extendedly dominated"
    assert [n for n in costs if status[n] == "frontier"] == ["A", "B", "E"]


def _synthetic() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    spec = {"none": (0, 20), "cheap_good": (-50, 25), "dear_bad": (500, 18), "dear_good": (900, 30)}
    for name, (cost, effect) in spec.items():
        for r in range(30):
            rows.append(
                {
                    "scenario": name,
                    "replicate": r,
                    "total_cost": 1000 + cost + rng.normal(0, 10),
                    "adopters_final": effect + rng.normal(0, 0.5),
                }
            )
    return pd.DataFrame(rows)


def test_cost_effectiveness_dominance_and_icer() -> None:
    table = cost_effectiveness(_synthetic(), "none").set_index("scenario")
    assert table.loc["cheap_good", "dominance"] == "dominates"
    assert table.loc["cheap_good", "dominance_significant"]
    assert table.loc["dear_bad", "dominance"] == "dominated"
    assert table.loc["dear_bad", "dominance_significant"]
    assert table.loc["dear_good", "icer"] == pytest.approx(900 / 10, rel=0.05)
    assert table.loc["dear_good", "icer_ci_low"] < table.loc["dear_good", "icer"]
    assert table.loc["dear_good", "icer_note"] == "Fieller 95% CI"
    assert table.loc["none", "frontier"] == "dominated by cheap_good"
    assert table.loc["dear_good", "frontier"] == "frontier"
    # frontier ordered by cost
    front = table[table["frontier"] == "frontier"].sort_values("frontier_rank")
    assert list(front.index) == ["cheap_good", "dear_good"]


def test_icer_flagged_when_effect_difference_is_not_significant() -> None:
    s = _synthetic()
    noisy = s[s["scenario"] == "none"].assign(scenario="noisy")
    noisy["total_cost"] += 300
    noisy["adopters_final"] += np.random.default_rng(2).normal(0, 3, len(noisy))
    table = cost_effectiveness(pd.concat([s, noisy]), "none").set_index("scenario")
    # the adopter difference is not significant: Fieller's set is unbounded, and the note
    # says which unbounded set it is (here two rays, with the excluded range)
    assert table.loc["noisy", "icer_set"] in ("two rays", "whole line")
    assert "CI includes 0" in table.loc["noisy", "icer_note"]
    assert math.isnan(table.loc["noisy", "icer_ci_low"])


def test_comparison_table_has_one_row_per_scenario(known: pd.DataFrame) -> None:
    table = comparison_table(known, "baseline")
    assert sorted(table["scenario"]) == ["baseline", "double_p", "same"]
    assert "final_adoption_share_difference" in table and "icer" in table


def test_at_budget_interpolates_between_sizes() -> None:
    rows = []
    for name, cost, eff in [("none", 0, 10), ("s1", 100, 14), ("s2", 300, 18)]:
        for r in range(4):
            rows.append(
                {
                    "scenario": name,
                    "replicate": r,
                    "total_cost": float(cost),
                    "adopters_final": float(eff + r),
                }
            )
    summary = pd.DataFrame(rows)
    groups = {"s1": "prog", "s2": "prog"}
    out = at_budget(summary, groups, 200.0, "none", outcomes=("adopters_final",))
    row = out.iloc[0]
    # budget halfway between the sizes' costs: half of each; 0.5 * 14 + 0.5 * 18 = 16
    assert (row["lower"], row["upper"], row["weight"]) == ("s1", "s2", 0.5)
    assert row["difference"] == pytest.approx(6.0) and row["spent"] == 200.0
    out = at_budget(summary, groups, 50.0, "none", outcomes=("adopters_final",))
    assert out.iloc[0]["lower"] == "none" and out.iloc[0]["difference"] == pytest.approx(2.0)
    out = at_budget(summary, groups, 1000.0, "none", outcomes=("adopters_final",))
    assert out.iloc[0]["spent"] == 300.0 and out.iloc[0]["difference"] == pytest.approx(8.0)


def test_default_baseline() -> None:
    assert default_baseline(["a", "none", "b"]) == "none"
    assert default_baseline(["top_down/funding", "none/none"]) == "none/none"
    assert default_baseline(["x", "y"]) == "x"


def test_unknown_baseline(tmp_path: Path, known: pd.DataFrame) -> None:
    with pytest.raises(KeyError, match="nope"):
        paired_comparison(known, "nope")
