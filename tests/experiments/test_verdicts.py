"""Honest verdicts: Holm-adjusted stars, Fieller's two rays, verdict probabilities over
replicates, "not distinguishable" leaders, few-replicate warnings, cost perspectives."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mensi_sim.analysis import comparison_table, cost_effectiveness, paired_comparison
from mensi_sim.analysis.cost_effectiveness import cost_column, fieller_set
from mensi_sim.analysis.verdicts import (
    VERDICT_PROBABILITY,
    bootstrap_verdicts,
    firmness,
    leading_options,
    status_kind,
)
from mensi_sim.stats import holm_adjust, t_quantile


def test_holm_by_hand() -> None:
    # sorted 0.01, 0.03, 0.04 (m = 3): 3 x 0.01 = 0.03, 2 x 0.03 = 0.06, max(0.06, 0.04) = 0.06
    assert holm_adjust([0.04, 0.01, 0.03]) == pytest.approx([0.06, 0.03, 0.06])
    assert holm_adjust([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    out = holm_adjust([np.nan, 0.02])
    assert math.isnan(out[0]) and out[1] == pytest.approx(0.02)


def _summary(effects: dict[str, float], n: int, sd: float, seed: int = 0) -> pd.DataFrame:
    """Replicates of schemes with the given mean adopter gains over a shared baseline."""
    rng = np.random.default_rng(seed)
    base = rng.normal(24, 2, n)
    rows = []
    for name, gain in {"none": 0.0, **effects}.items():
        noise = rng.normal(0, sd, n) if name != "none" else np.zeros(n)
        adopters = base + gain + noise
        for r in range(n):
            rows.append(
                {
                    "scenario": name,
                    "replicate": r,
                    "adopters_final": adopters[r],
                    "final_adoption_share": adopters[r] / 120,
                    "end_adoption_share": adopters[r] / 120,
                    "weeks_to_half_adoption": 52.0,
                    "capacity_gain": 0.0,
                    "final_equity_gap": 0.0,
                    "total_cash": 1000.0 * (name != "none") + 10 * r,
                    "total_staff_time": 5000.0 * (name != "none") + 10 * r,
                    "total_cost": 6000.0 * (name != "none") + 20 * r,
                }
            )
    return pd.DataFrame(rows)


def test_stars_follow_holm_not_the_single_test() -> None:
    # 16 schemes with a small true gain: each single test is near the edge, the family is not
    effects = {f"s{i}": 0.9 for i in range(16)}
    table = paired_comparison(_summary(effects, 20, 2.0, seed=3), "none")
    adopt = table[table["outcome"] == "final_adoption_share"]
    assert (adopt["p_holm"] >= adopt["p_value"]).all()
    assert (adopt["significant"] == (adopt["p_holm"] < 0.05)).all()
    assert (adopt["significant_unadjusted"] == (adopt["p_value"] < 0.05)).all()
    # some single tests pass, fewer survive the adjustment
    assert adopt["significant_unadjusted"].sum() > adopt["significant"].sum()


def test_fieller_two_rays_by_brute_force() -> None:
    rng = np.random.default_rng(4)
    de = rng.normal(0.2, 3.0, 30)  # adopter difference far from significant
    dc = 5000 + 300 * de + rng.normal(0, 500, 30)
    fs = fieller_set(dc, de)
    assert fs.kind == "two rays" and fs.low < fs.high
    # the defining inequality, checked on a grid: it holds outside (low, high), not inside
    n = dc.size
    a, b = dc.mean(), de.mean()
    cov = np.cov(dc, de, ddof=1) / n
    t2 = float(t_quantile(0.95, n - 1)) ** 2

    def inside(r: float) -> bool:
        return (a - r * b) ** 2 <= t2 * (cov[0, 0] - 2 * r * cov[0, 1] + r * r * cov[1, 1])

    width = fs.high - fs.low
    for r in np.linspace(fs.low - 3 * width, fs.high + 3 * width, 601):
        if fs.low + 1e-9 * width < r < fs.high - 1e-9 * width:
            assert not inside(r)
        elif r < fs.low - 1e-9 * width or r > fs.high + 1e-9 * width:
            assert inside(r)
    assert "excluded" in fs.describe()
    # no information at all: a zero-mean cost and effect with large noise -> the whole line
    dc0 = rng.normal(0, 1000, 30)
    de0 = rng.normal(0, 3, 30)
    assert fieller_set(dc0, de0).kind in ("whole line", "two rays")


def test_the_issue_example_is_not_a_firm_frontier_verdict() -> None:
    # top_down beat virtual by 0.025 adopters with a paired SD of 3.4 (40 replicates):
    # its frontier place is a coin toss, not a verdict, and the leader cannot be named
    rng = np.random.default_rng(7)
    n = 40
    base = rng.normal(25, 2, n)
    shared = rng.normal(0, 3.4 / math.sqrt(2), n)
    rows = []
    spec = {
        "none": (0.0, 0.0, 0.0),
        "virtual": (4.7, 518_000.0, 1.0),
        "top_down": (4.725, 1_088_000.0, -1.0),
    }
    for name, (gain, cost, sign) in spec.items():
        for r in range(n):
            rows.append(
                {
                    "scenario": name,
                    "replicate": r,
                    "adopters_final": base[r] + gain + sign * shared[r],
                    "total_cost": cost + 1000 * rng.normal() * (name != "none"),
                }
            )
    s = pd.DataFrame(rows)
    v = bootstrap_verdicts(s, "none").set_index("scenario")
    assert v.loc["none", "p_frontier"] == 1.0
    assert 0.05 < v.loc["top_down", "p_frontier"] < VERDICT_PROBABILITY
    assert firmness(v.loc["top_down", "p_frontier"]) != "firm"
    lead = leading_options(s, "none")
    assert {lead.leader, lead.runner_up} == {"virtual", "top_down"}
    assert not lead.distinguishable and "not distinguishable" in lead.sentence()
    assert not lead.few


def test_a_clear_leader_is_named_and_few_replicates_warn() -> None:
    s = _summary({"a": 10.0, "b": 2.0}, 6, 0.5)
    lead = leading_options(s, "none")
    assert lead.leader == "a" and lead.distinguishable and lead.few
    text = lead.sentence()
    assert "gives the most" in text and "only 6 replicates" in text
    v = bootstrap_verdicts(s, "none").set_index("scenario")
    assert v.loc["a", "p_most_effective"] == 1.0


def test_cost_perspectives() -> None:
    s = _summary({"a": 5.0}, 12, 0.5)
    total = cost_effectiveness(s, "none").set_index("scenario")
    cash = cost_effectiveness(s, "none", perspective="cash").set_index("scenario")
    assert total.loc["a", "delta_cost"] == pytest.approx(6000.0)
    assert cash.loc["a", "delta_cost"] == pytest.approx(1000.0)
    assert cash.loc["a", "perspective"] == "cash"
    assert cash.loc["a", "icer"] == pytest.approx(total.loc["a", "icer"] / 6)
    with pytest.raises(ValueError, match="allowed: total, cash"):
        cost_column("societal")
    wide = comparison_table(s, "none", perspective="cash").set_index("scenario")
    assert {"p_frontier", "p_status", "final_adoption_share_p_holm"} <= set(wide.columns)


def test_frontier_icers_are_the_steps_along_the_frontier() -> None:
    # replicate r: cost and adopters over "none" exactly (0, 0), a (100, 2), b (300, 3),
    # c (250, 1) -> frontier none -> a -> b; a's step 100 / 2 = 50, b's (300 - 100) / 1 = 200
    rows = []
    for r in range(6):
        for name, (cost, gain) in {
            "none": (0, 0),
            "a": (100, 2),
            "b": (300, 3),
            "c": (250, 1),
        }.items():
            rows.append(
                {
                    "scenario": name,
                    "replicate": r,
                    "adopters_final": 20.0 + gain + 0.1 * r,
                    "total_cost": float(cost),
                }
            )
    t = cost_effectiveness(pd.DataFrame(rows), "none").set_index("scenario")
    assert t.loc["a", "frontier"] == t.loc["b", "frontier"] == "frontier"
    assert t.loc["c", "frontier"].startswith("dominated")
    assert t.loc["a", "frontier_icer"] == pytest.approx(50.0)
    assert t.loc["b", "frontier_icer"] == pytest.approx(200.0)
    assert math.isnan(t.loc["none", "frontier_icer"]) and math.isnan(t.loc["c", "frontier_icer"])


def test_a_scheme_dominated_in_every_resample_is_firmly_dominated_whoever_dominates_it() -> None:
    # "c" costs more and adds less than both "a" and "b" in every replicate; which of the
    # two dominates it on a resample (the one with the larger effect there: a and b are
    # equally good) varies, but that it is dominated does not
    rng = np.random.default_rng(11)
    n = 30
    base = rng.normal(25, 2, n)
    spec = {"none": (0.0, 0.0), "a": (6.0, 200_000.0), "b": (6.0, 200_000.0), "c": (2.0, 300_000.0)}
    rows = [
        {
            "scenario": name,
            "replicate": r,
            "adopters_final": base[r] + gain + (rng.normal(0, 1.0) if name in "ab" else 0.0),
            "total_cost": cost,
        }
        for name, (gain, cost) in spec.items()
        for r in range(n)
    ]
    v = bootstrap_verdicts(pd.DataFrame(rows), "none").set_index("scenario")
    assert v.loc["c", "p_frontier"] == 0.0
    assert v.loc["c", "p_status"] == 1.0 and firmness(v.loc["c", "p_status"]) == "firm"
    assert status_kind("dominated by a") == status_kind("dominated by b") == "dominated"
    assert status_kind("extendedly dominated") == "extendedly dominated"
    assert status_kind("same as a") == "same" and status_kind("frontier") == "frontier"
