"""Research graphs: sizes, degrees, parameters that cannot work."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from mensi_sim.errors import NetworkError
from mensi_sim.networks import graphs
from mensi_sim.scenario.schema import NetworkParams


def make(builder, n, seed=3, **params):
    return builder(n, NetworkParams(**params), np.random.default_rng(seed))


def degrees(graph):
    return np.array([d for _, d in graph.degree()])


@pytest.mark.parametrize(
    "builder",
    [
        graphs.complete,
        graphs.erdos_renyi,
        graphs.watts_strogatz,
        graphs.ring_lattice,
        graphs.random_regular,
        graphs.barabasi_albert,
        graphs.star,
    ],
)
def test_research_graph_attributes(builder):
    graph = make(builder, 60, graph_strength=0.7)
    assert sorted(graph.nodes) == list(range(60))
    assert all(d == {"role": "none", "cluster": -1} for _, d in graph.nodes(data=True))
    assert graph.number_of_edges() > 0
    for _, _, d in graph.edges(data=True):
        assert d == {"kind": "peer", "mode": "in_person", "strength": 0.7}
    assert nx.number_of_selfloops(graph) == 0


@pytest.mark.parametrize(
    "builder",
    [graphs.erdos_renyi, graphs.watts_strogatz, graphs.random_regular, graphs.barabasi_albert],
)
def test_random_graphs_are_reproducible(builder):
    a, b = make(builder, 200, seed=1), make(builder, 200, seed=1)
    assert set(a.edges) == set(b.edges)
    assert set(a.edges) != set(make(builder, 200, seed=2).edges)


def test_complete():
    graph = make(graphs.complete, 30)
    assert graph.number_of_edges() == 30 * 29 // 2
    assert make(graphs.complete, 1).number_of_edges() == 0


def test_complete_too_large_is_refused():
    with pytest.raises(NetworkError, match="^network.structure: "):
        make(graphs.complete, 20_000)


def test_erdos_renyi_extremes():
    assert make(graphs.erdos_renyi, 50, graph_p=0.0).number_of_edges() == 0
    assert make(graphs.erdos_renyi, 50, graph_p=1.0).number_of_edges() == 50 * 49 // 2


def test_erdos_renyi_mean_degree():
    n, p = 1000, 0.02
    graph = make(graphs.erdos_renyi, n, graph_p=p)
    pairs = n * (n - 1) / 2
    # mean degree = 2 E / n with E ~ Binomial(pairs, p)
    sd = 2 * np.sqrt(pairs * p * (1 - p)) / n
    assert abs(degrees(graph).mean() - (n - 1) * p) < 4 * sd


def test_ring_lattice_degrees_and_neighbours():
    n, k = 50, 6
    graph = make(graphs.ring_lattice, n, graph_degree=k)
    assert np.all(degrees(graph) == k)
    assert set(graph[0]) == {1, 2, 3, 47, 48, 49}
    assert make(graphs.ring_lattice, 10, graph_degree=0).number_of_edges() == 0


def test_ring_lattice_largest_even_degree():
    graph = make(graphs.ring_lattice, 7, graph_degree=6)
    assert graph.number_of_edges() == 21  # complete


def test_watts_strogatz_without_rewiring_is_the_ring_lattice():
    ring = make(graphs.ring_lattice, 80, graph_degree=4)
    ws = make(graphs.watts_strogatz, 80, graph_degree=4, graph_p=0.0)
    assert {frozenset(e) for e in ws.edges} == {frozenset(e) for e in ring.edges}


def test_watts_strogatz_rewiring_keeps_tie_count():
    ws = make(graphs.watts_strogatz, 200, graph_degree=4, graph_p=0.3)
    ring = make(graphs.ring_lattice, 200, graph_degree=4)
    assert ws.number_of_edges() == 400
    assert {frozenset(e) for e in ws.edges} != {frozenset(e) for e in ring.edges}


def test_random_regular_degrees():
    for n, d in [(100, 3), (101, 4), (10, 9), (10, 0)]:
        assert np.all(degrees(make(graphs.random_regular, n, graph_degree=d)) == d)


def test_barabasi_albert_tie_count():
    for n, m in [(100, 1), (100, 2), (50, 5)]:
        assert make(graphs.barabasi_albert, n, graph_m=m).number_of_edges() == m * (n - m)


def test_star_degrees():
    graph = make(graphs.star, 20)
    assert graph.degree(0) == 19
    assert all(graph.degree(i) == 1 for i in range(1, 20))
    assert make(graphs.star, 1).number_of_edges() == 0


@pytest.mark.parametrize(
    ("builder", "n", "params", "field"),
    [
        (graphs.ring_lattice, 20, {"graph_degree": 3}, "network.graph_degree"),
        (graphs.ring_lattice, 20, {"graph_degree": 20}, "network.graph_degree"),
        (graphs.watts_strogatz, 20, {"graph_degree": 5}, "network.graph_degree"),
        (graphs.watts_strogatz, 20, {"graph_degree": 22}, "network.graph_degree"),
        (graphs.random_regular, 21, {"graph_degree": 3}, "network.graph_degree"),
        (graphs.random_regular, 20, {"graph_degree": 20}, "network.graph_degree"),
        (graphs.barabasi_albert, 20, {"graph_m": 20}, "network.graph_m"),
    ],
)
def test_impossible_parameters_raise_one_line_error(builder, n, params, field):
    with pytest.raises(NetworkError) as err:
        make(builder, n, **params)
    message = str(err.value)
    assert message.startswith(f"{field}: ")
    assert "\n" not in message
