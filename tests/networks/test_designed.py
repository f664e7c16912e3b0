"""The ``designed`` structure: its defaults are top_down, and each part of its plan does what
it says (region modes, the mentor score, the mentee rule, listed mentors, errors)."""

from __future__ import annotations

import numpy as np
import pytest

from mensi_sim.codes import MODE_IN_PERSON, MODE_ONLINE
from mensi_sim.dynamics import costs
from mensi_sim.errors import NetworkError
from mensi_sim.experiments.replicate import run_once
from mensi_sim.networks import build_network
from mensi_sim.networks.designed import designed, region_ranks
from mensi_sim.population import Population
from mensi_sim.registry import STRUCTURES
from mensi_sim.scenario.schema import CostParams

from .support import edges_of_kind, mentor_of, population, scenario, schools_with_role
from .test_build import assert_same_network
from .test_structures import assert_clusters_consistent, assert_school_graph, build


def toy_population(capacity, x, y, disadvantaged, region=None) -> Population:
    """Schools with the given attributes (one country; one region unless given)."""
    n = len(capacity)
    return Population(
        country=np.zeros(n, np.int32),
        country_codes=("IT",),
        region=np.zeros(n, np.int32) if region is None else np.asarray(region, np.int32),
        x=np.asarray(x, float),
        y=np.asarray(y, float),
        teachers=np.full(n, 25.0),
        disadvantaged=np.asarray(disadvantaged, float),
        motivation=np.full(n, 0.5),
        advanced=np.zeros(n, bool),
        capacity=np.asarray(capacity, float),
    )


@pytest.mark.parametrize(
    "updates",
    [
        {},
        {
            "population.n_schools": 333,
            "network.mentors_per_region": 2,
            "network.mentees_per_mentor": 3,
        },
        {"population.n_schools": 47, "population.regions_per_country": 2},
    ],
)
def test_defaults_build_exactly_the_top_down_network(updates):
    td = scenario({**updates, "network.structure": "top_down"})
    de = scenario({**updates, "network.structure": "designed"})
    pop = population(td, seed=3)
    a = build_network(td, pop, np.random.default_rng(5))
    b = build_network(de, pop, np.random.default_rng(5))
    assert_same_network(a, b)


def test_defaults_run_exactly_as_top_down_and_cost_the_same():
    td = scenario({"network.structure": "top_down", "time.steps": 60})
    de = td.with_updates({"network.structure": "designed"})
    a, b = run_once(td, 11, 0).summary, run_once(de, 11, 0).summary
    assert {k: v for k, v in a.items() if k != "scenario"} == {
        k: v for k, v in b.items() if k != "scenario"
    }


def test_region_modes_none_and_online():
    sc = scenario(
        {
            "network.structure": "designed",
            "network.plan.regions": ["online"] * 6 + ["none"] * 6 + ["in_person"] * 12,
        }
    )
    pop = population(sc)
    graph = build(designed, sc, pop)
    assert_school_graph(graph, pop.n)
    assert_clusters_consistent(graph)
    members = schools_with_role(graph, "mentor") | schools_with_role(graph, "mentee")
    region_of = {s: int(pop.region[s]) for s in members}
    assert set(region_of.values()) == set(range(6)) | set(range(12, 24))
    for u, _v, d in edges_of_kind(graph, "mentoring") + edges_of_kind(graph, "peer"):
        online = pop.region[u] < 6
        assert d["mode"] == ("online" if online else "in_person")
        if d["kind"] == "mentoring":
            want = sc.contacts.strength_online if online else sc.contacts.strength_in_person
            assert d["strength"] == want


def test_region_list_of_the_wrong_length_is_a_one_line_error():
    sc = scenario({"network.structure": "designed", "network.plan.regions": ["online"] * 5})
    with pytest.raises(NetworkError, match=r"network.plan.regions: 5 entries for 24 regions"):
        build(designed, sc, population(sc))


