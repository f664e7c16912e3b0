"""MentoringModel: Mesa face over array state, determinism, invariants, every structure runs."""

import mesa
import numpy as np
import pandas as pd
import pytest

from mensi_sim import MentoringModel, Scenario, load_scenario, simulate
from mensi_sim.agents import School
from mensi_sim.codes import ROLE_MENTEE, ROLE_MENTOR
from mensi_sim.scenario.schema import research_graphs


@pytest.fixture(scope="module")
def pilot():
    return load_scenario("scenarios/mensi_pilot.toml")


def test_schools_are_mesa_agents_viewing_the_arrays(pilot):
    model = MentoringModel(pilot, rng=1)
    assert len(model.agents) == 120
    assert all(isinstance(a, School) for a in model.agents)
    school = next(a for a in model.agents if a.index == 7)
    assert school.capacity == model.state.capacity[7]
    school.capacity = 0.99  # writing the attribute writes the array
    assert model.state.capacity[7] == 0.99
    model.state.adopted[7] = True
    assert school.adopted is True
    roles = model.agents.groupby("role").count()
    assert roles == {"mentor": 24, "mentee": 96}
    assert model.agents.agg("capacity", np.mean) == pytest.approx(model.state.capacity.mean())


def test_school_agents_are_created_when_first_asked_for_and_show_the_current_week(pilot):
    model = MentoringModel(pilot, rng=1)
    assert model._schools_pending  # a run that never asks pays for no agents
    model.run_for(10)
    assert model._schools_pending
    assert len(model.agents) == 120  # created now, viewing week 10's arrays
    assert not model._schools_pending
    assert model.agent_types == [School]
    assert len(model.agents_by_type[School]) == 120
    assert sorted(a.unique_id for a in model.agents) == list(range(1, 121))
    capacity = model.agents.get("capacity")
    assert capacity == [model.state.capacity[a.index] for a in model.agents]
    assert [a.index for a in model.agents] == list(range(120))
    model.step()  # the same agents, now at week 11
    assert len(model.agents) == 120
    assert model.agents.get("capacity") == model.state.capacity.tolist()
    adopters = model.agents.select(lambda a: a.adopted)
    assert len(adopters) == int(model.state.adopted.sum())


def test_a_datacollector_agent_reporter_sees_every_school(pilot):
    model = MentoringModel(pilot, rng=2)
    collector = mesa.DataCollector(agent_reporters={"capacity": "capacity"})
    collector.collect(model)
    frame = collector.get_agent_vars_dataframe()
    assert len(frame) == 120
    assert frame["capacity"].tolist() == model.state.capacity.tolist()


def test_pilot_has_the_mensi_shape(pilot):
    model = MentoringModel(pilot, rng=3)
    assert (model.state.role == ROLE_MENTOR).sum() == 24
    assert (model.state.role == ROLE_MENTEE).sum() == 96
    assert model.state.member.all()


def test_same_seed_bit_identical_different_seed_differs(pilot):
    a = simulate(pilot, replications=3, seed=9)
    b = simulate(pilot, replications=3, seed=9)
    c = simulate(pilot, replications=3, seed=10)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries, check_exact=True)
    pd.testing.assert_frame_equal(a.summary, b.summary, check_exact=True)
    assert not a.timeseries["mean_capacity"].equals(c.timeseries["mean_capacity"])


def test_replicates_differ_and_replicate_r_is_reproducible_alone(pilot):
    res = simulate(pilot, replications=3, seed=4)
    finals = res.summary["final_mean_capacity"]
    assert finals.nunique() == 3
    from mensi_sim.simulate import run_once

    again = run_once(pilot, 4, 2)
    assert again.summary["final_mean_capacity"] == finals.iloc[2]


def test_model_rng_and_seed_sequence_reuse_are_reproducible(pilot):
    ss = np.random.SeedSequence(77)
    one = MentoringModel(pilot, rng=ss)
    two = MentoringModel(pilot, rng=ss)  # the same SeedSequence object twice
    one.run_for(10)
    two.run_for(10)
    assert np.array_equal(one.state.capacity, two.state.capacity)


