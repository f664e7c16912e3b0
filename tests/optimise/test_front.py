"""Fronts, their bootstrap stability, the knee, and the paired verdicts: hand-checked cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mensi_sim.analysis.optimise_front import (
    front_of,
    front_stability,
    jaccard,
    knee_point,
    paired_against,
    spread_pick,
)


def test_front_of_keeps_the_non_dominated_feasible_rows():
    f = np.array([[1.0, 5.0], [2.0, 2.0], [3.0, 3.0], [0.5, 9.0], [0.1, 0.1]])
    g = np.array([[-1.0], [-1.0], [-1.0], [-0.5], [2.0]])  # the best row breaks its constraint
    np.testing.assert_array_equal(front_of(f, g), [0, 1, 3])
    # no constraints: the best row dominates every other
    np.testing.assert_array_equal(front_of(f, np.zeros((5, 0))), [4])
    # nothing feasible: the least violation
    np.testing.assert_array_equal(
        front_of(f, np.array([[3.0], [1.0], [2.0], [1.0], [5.0]])), [1, 3]
    )


def test_jaccard():
    assert jaccard(np.array([1, 2]), np.array([2, 3])) == pytest.approx(1 / 3)
    assert jaccard(np.array([]), np.array([])) == 1.0


def test_a_front_without_noise_is_perfectly_stable():
    # every replicate the same: each resample has the full sample's front
    y = np.repeat(np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0], [3.0, 3.0]])[:, None, :], 6, axis=1)
    g = np.zeros((4, 6, 0))
    assert front_stability(y, g, 50, np.random.default_rng(0)) == 1.0


def test_a_front_of_pure_noise_is_unstable_and_more_replicates_do_not_hide_it():
    rng = np.random.default_rng(1)
    y = rng.normal(size=(12, 8, 2))  # 12 candidates that differ only by noise
    g = np.zeros((12, 8, 0))
    s8 = front_stability(y, g, 200, np.random.default_rng(2))
    assert s8 < 0.6
    # a real difference far above the noise makes the front stable
    y2 = y * 0.01 + np.arange(12)[:, None, None] * np.array([1.0, -1.0])
    assert front_stability(y2, g, 200, np.random.default_rng(2)) > 0.99


def test_common_random_numbers_make_a_small_difference_stable():
    # two candidates with a large shared replicate effect and a small constant difference:
    # resampling replicates jointly keeps the difference, so the better one always wins
    rng = np.random.default_rng(3)
    shared = rng.normal(scale=10.0, size=8)
    y = np.stack([shared, shared + 0.01])[:, :, None]
    assert front_stability(y, np.zeros((2, 8, 0)), 100, np.random.default_rng(4)) == 1.0


def test_knee_of_a_bent_front_is_its_corner():
    cost = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    benefit = np.array([0.0, 0.8, 0.9, 0.95, 1.0])  # most of the gain for the first euro
    assert knee_point(benefit, cost) == 1
    # a straight or convex front (returns that do not diminish) has no knee
    assert knee_point(np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0, 2.0])) is None
    assert knee_point(np.array([0.0, 0.1, 1.0]), np.array([0.0, 1.0, 2.0])) is None
    assert knee_point(np.array([0.2, 0.5]), np.array([10.0, 30.0])) is None


def test_spread_pick_takes_the_ends_and_evenly_between():
    np.testing.assert_array_equal(spread_pick(np.array([5.0, 1.0, 3.0]), 10), [1, 2, 0])
    values = np.arange(10.0)[::-1]
    # positions 0, 4.5 and 9 of the sorted values, rounded half to even: 0, 4 and 9
    assert sorted(values[spread_pick(values, 3)]) == [0.0, 4.0, 9.0]


def test_paired_verdicts_need_the_interval_on_the_better_side():
    summary = pd.DataFrame(
        {
            "scenario": ["a"] * 4 + ["b"] * 4 + ["p"] * 4,
            "replicate": [0, 1, 2, 3] * 3,
            "adoption": [0.30, 0.32, 0.31, 0.33, 0.20, 0.40, 0.25, 0.36, 0.20, 0.22, 0.21, 0.23],
            "cash": [
                90.0,
                91.0,
                90.0,
                92.0,
                100.0,
                100.0,
                100.0,
                100.0,
                100.0,
                100.0,
                100.0,
                100.0,
            ],
        }
    )
    table = paired_against(summary, ["a", "b"], ["p"], {"adoption": "max", "cash": "min"})
    row = table.set_index(["design", "outcome"])
    # a: +0.10 every replicate (zero spread): better, exactly
    assert row.loc[("a", "adoption"), "difference"] == pytest.approx(0.10)
    assert bool(row.loc[("a", "adoption"), "better"])
    assert bool(row.loc[("a", "cash"), "better"])  # cheaper every time
    # b: +0.0375 on average with a wide spread: the CI includes 0, no verdict
    assert not bool(row.loc[("b", "adoption"), "better"])
    assert not bool(row.loc[("b", "adoption"), "significant"])
    # b costs exactly the same: no better, no worse
    assert row.loc[("b", "cash"), "difference"] == 0.0 and not bool(
        row.loc[("b", "cash"), "better"]
    )


def test_regret_across_draws_is_the_shortfall_from_the_best_design_under_each_draw():
    from mensi_sim.analysis.optimise_front import regret

    outcomes = pd.DataFrame(
        {
            "design": ["a", "b", "c"] * 2,
            "draw": [0, 0, 0, 1, 1, 1],
            "value": [0.40, 0.35, 0.20, 0.30, 0.38, 0.25],
        }
    )
    table = regret(outcomes).set_index("design")
    # draw 0: best a (0.40); draw 1: best b (0.38)
    assert table.loc["a", "max_regret"] == pytest.approx(0.08)
    assert table.loc["b", "max_regret"] == pytest.approx(0.05)
    assert table.loc["c", "mean_regret"] == pytest.approx((0.20 + 0.13) / 2)
    assert regret(outcomes)["design"].iloc[0] == "b"  # the minimax-regret design
    costs = outcomes.assign(value=lambda f: f["value"] * 1000)
    assert regret(costs, "min").set_index("design").loc["c", "max_regret"] == 0.0


def test_a_roll_out_is_held_to_the_budget_year_for_year():
    """A budget named by a shipped programme is compared per programme year: a 2-wave
    roll-out paying 1.8x the programme's cash over its two years spends 0.9x a year and
    stays within it (on total cash, the old comparison, it would not)."""
    from pathlib import Path

    from mensi_sim import load_scenario
    from mensi_sim.analysis.optimise import CASH, _paired_spend_gap

    pilot = load_scenario(Path(__file__).resolve().parents[2] / "scenarios" / "mensi_pilot.toml")
    waves = [["BE-VLG", "HR", "CZ"], ["HU", "IT", "PT"]]
    scenarios = {"design": pilot.with_updates({"programme.waves": waves}), "top_down": pilot}
    cash = np.array([100.0, 104.0, 98.0, 101.0, 97.0])
    summary = pd.DataFrame(
        {
            "scenario": ["design"] * 5 + ["top_down"] * 5,
            "replicate": list(range(5)) * 2,
            CASH: np.concatenate([1.8 * cash, cash]),
        }
    )
    gap = _paired_spend_gap(summary, "design", "top_down", scenarios, "cash")
    np.testing.assert_allclose(gap, 0.9 * cash - cash)
    assert (gap < 0).all()