def test_region_ranks_are_percentiles_with_shared_ties():
    np.testing.assert_allclose(region_ranks(np.array([3.0, 1.0, 2.0])), [1.0, 0.0, 0.5])
    np.testing.assert_allclose(region_ranks(np.array([1.0, 1.0, 5.0, 0.0])), [0.5, 0.5, 1, 0])
    np.testing.assert_allclose(region_ranks(np.array([7.0])), [1.0])


# Four schools in one region. Mean distances to the others: school 0 91.8 km, 1 43.9 km,
# 2 48.7 km, 3 51.0 km, so the nearness ranks are 0, 1, 2/3, 1/3; capacity ranks 1, 0, 1/3,
# 2/3; school 2 is the most disadvantaged.
TOY = {
    "capacity": [0.9, 0.4, 0.5, 0.6],
    "x": [100.0, 10.0, 0.0, 20.0],
    "y": [0.0, 0.0, 0.0, 30.0],
    "disadvantaged": [0.1, 0.2, 0.8, 0.3],
}


@pytest.mark.parametrize(
    ("weights", "mentor"),
    [
        ({}, 0),  # capacity only: the most capable school
        ({"capacity": 0.0, "distance": 1.0}, 1),  # the nearest to the others
        ({"capacity": 0.0, "disadvantage": 1.0}, 2),
        ({"capacity": 0.0, "disadvantage": -1.0}, 0),
        # scores 0.4 u(c) + u(near): 0.4, 1, 0.8, 0.6
        ({"capacity": 0.4, "distance": 1.0}, 1),
        # scores 2 u(c) + u(near): 2, 1, 1.33, 1.67
        ({"capacity": 2.0, "distance": 1.0}, 0),
    ],
)
def test_mentor_score_picks_the_hand_computed_school(weights, mentor):
    pop = toy_population(**TOY)
    sc = scenario(
        {
            "network.structure": "designed",
            "network.mentees_per_mentor": 3,
            **{f"network.plan.{k}": v for k, v in weights.items()},
        }
    )
    graph = build(designed, sc, pop)
    assert schools_with_role(graph, "mentor") == {mentor}
    assert set(mentor_of(graph)) == {0, 1, 2, 3} - {mentor}


def test_equal_scores_go_to_the_more_capable_school():
    pop = toy_population(**TOY)
    sc = scenario({"network.structure": "designed", "network.plan.capacity": 0.0})
    assert schools_with_role(build(designed, sc, pop), "mentor") == {0}


def test_centrality_counts_schools_within_the_proximity_radius():
    # school 1 has 2 schools within 10.5 km (0 and 2), the others one or none
    pop = toy_population([0.9, 0.5, 0.6, 0.4], [0, 10, 20, 80], [0, 0, 0, 0], [0.2] * 4)
    sc = scenario(
        {
            "network.structure": "designed",
            "network.proximity_radius_km": 10.5,
            "network.plan.capacity": 0.0,
            "network.plan.centrality": 1.0,
        }
    )
    assert schools_with_role(build(designed, sc, pop), "mentor") == {1}


@pytest.mark.parametrize(
    ("rule", "mentee"), [("nearest", 3), ("disadvantaged", 2), ("least_capable", 1)]
)
def test_mentee_rule_chooses_who_gets_the_one_slot(rule, mentee):
    pop = toy_population(**TOY)
    sc = scenario(
        {
            "network.structure": "designed",
            "network.mentees_per_mentor": 1,
            "network.plan.mentees": rule,
        }
    )
    graph = build(designed, sc, pop)
    assert mentor_of(graph) == {mentee: [0]}


def test_listed_mentors_replace_the_score():
    pop = toy_population(**TOY, region=[0, 0, 1, 1])
    sc = scenario(
        {
            "network.structure": "designed",
            "network.plan.regions": ["in_person", "online"],
            "network.plan.mentors": [1, 3],
        }
    )
    graph = build(designed, sc, pop)
    assert schools_with_role(graph, "mentor") == {1, 3}
    assert mentor_of(graph) == {0: [1], 2: [3]}
    modes = {(u, v): d["mode"] for u, v, d in edges_of_kind(graph, "mentoring")}
    assert sorted(modes.values()) == ["in_person", "online"]
    assert modes.get((2, 3), modes.get((3, 2))) == "online"


