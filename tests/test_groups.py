"""Outcomes by country, region and disadvantage band add up to the pooled outcomes.

For every replicate and every grouping (``mensi_sim.groups``):

- counts sum to the pooled count exactly (integers);
- costs and staff hours sum to the pooled total, and shares and means average to it
  (weighted by schools, members or participants, as the module docstring says), to a
  relative 1e-12: the same numbers added in another order (numpy's pairwise sums over
  all schools against the sum of per-group sums); the rounding of n additions of doubles
  is below n * 2^-53, about 1e-13 for these 120 - 3,000 schools, and a wrong weight or a
  school counted twice is off by far more (one school of 120 is 0.8 %);
- a population of one country and one region has one group whose row equals the pooled
  summary in every outcome, weeks to half adoption, equity gap and Gini included.

Each is checked under every policy structure (their costs fall in different categories)
and with the programme ending before, at or after the horizon, and starting after it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mensi_sim import load_scenario, simulate
from mensi_sim.codes import COST_CATEGORIES
from mensi_sim.groups import GROUPINGS, band_labels, copy_of, disadvantage_band

REPO = Path(__file__).resolve().parents[1]
PILOT = load_scenario(REPO / "scenarios" / "mensi_pilot.toml").with_updates({"time.steps": 80})
REL = 1e-12

COUNTS = ("n_schools", "adopters_initial", "adopters_final", "adopters_end", "new_adopters",
          "members_final", "members_end", "dropouts")  # fmt: skip
SUMS = (*(f"cost_{c}" for c in COST_CATEGORIES), "total_cash", "total_staff_time",
        "total_cost", "staff_hours")  # fmt: skip
BY_SCHOOLS = ("final_adoption_share", "end_adoption_share", "initial_mean_capacity",
              "final_mean_capacity", "capacity_gain", "end_capacity_gain")  # fmt: skip
BY_PARTICIPANTS = ("cost_per_participant_year", "cash_per_participant_year",
                   "staff_hours_per_participant_year")  # fmt: skip


def pooled_counts(summary: pd.DataFrame) -> pd.DataFrame:
    """The pooled counts a summary row implies (it has no n_schools or members_end)."""
    return summary.assign(n_schools=PILOT.population.n_schools)


def check_adds_up(res) -> None:  # noqa: ANN001 - a Results
    summary = res.summary.set_index(["scenario", "replicate"])
    groups = res.group_summary
    assert set(groups["by"]) == set(GROUPINGS)
    for (by, scenario, replicate), part in groups.groupby(["by", "scenario", "replicate"]):
        pooled = summary.loc[(scenario, replicate)]
        n = part["n_schools"].to_numpy()
        assert n.sum() == res.runs["n_schools"].iloc[0], by
        for column in COUNTS[1:]:
            if column in pooled:
                assert part[column].sum() == pooled[column], (by, column)
        for column in SUMS:
            assert part[column].sum() == pytest.approx(pooled[column], rel=REL, abs=1e-9), column
        for column in BY_SCHOOLS:
            mean = (part[column] * n).sum() / n.sum()
            assert mean == pytest.approx(pooled[column], rel=REL, abs=1e-15), (by, column)
        members = part["members_final"].to_numpy()
        if members.sum():
            inside = (part["final_adoption_share_members"] * members).sum() / members.sum()
            assert inside == pytest.approx(pooled["final_adoption_share_members"], rel=REL)
        outside = n - members
        if outside.sum():
            share = (part["final_adoption_share_outside"] * outside).sum() / outside.sum()
            assert share == pytest.approx(pooled["final_adoption_share_outside"], rel=REL)
        weight = part["members_end"].to_numpy()
        for column in BY_PARTICIPANTS:
            value = (part[column] * weight).sum() / weight.sum() if weight.sum() else 0.0
            assert value == pytest.approx(pooled[column], rel=REL, abs=1e-12), (by, column)
        ratio = part["total_cost"].sum() / max(part["adopters_final"].sum(), 1)
        assert ratio == pytest.approx(pooled["cost_per_adopting_school"], rel=REL)


@pytest.mark.parametrize("structure", ["none", "top_down", "bottom_up", "virtual", "hybrid"])
def test_groups_add_up_to_the_pooled_outcomes(structure: str):
    sc = PILOT.with_updates({"network.structure": structure})
    check_adds_up(simulate(sc, replications=3, seed=4))


@pytest.mark.parametrize(
    ("start", "end", "steps"),
    [(0, 52, 80), (0, 52, 52), (0, 52, 30), (10, 52, 8), (5, 40, 60)],
    ids=["ends before the horizon", "ends at it", "runs past it", "starts after it", "late"],
)
def test_the_programme_end_is_the_pooled_one(start: int, end: int, steps: int):
    sc = PILOT.with_updates(
        {
            "programme.start_week": start,
            "programme.end_week": end,
            "time.steps": steps,
            "training.courses": [],
            "opening.enabled": False,
        }
    )
    check_adds_up(simulate(sc, replications=2, seed=1))


def test_one_country_one_region_is_the_pooled_summary():
    sc = PILOT.with_updates(
        {
            "population.countries": ["HR"],
            "population.regions_per_country": 1,
            "population.n_schools": 40,
            "network.mentors_per_region": 8,
        }
    )
    res = simulate(sc, replications=3, seed=2)
    summary = res.summary.set_index("replicate")
    for by in ("country", "region"):
        rows = res.group_summary[res.group_summary["by"] == by].set_index("replicate")
        assert len(rows) == 3 and set(rows["group"]) == {"HR" if by == "country" else "HR-1"}
        for column in summary.columns:
            if column in rows.columns and column not in ("scenario", "seed"):
                np.testing.assert_allclose(
                    rows[column].astype(float),
                    summary[column].astype(float),
                    rtol=REL,
                    atol=1e-15,
                    err_msg=f"{by}: {column}",
                )


def test_bands_hold_the_shares_between_their_edges():
    edges = [0.1, 0.2, 0.3]
    shares = np.array([0.0, 0.0999, 0.1, 0.15, 0.2, 0.3, 0.99, 1.0])
    assert disadvantage_band(shares, edges).tolist() == [0, 0, 1, 1, 2, 3, 3, 3]
    assert band_labels(edges) == ("0-10%", "10-20%", "20-30%", "30-100%")


def test_copy_of_is_a_bitwise_copy_that_later_changes_leave_alone():
    rng = np.random.default_rng(4)
    cases = [
        np.zeros((50, len(COST_CATEGORIES)), order="F"),  # the week-0 cost table
        np.zeros(0),
        np.zeros(7, dtype=bool),
        np.zeros(5, dtype=np.int32),
        np.array([0.0, -0.0, 0.0]),  # a signed zero is not all bits 0: copied
        np.where(rng.random((40, 3)) < 0.9, 0.0, rng.random((40, 3))).T,  # not contiguous
        rng.random(30) < 0.5,
        rng.random(30),
    ]
    for values in cases:
        expected = values.copy()
        got = copy_of(values)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        assert got.tobytes() == expected.tobytes()  # bit for bit, in the same (C) order
        assert got.flags.c_contiguous and got.flags.writeable
        assert not np.shares_memory(got, values)
        if values.size:
            values.flat[0] = 1  # a later step changes the state ...
            assert got.tobytes() == expected.tobytes()  # ... not the snapshot


@pytest.mark.benchmark
def test_benchmark_what_groups_cost_a_run():
    """Prints the per-step cost of the group tracker and the once-per-run cost of the group
    outcomes against a step, at 250,000 schools (eu_scale); asserts nothing about time."""
    import time

    from mensi_sim import MentoringModel

    sc = load_scenario(REPO / "scenarios" / "eu_scale.toml")
    model = MentoringModel(sc, rng=1)
    model.run_for(3)
    started = time.perf_counter()
    model.run_for(10)
    step = (time.perf_counter() - started) / 10
    started = time.perf_counter()
    for _ in range(50):
        model._groups.record(model.week, model.state)
    record = (time.perf_counter() - started) / 50
    started = time.perf_counter()
    model.group_outcomes()
    outcomes = time.perf_counter() - started
    print(
        f"250,000 schools: step {1000 * step:.1f} ms, group record {1000 * record:.2f} ms "
        f"({100 * record / step:.1f} % of a step), group outcomes once per run "
        f"{1000 * outcomes:.0f} ms"
    )


def test_disadvantage_band_is_digitize():
    rng = np.random.default_rng(5)
    for edges in ([0.1, 0.2, 0.3], [0.5], [], [0.05, 0.25, 0.5, 0.75, 0.95]):
        share = np.concatenate(
            [
                rng.random(500),
                np.round(rng.random(200), 1),  # on the edges
                np.asarray(edges, dtype=float),
                [0.0, -0.0, 1.0, np.nan, np.inf, -np.inf],
            ]
        )
        expected = np.digitize(share, np.asarray(edges, dtype=float), right=False)
        got = disadvantage_band(share, edges)
        assert got.dtype == np.int64 and np.array_equal(got, expected)


@pytest.mark.parametrize("incremental_from", [0, 10**9], ids=["updated", "counted afresh"])
def test_the_weekly_adopter_counts_are_the_counts_of_each_weeks_adopters(
    incremental_from, monkeypatch
):
    # GroupTracker.record updates last week's counts by the schools whose adoption changed
    # (from groups.INCREMENTAL_COUNTS_MIN schools on); either way they must be what
    # counting each week's adopters afresh gives, in a real run and when schools stop
    # adopting as well (adoption flipped by hand, either way)
    from mensi_sim import MentoringModel, groups

    monkeypatch.setattr(groups, "INCREMENTAL_COUNTS_MIN", incremental_from)
    model = MentoringModel(PILOT, rng=3)
    tracker, state = model._groups, model.state
    cell, n_cells = tracker.keys.cell, tracker.keys.n_cells
    expected = [np.bincount(cell[state.adopted], minlength=n_cells)]
    for _ in range(30):
        model.step()
        expected.append(np.bincount(cell[state.adopted], minlength=n_cells))
    rng = np.random.default_rng(6)
    for week in range(31, 41):
        flip = rng.choice(state.n, size=15, replace=True)
        state.adopted[flip] = ~state.adopted[flip]
        tracker.record(week, state)
        expected.append(np.bincount(cell[state.adopted], minlength=n_cells))
    got = np.vstack(tracker._counts)
    assert got.tolist() == np.vstack(expected).tolist()
    assert np.vstack(expected)[1:31].sum() > np.vstack(expected)[0].sum() * 30  # adoption grew
    by_region = tracker.adopters_by_week("region")
    assert by_region.sum(axis=1).tolist() == np.vstack(expected).sum(axis=1).tolist()
