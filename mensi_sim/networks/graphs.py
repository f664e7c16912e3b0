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
from typing import TYPE_CHECKING

import numpy as np

from mensi_sim.codes import KIND_PEER, MODE_IN_PERSON
from mensi_sim.errors import NetworkError
from mensi_sim.networks.school_network import SchoolNetwork
from mensi_sim.networks.structures import empty_school_graph, nx_seed
from mensi_sim.scenario.schema import NetworkParams

if TYPE_CHECKING:  # imported where used: the command line starts without networkx
    import networkx as nx

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


def _edges_of(graph: nx.Graph) -> np.ndarray:
    """The (m, 2) int64 array of a networkx graph's edges."""
    return np.array(list(graph.edges()), dtype=np.int64).reshape(-1, 2)


def complete_edges(n: int, net: NetworkParams, rng: np.random.Generator) -> np.ndarray:
    """Every pair of schools tied: n (n - 1) / 2 ties."""
    ties = n * (n - 1) // 2
    if ties > MAX_COMPLETE_TIES:
        raise NetworkError(
            f"network.structure: a complete graph on {n} schools has {ties} ties, more than "
            f"{MAX_COMPLETE_TIES}; use fewer schools (population.n_schools)"
        )
    u, v = np.triu_indices(n, k=1)
    return np.column_stack([u, v]).astype(np.int64)


def erdos_renyi_edges(n: int, net: NetworkParams, rng: np.random.Generator) -> np.ndarray:
    """Each pair tied independently with probability ``graph_p`` (G(n, p)).

    A ``graph_p`` below 2**-53 (where ``1 - p`` rounds to 1 and networkx would divide by
    ``log(1 - p) = 0``) gives no ties: the expected number, ``n (n - 1) / 2 * p``, is below
    3e-4 for the largest allowed n.
    """
    import networkx as nx

    seed = nx_seed(rng)  # drawn in every case, so the stream stays aligned
    if 1.0 - net.graph_p == 1.0:
        return np.zeros((0, 2), np.int64)
    return _edges_of(nx.fast_gnp_random_graph(n, net.graph_p, seed=seed))


def ring_lattice_edges(n: int, degree: int) -> np.ndarray:
    """Ties of a ring where each school links to the degree / 2 nearest on each side."""
    offsets = np.arange(1, degree // 2 + 1)
    u = np.repeat(np.arange(n), offsets.size)
    v = (u + np.tile(offsets, n)) % n
    return np.column_stack([u, v])


def ring_edges(n: int, net: NetworkParams, rng: np.random.Generator) -> np.ndarray:
    """A ring: every school tied to the ``graph_degree / 2`` nearest on each side.

    Every school has degree ``graph_degree``, which must be even and less than n.
    """
    degree = net.graph_degree
    _check_even_degree(degree)
    _check_degree_below_n(n, degree)
    return ring_lattice_edges(n, degree)


def watts_strogatz_edges(n: int, net: NetworkParams, rng: np.random.Generator) -> np.ndarray:
    """Small world: a ring lattice of degree ``graph_degree`` with each tie rewired with
    probability ``graph_p`` (p = 0 gives the ring lattice)."""
    import networkx as nx

    degree = net.graph_degree
    _check_even_degree(degree)
    _check_degree_below_n(n, degree)
    return _edges_of(nx.watts_strogatz_graph(n, degree, net.graph_p, seed=nx_seed(rng)))


def random_regular_edges(n: int, net: NetworkParams, rng: np.random.Generator) -> np.ndarray:
    """Random graph where every school has degree ``graph_degree`` (d < n, n d even)."""
    import networkx as nx

    degree = net.graph_degree
    _check_degree_below_n(n, degree)
    if (n * degree) % 2:
        raise NetworkError(
            f"network.graph_degree: {degree} x {n} schools must be even for a random regular graph"
        )
    return _edges_of(nx.random_regular_graph(degree, n, seed=nx_seed(rng)))


def barabasi_albert_edges(n: int, net: NetworkParams, rng: np.random.Generator) -> np.ndarray:
    """Preferential attachment: each new school ties to ``graph_m`` existing ones
    (m < n; m (n - m) ties, starting from a star on m + 1 schools)."""
    import networkx as nx

    m = net.graph_m
    _check_degree_below_n(n, m, "network.graph_m")
    return _edges_of(nx.barabasi_albert_graph(n, m, seed=nx_seed(rng)))


def star_edges(n: int, net: NetworkParams, rng: np.random.Generator) -> np.ndarray:
    """School 0 is the hub, tied to every other school."""
    others = np.arange(1, n, dtype=np.int64)
    return np.column_stack([np.zeros_like(others), others])


#: edge builder of each research graph: ``(n, net, rng) -> (m, 2) int array``
RESEARCH_EDGES = {
    "complete": complete_edges,
    "erdos_renyi": erdos_renyi_edges,
    "watts_strogatz": watts_strogatz_edges,
    "ring_lattice": ring_edges,
    "random_regular": random_regular_edges,
    "barabasi_albert": barabasi_albert_edges,
    "star": star_edges,
}


def research_ties(name: str, n: int, net: NetworkParams, rng: np.random.Generator) -> SchoolNetwork:
    """A research graph in array form (what the model uses: no networkx graph is built)."""
    edges = RESEARCH_EDGES[name](n, net, rng)
    m = edges.shape[0]
    network = SchoolNetwork.empty(n)
    network.src, network.dst = edges[:, 0].astype(np.int64), edges[:, 1].astype(np.int64)
    network.kind = np.full(m, KIND_PEER, np.int8)
    network.mode = np.full(m, MODE_IN_PERSON, np.int8)
    network.strength = np.full(m, net.graph_strength)
    return network


def _as_graph(name: str):
    def build(n: int, net: NetworkParams, rng: np.random.Generator) -> nx.Graph:
        return research_graph(n, RESEARCH_EDGES[name](n, net, rng).tolist(), net)

    build.__name__ = name
    build.__doc__ = RESEARCH_EDGES[name].__doc__
    return build


# the same graphs as networkx graphs, ``(n, net, rng) -> nx.Graph``
complete = _as_graph("complete")
erdos_renyi = _as_graph("erdos_renyi")
watts_strogatz = _as_graph("watts_strogatz")
ring_lattice = _as_graph("ring_lattice")
random_regular = _as_graph("random_regular")
barabasi_albert = _as_graph("barabasi_albert")
star = _as_graph("star")