def test_listed_mentor_outside_the_schools_is_an_error():
    sc = scenario({"network.structure": "designed", "network.plan.mentors": [500]})
    with pytest.raises(NetworkError, match=r"network.plan.mentors: 500 outside 0 <= id < 120"):
        build(designed, sc, population(sc))


def test_too_few_schools_for_the_mentors_is_an_error():
    pop = toy_population(**TOY)
    sc = scenario({"network.structure": "designed", "network.mentors_per_region": 5})
    with pytest.raises(NetworkError, match="network.mentors_per_region: 5 mentors per region"):
        build(designed, sc, pop)


def test_the_registry_prices_each_cluster_by_its_mode():
    entry = STRUCTURES.get("designed")
    assert entry.coordination == ("coordination_top_down", "coordination_virtual")
    cc = CostParams()
    rate = costs.coordination_rate(entry, cc)
    assert rate == (cc.coordination_top_down, cc.coordination_virtual)
    cluster = np.array([0, 1, -1, 1])
    per_school = costs.mentor_rate(rate, cluster, np.array([MODE_IN_PERSON, MODE_ONLINE]))
    np.testing.assert_array_equal(per_school, [5000.0, 1500.0, 5000.0, 1500.0])
    assert costs.mentor_rate(1000.0, cluster, np.zeros(0)) == 1000.0
    # one pair per school (its country's structure's): a single price stands for both modes
    pairs = np.array([costs.rate_pair(1000.0), rate, rate, costs.rate_pair(1000.0)])
    per_school = costs.mentor_rate(pairs, cluster, np.array([MODE_IN_PERSON, MODE_ONLINE]))
    np.testing.assert_array_equal(per_school, [1000.0, 1500.0, 5000.0, 1000.0])


def test_a_mixed_plan_books_coordination_and_platform_by_region_mode():
    # 12 online regions, 4 without a programme, 8 in person, a one-year programme
    sc = scenario(
        {
            "network.structure": "designed",
            "network.plan.regions": ["online"] * 12 + ["none"] * 4 + ["in_person"] * 8,
            "time.steps": 60,
        }
    )
    summary = run_once(sc, 3, 0).summary
    cc = sc.costs
    assert summary["cost_coordination"] == pytest.approx(
        12 * cc.coordination_virtual + 8 * cc.coordination_top_down, rel=1e-12
    )
    # every school of an online region uses the platform all year (no dropouts by default)
    assert summary["dropouts"] == 0
    assert summary["cost_platform"] == pytest.approx(12 * 5 * cc.platform_per_school_year)
    assert summary["members_final"] == 20 * 5


def test_disadvantaged_coverage_is_the_share_of_disadvantaged_schools_in_the_programme():
    full = run_once(scenario({"network.structure": "top_down", "time.steps": 8}), 1, 0).summary
    none = run_once(scenario({"network.structure": "none", "time.steps": 8}), 1, 0).summary
    assert full["end_coverage_disadvantaged"] == 1.0
    assert none["end_coverage_disadvantaged"] == 0.0
    sc = scenario(
        {
            "network.structure": "designed",
            "network.mentees_per_mentor": 2,
            "network.plan.mentees": "disadvantaged",
            "time.steps": 8,
        }
    )
    prioritised = run_once(sc, 1, 0).summary["end_coverage_disadvantaged"]
    nearest = run_once(sc.with_updates({"network.plan.mentees": "nearest"}), 1, 0).summary
    assert prioritised > nearest["end_coverage_disadvantaged"]


def test_mentors_are_chosen_never_made_more_capable():
    sc = scenario({"network.structure": "designed", "network.plan.capacity": -1.0})
    pop = population(sc)
    graph = build(designed, sc, pop)
    mentors = np.array(sorted(schools_with_role(graph, "mentor")))
    # the least capable school of each region mentors; capacities are the population's
    for region in range(pop.n_regions):
        schools = np.flatnonzero(pop.region == region)
        assert mentors[np.isin(mentors, schools)] == schools[np.argmin(pop.capacity[schools])]
