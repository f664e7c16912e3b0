"""Network builders: which schools are tied, in which role, by which kind of tie.

``build_network(scenario, population, rng)`` is the entry point: it looks up the
builder of ``scenario.network.structure`` in ``STRUCTURE_BUILDERS``, converts its
graph to a :class:`SchoolNetwork` and adds proximity ties when asked for.

Adding a structure means writing one function with the signature
``(population, net, contacts, community, rng) -> nx.Graph`` (see
:class:`~mensi_sim.networks.structures.StructureBuilder`) and adding one line to
``STRUCTURE_BUILDERS`` (and its name to the schema's ``StructureName``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import networkx as nx
import numpy as np

from mensi_sim.errors import NetworkError
from mensi_sim.networks import graphs, structures
from mensi_sim.networks.io import apply_node_attributes, file_population_size, load_graph_file
from mensi_sim.networks.proximity import proximity_ties
from mensi_sim.networks.school_network import SchoolNetwork
from mensi_sim.networks.structures import StructureBuilder, add_community
from mensi_sim.population import Population
from mensi_sim.scenario.schema import ContactParams, NetworkParams, Scenario

__all__ = [
    "STRUCTURE_BUILDERS",
    "SchoolNetwork",
    "StructureBuilder",
    "apply_node_attributes",
    "build_network",
    "build_structure",
    "file_population_size",
    "graph_file_path",
    "load_graph_file",
    "proximity_ties",
    "tie_distance_km",
]


ResearchGraph = Callable[[int, NetworkParams, np.random.Generator], nx.Graph]


def research(build: ResearchGraph) -> StructureBuilder:
    """A structure builder from a research graph function ``(n, net, rng) -> nx.Graph``."""

    def builder(
        population: Population,
        net: NetworkParams,
        contacts: ContactParams,
        community: bool,
        rng: np.random.Generator,
    ) -> nx.Graph:
        return build(population.n, net, rng)

    builder.__name__ = build.__name__
    builder.__doc__ = build.__doc__
    return builder


def from_file(
    population: Population,
    net: NetworkParams,
    contacts: ContactParams,
    community: bool,
    rng: np.random.Generator,
) -> nx.Graph:
    """The network in ``net.file`` (already resolved to a usable path), with the community
    of practice among the schools the file marks as mentor or mentee when ``community``."""
    graph, _ = load_graph_file(
        net.file, n_expected=population.n, default_strength=net.graph_strength
    )
    return add_community(graph, contacts, rng) if community else graph


#: builder of each ``network.structure``
STRUCTURE_BUILDERS: dict[str, StructureBuilder] = {
    "none": structures.no_structure,
    "top_down": structures.top_down,
    "bottom_up": structures.bottom_up,
    "virtual": structures.virtual,
    "hybrid": structures.hybrid,
    "complete": research(graphs.complete),
    "erdos_renyi": research(graphs.erdos_renyi),
    "watts_strogatz": research(graphs.watts_strogatz),
    "ring_lattice": research(graphs.ring_lattice),
    "random_regular": research(graphs.random_regular),
    "barabasi_albert": research(graphs.barabasi_albert),
    "star": research(graphs.star),
    "file": from_file,
}


def graph_file_path(scenario: Scenario) -> Path:
    """``network.file`` resolved: a relative path is relative to the scenario file's folder
    (to the working directory when the scenario did not come from a file)."""
    path = Path(scenario.network.file).expanduser()
    if not path.is_absolute() and scenario.source_path:
        path = Path(scenario.source_path).parent / path
    return path


def build_structure(
    scenario: Scenario, population: Population, rng: np.random.Generator
) -> nx.Graph:
    """The graph of ``scenario.network.structure`` (no proximity ties)."""
    net = scenario.network
    try:
        builder = STRUCTURE_BUILDERS[net.structure]
    except KeyError:
        raise NetworkError(
            f"network.structure: unknown structure {net.structure!r} "
            f"(use {', '.join(STRUCTURE_BUILDERS)})"
        ) from None
    if net.structure == "file":
        net = net.model_copy(update={"file": str(graph_file_path(scenario))})
    return builder(population, net, scenario.contacts, scenario.has_community, rng)


def build_network(
    scenario: Scenario, population: Population, rng: np.random.Generator
) -> SchoolNetwork:
    """All ties of a scenario's network, in array form.

    The structure's graph (:data:`STRUCTURE_BUILDERS`) plus, if
    ``network.proximity``, weak proximity ties (:func:`proximity_ties`; a pair
    may hold a proximity tie besides another tie). Deterministic for a given
    ``rng`` state. For ``structure = "file"`` the population must have as many
    schools as the file (see :func:`file_population_size`) and its attributes
    should come from :func:`apply_node_attributes`.

    Raises:
        NetworkError: the structure cannot be built with these parameters.
    """
    net = scenario.network
    if net.structure in graphs.RESEARCH_EDGES:
        # research graphs go straight to arrays: a complete graph on a few thousand
        # schools would take seconds to build as a networkx graph
        network = graphs.research_ties(net.structure, population.n, net, rng)
    else:
        network = SchoolNetwork.from_graph(build_structure(scenario, population, rng), population.n)
    if net.proximity:
        network = network.merged(
            proximity_ties(
                population,
                net.proximity_radius_km,
                net.proximity_max_ties,
                scenario.contacts.strength_proximity,
            )
        )
    return network


def tie_distance_km(network: SchoolNetwork, population: Population) -> np.ndarray:
    """Euclidean distance (km) between the two schools of each tie."""
    return np.hypot(
        population.x[network.src] - population.x[network.dst],
        population.y[network.src] - population.y[network.dst],
    )
