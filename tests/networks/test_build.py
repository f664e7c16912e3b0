"""build_network: the registry, determinism, proximity ties, files and error messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mensi_sim.codes import KIND_MENTORING, KIND_PROXIMITY, ROLE_MENTEE, ROLE_MENTOR
from mensi_sim.errors import NetworkError
from mensi_sim.networks import (
    build_network,
    file_population_size,
    tie_distance_km,
)
from mensi_sim.registry import STRUCTURES, structure_names

from .support import population, scenario

GENERATED = [s for s in structure_names() if s != "file"]


def assert_same_network(a, b):
    assert a.n == b.n
    for field in ("src", "dst", "kind", "mode", "strength", "role", "cluster"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


def test_registry_holds_every_structure_of_the_design_with_everything_about_it():
    policy = ("none", "top_down", "bottom_up", "virtual", "hybrid", "designed")
    research = (
        "complete",
        "erdos_renyi",
        "watts_strogatz",
        "ring_lattice",
        "random_regular",
        "barabasi_albert",
        "star",
        "file",
    )
    assert structure_names("policy") == policy
    assert structure_names("research") == research
    for entry in STRUCTURES:
        assert callable(entry.builder)
        assert entry.participation in ("voluntary", "compulsory")
        # a programme names its coordination price; a research graph says it has none
        assert (entry.coordination is not None) == entry.programme, entry.name


@pytest.mark.parametrize("structure", GENERATED)
def test_build_network_is_deterministic(structure):
    sc = scenario({"network.structure": structure, "population.n_schools": 300})
    pop = population(sc)
    a = build_network(sc, pop, np.random.default_rng(11))
    b = build_network(sc, pop, np.random.default_rng(11))
    assert_same_network(a, b)
    assert a.n == 300
    assert np.all((a.src >= 0) & (a.src < 300) & (a.dst >= 0) & (a.dst < 300))


def test_different_seeds_give_different_bottom_up_networks():
    sc = scenario({"network.structure": "bottom_up", "population.n_schools": 300})
    pop = population(sc)
    a = build_network(sc, pop, np.random.default_rng(1))
    b = build_network(sc, pop, np.random.default_rng(2))
    assert not np.array_equal(a.role, b.role)


def test_mentoring_ties_point_from_mentor_to_mentee():
    sc = scenario()
    net = build_network(sc, population(sc), np.random.default_rng(0))
    mentoring = net.kind == KIND_MENTORING
    assert mentoring.sum() == 96
    assert np.all(net.role[net.src[mentoring]] == ROLE_MENTOR)
    assert np.all(net.role[net.dst[mentoring]] == ROLE_MENTEE)


def test_proximity_ties_are_added_after_the_structure():
    sc = scenario({"population.n_schools": 500})
    pop = population(sc)
    with_prox = build_network(sc, pop, np.random.default_rng(0))
    without = build_network(
        sc.with_updates({"network.proximity": False}), pop, np.random.default_rng(0)
    )
    assert not np.any(without.kind == KIND_PROXIMITY)
    prox = with_prox.kind == KIND_PROXIMITY
    assert prox.sum() > 0
    assert np.all(with_prox.strength[prox] == sc.contacts.strength_proximity)
    assert with_prox.n_ties == without.n_ties + prox.sum()
    np.testing.assert_array_equal(with_prox.role, without.role)
    assert tie_distance_km(with_prox, pop)[prox].max() < sc.network.proximity_radius_km


def test_tie_distance_km():
    sc = scenario()
    pop = population(sc)
    net = build_network(sc, pop, np.random.default_rng(0))
    d = tie_distance_km(net, pop)
    assert d.shape == (net.n_ties,)
    i = 0
    u, v = net.src[i], net.dst[i]
    assert d[i] == pytest.approx(np.hypot(pop.x[u] - pop.x[v], pop.y[u] - pop.y[v]))


def test_file_structure_relative_to_the_scenario_file(tmp_path):
    pd.DataFrame(
        {
            "source": ["a", "b", "c"],
            "target": ["b", "c", "d"],
            "kind": ["mentoring", "peer", "peer"],
        }
    ).to_csv(tmp_path / "net.csv", index=False)
    (tmp_path / "net.nodes.csv").write_text(
        "id,role\na,mentor\nb,mentee\nc,mentee\nd,none\ne,none\n"
    )
    n = file_population_size(tmp_path / "net.csv")
    assert n == 5
    sc = scenario(
        {
            "network.structure": "file",
            "network.file": "net.csv",
            "population.n_schools": n,
            "source_path": str(tmp_path / "scenario.toml"),
            "network.proximity": False,
        }
    )
    net = build_network(sc, population(sc), np.random.default_rng(0))
    assert net.n_ties == 3
    assert net.role.tolist() == [ROLE_MENTOR, ROLE_MENTEE, ROLE_MENTEE, 0, 0]
    mentoring = net.kind == KIND_MENTORING
    assert (net.src[mentoring].tolist(), net.dst[mentoring].tolist()) == ([0], [1])


@pytest.mark.parametrize(
    ("updates", "field"),
    [
        ({"network.mentors_per_region": 6}, "network.mentors_per_region"),
        (
            {"network.structure": "hybrid", "network.mentors_per_region": 9},
            "network.mentors_per_region",
        ),
        (
            {"network.structure": "virtual", "network.virtual_mentors_per_country": 30},
            "network.virtual_mentors_per_country",
        ),
        (
            {
                "network.structure": "virtual",
                "network.virtual_scope": "cross_border",
                "network.virtual_mentors_per_country": 25,
            },
            "network.virtual_mentors_per_country",
        ),
        ({"network.structure": "ring_lattice", "network.graph_degree": 5}, "network.graph_degree"),
        (
            {"network.structure": "ring_lattice", "network.graph_degree": 120},
            "network.graph_degree",
        ),
        (
            {"network.structure": "watts_strogatz", "network.graph_degree": 3},
            "network.graph_degree",
        ),
        (
            {
                "network.structure": "random_regular",
                "network.graph_degree": 3,
                "population.n_schools": 121,
            },
            "network.graph_degree",
        ),
        (
            {"network.structure": "random_regular", "network.graph_degree": 200},
            "network.graph_degree",
        ),
        ({"network.structure": "barabasi_albert", "network.graph_m": 120}, "network.graph_m"),
        ({"network.structure": "file", "network.file": "/nonexistent/net.graphml"}, "network.file"),
    ],
)
def test_impossible_configurations_raise_one_line_errors(updates, field):
    sc = scenario(updates)
    with pytest.raises(NetworkError) as err:
        build_network(sc, population(sc), np.random.default_rng(0))
    message = str(err.value)
    assert message.startswith(f"{field}: ")
    assert "\n" not in message