def test_structures_differ_only_where_they_should(pilot):
    """Common random numbers: the same schools under every structure."""
    none = MentoringModel(pilot.with_updates({"network.structure": "none"}), rng=5)
    top = MentoringModel(pilot, rng=5)
    assert np.array_equal(none.population.x, top.population.x)
    assert np.array_equal(none.state.adopted, top.state.adopted)  # most_capable: same schools
    assert none.tie_kind.size < top.tie_kind.size


@pytest.mark.parametrize("structure", ["none", "top_down", "bottom_up", "virtual", "hybrid"])
def test_every_policy_structure_runs_with_invariants(pilot, structure):
    sc = pilot.with_updates(
        {"network.structure": structure, "time.steps": 60, "adoption.abandonment": 0.01}
    )
    res = simulate(sc, replications=2, seed=1)
    ts = res.timeseries
    for col in (
        "adoption_share",
        "adoption_share_members",
        "adoption_share_outside",
        "mean_capacity",
        "capacity_gini",
    ):
        assert ts[col].between(0, 1).all(), col
    assert not ts.isna().any().any()
    for _, rep in ts.groupby("replicate"):
        assert (np.diff(rep["cost_total"].to_numpy()) >= -1e-9).all()  # cumulative, monotone
    assert (res.summary["total_cost"] >= 0).all()


@pytest.mark.parametrize("structure", [g for g in research_graphs() if g != "file"])
def test_every_research_graph_runs(structure):
    sc = Scenario.model_validate(
        {
            "population": {"n_schools": 60, "countries": ["X"], "regions_per_country": 2},
            "network": {"structure": structure, "graph_degree": 4, "graph_p": 0.1},
            "time": {"steps": 5},
        }
    )
    res = simulate(sc, replications=1, seed=0)
    assert len(res.timeseries) == 6


def test_no_mentoring_outside_term():
    sc = Scenario.model_validate({"time": {"steps": 52, "term_weeks": 10}})
    ts = simulate(sc, replications=1, seed=2).timeseries
    assert (ts.loc[ts["step"] > 10, "meetings"] == 0).all()
    assert ts.loc[ts["step"].between(1, 10), "meetings"].sum() > 0


def test_opening_up_adds_members_and_mentors():
    sc = load_scenario("scenarios/italy_national.toml").with_updates(
        {
            "population.n_schools": 3000,
            "time.steps": 70,
            "opening.start_week": 5,
            "opening.join_rate": 0.01,
            "opening.mentor_min_capacity": 0.3,
        }
    )
    model = MentoringModel(sc, rng=1)
    members0 = int(model.state.member.sum())
    mentors0 = int((model.state.role == ROLE_MENTOR).sum())
    model.run_for(70)
    assert model.state.member.sum() > members0
    assert (model.state.role == ROLE_MENTOR).sum() > mentors0
    ts = model.timeseries()
    assert ts["members"].is_monotonic_increasing


def test_dropouts_happen_when_engagement_collapses(pilot):
    sc = pilot.with_updates(
        {
            "engagement.target_compulsory": 0.0,
            "engagement.relax_rate": 0.5,
            "engagement.dropout_weeks": 2,
        }
    )
    ts = simulate(sc, replications=1, seed=0).timeseries
    assert ts["dropouts"].iloc[-1] > 0
    assert ts["active_participants"].iloc[-1] < 120
    assert ts["meetings"].iloc[-10:].sum() == 0  # every formal tie has gone quiet


def test_opening_up_never_ties_a_school_to_itself():
    # a capable outside adopter asking to join must not be matched to itself
    sc = load_scenario("scenarios/italy_national.toml").with_updates(
        {
            "population.n_schools": 3000,
            "time.steps": 40,
            "opening.start_week": 1,
            "opening.join_rate": 0.05,
            "opening.mentor_min_capacity": 0.3,
            "adoption.initial_share": 0.3,
        }
    )
    model = MentoringModel(sc, rng=1)
    model.run_for(40)
    assert (model.tie_src != model.tie_dst).all()
