"""Research and validation graphs on all n schools.

Each function is a pure function of the number of schools, the network
parameters and a numpy random generator, and returns an undirected
``networkx.Graph`` on the nodes ``0 .. n-1``: every school has role ``none``
and cluster -1, every tie is kind ``peer``, mode ``in_person`` and strength
``net.graph_strength``. Random networkx generators get
``seed=int(rng.integers(2**31))``. Impossible parameters raise
:class:`~mensi_sim.errors.NetworkError` with a one-line message naming the field.
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx
import numpy as np

from mensi_sim.errors import NetworkError
from mensi_sim.networks.structures import empty_school_graph, nx_seed
from mensi_sim.scenario.schema import NetworkParams

#: a complete graph with more ties than this is refused (it would not fit in memory)
MAX_COMPLETE_TIES = 50_000_000


def research_graph(n: int, edges: Iterable[tuple[int, int]], net: NetworkParams) -> nx.Graph:
    """The school graph with the given ties, all of kind peer, in person, ``graph_strength``."""
    graph = empty_school_graph(n)
    graph.add_edges_from(edges, kind="peer", mode="in_person", strength=net.graph_strength)
    return graph


def _check_degree_below_n(n: int, degree: int, field: str = "network.graph_degree") -> None:
    if degree >= n:
        raise NetworkError(f"{field}: {degree} must be less than the number of schools ({n})")


def _check_even_degree(degree: int) -> None:
    if degree % 2:
        raise NetworkError(
            f"network.graph_degree: {degree} must be even "
            "(graph_degree / 2 neighbours on each side)"
        )


def complete(n: int, net: NetworkParams, rng: np.random.Generator) -> nx.Graph:
    """Every pair of schools tied: n (n - 1) / 2 ties."""
    ties = n * (n - 1) // 2
    if ties > MAX_COMPLETE_TIES:
        raise NetworkError(
            f"network.structure: a complete graph on {n} schools has {ties} ties, more than "
            f"{MAX_COMPLETE_TIES}; use fewer schools (population.n_schools)"
        )
    return research_graph(n, nx.complete_graph(n).edges(), net)


def erdos_renyi(n: int, net: NetworkParams, rng: np.random.Generator) -> nx.Graph:
    """Each pair tied independently with probability ``graph_p`` (G(n, p))."""
    h = nx.fast_gnp_random_graph(n, net.graph_p, seed=nx_seed(rng))
    return research_graph(n, h.edges(), net)


def ring_lattice_edges(n: int, degree: int) -> np.ndarray:
    """Ties of a ring where each school links to the degree / 2 nearest on each side."""
    offsets = np.arange(1, degree // 2 + 1)
    u = np.repeat(np.arange(n), offsets.size)
    v = (u + np.tile(offsets, n)) % n
    return np.column_stack([u, v])


def ring_lattice(n: int, net: NetworkParams, rng: np.random.Generator) -> nx.Graph:
    """A ring: every school tied to the ``graph_degree / 2`` nearest on each side.

    Every school has degree ``graph_degree``, which must be even and less than n.
    """
    degree = net.graph_degree
    _check_even_degree(degree)
    _check_degree_below_n(n, degree)
    return research_graph(n, ring_lattice_edges(n, degree).tolist(), net)


def watts_strogatz(n: int, net: NetworkParams, rng: np.random.Generator) -> nx.Graph:
    """Small world: a ring lattice of degree ``graph_degree`` with each tie rewired with
    probability ``graph_p`` (p = 0 gives the ring lattice)."""
    degree = net.graph_degree
    _check_even_degree(degree)
    _check_degree_below_n(n, degree)
    h = nx.watts_strogatz_graph(n, degree, net.graph_p, seed=nx_seed(rng))
    return research_graph(n, h.edges(), net)


def random_regular(n: int, net: NetworkParams, rng: np.random.Generator) -> nx.Graph:
    """Random graph where every school has degree ``graph_degree`` (d < n, n d even)."""
    degree = net.graph_degree
    _check_degree_below_n(n, degree)
    if (n * degree) % 2:
        raise NetworkError(
            f"network.graph_degree: {degree} x {n} schools must be even for a random regular graph"
        )
    h = nx.random_regular_graph(degree, n, seed=nx_seed(rng))
    return research_graph(n, h.edges(), net)


def barabasi_albert(n: int, net: NetworkParams, rng: np.random.Generator) -> nx.Graph:
    """Preferential attachment: each new school ties to ``graph_m`` existing ones
    (m < n; m (n - m) ties, starting from a star on m + 1 schools)."""
    m = net.graph_m
    _check_degree_below_n(n, m, "network.graph_m")
    h = nx.barabasi_albert_graph(n, m, seed=nx_seed(rng))
    return research_graph(n, h.edges(), net)


def star(n: int, net: NetworkParams, rng: np.random.Generator) -> nx.Graph:
    """School 0 is the hub, tied to every other school."""
    return research_graph(n, ((0, i) for i in range(1, n)), net)

