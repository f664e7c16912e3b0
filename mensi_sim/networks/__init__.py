"""Network builders: which schools are tied, in which role, by which kind of tie.

``build_network(scenario, population, rng)`` is the entry point: it looks up
``scenario.network.structure`` in ``mensi_sim.registry.STRUCTURES``, calls the entry's
builder, converts a networkx graph to a :class:`SchoolNetwork` and adds proximity ties
when asked for.

Adding a structure is one function with the signature
``(population, net, contacts, community, rng) -> nx.Graph | SchoolNetwork`` (see
:class:`~mensi_sim.networks.structures.StructureBuilder`) and one
``STRUCTURES.register(Structure(...))`` call naming everything about it: whether it is a
programme, its participation default, community default, tie modes and the ``costs``
field of its coordination price. The schema accepts every registered name.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mensi_sim.errors import NetworkError
from mensi_sim.networks import designed, graphs, structures
from mensi_sim.networks.by_country import build_by_country, country_structures
from mensi_sim.networks.io import apply_node_attributes, file_population_size, load_graph_file
from mensi_sim.networks.proximity import proximity_ties
from mensi_sim.networks.school_network import SchoolNetwork
from mensi_sim.networks.structures import StructureBuilder, add_community
from mensi_sim.population import Population
from mensi_sim.registry import STRUCTURES, Structure
from mensi_sim.scenario.schema import ContactParams, NetworkParams, Scenario

if TYPE_CHECKING:  # imported where used: the command line starts without networkx
    import networkx as nx

__all__ = [
    "SchoolNetwork",
    "StructureBuilder",
    "apply_node_attributes",
    "build_network",
    "build_structure",
    "country_structures",
    "file_population_size",
    "graph_file_path",
    "load_graph_file",
    "proximity_ties",
    "tie_distance_km",
]


ResearchEdges = Callable[[int, NetworkParams, np.random.Generator], np.ndarray]


def research(name: str) -> StructureBuilder:
    """The structure builder of a research graph: its ties straight in array form (a
    complete graph on a few thousand schools would take seconds as a networkx graph)."""

    def builder(
        population: Population,
        net: NetworkParams,
        contacts: ContactParams,
        community: bool,
        rng: np.random.Generator,
    ) -> SchoolNetwork:
        return graphs.research_ties(name, population.n, net, rng)

    builder.__name__ = name
    builder.__doc__ = graphs.RESEARCH_EDGES[name].__doc__
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


def _register_builtin() -> None:
    """The built-in structures (policy structures first, in DESIGN.md order)."""
    policy = [
        ("none", structures.no_structure, False, "voluntary", False, (), None,
         "no mentoring: the baseline every comparison needs"),
        ("top_down", structures.top_down, True, "compulsory", False, ("in_person",),
         "coordination_top_down", "regional hubs designated by the ministry"),
        ("bottom_up", structures.bottom_up, True, "voluntary", False, ("in_person",),
         "coordination_bottom_up", "self-organised clusters of volunteers"),
        ("virtual", structures.virtual, True, "compulsory", True, ("online",),
         "coordination_virtual", "online mentoring regardless of distance, with a community"),
        ("hybrid", structures.hybrid, True, "compulsory", True, ("in_person", "online"),
         "coordination_top_down", "regional hubs with an online community of practice"),
        ("designed", designed.designed, True, "compulsory", False, ("in_person", "online"),
         ("coordination_top_down", "coordination_virtual"),
         "a programme planned region by region (network.plan): mode, mentor choice, mentees"),
    ]  # fmt: skip
    # participation: "voluntary" only where schools opt in (bottom_up); top_down, virtual
    # and hybrid assign schools to clusters, so their higher or lower engagement must not
    # come from a label (docs/ASSUMPTIONS.md 6)
    for name, builder, programme, participation, community, modes, coordination, text in policy:
        STRUCTURES.register(
            Structure(
                name=name,
                family="policy",
                builder=builder,
                programme=programme,
                participation=participation,
                community=community,
                modes=modes,
                coordination=coordination,
                description=text,
            )
        )
    for name in graphs.RESEARCH_EDGES:
        STRUCTURES.register(
            Structure(
                name=name,
                family="research",
                builder=research(name),
                programme=False,
                participation="voluntary",
                community=False,
                modes=("in_person",),
                coordination=None,
                description=f"research graph: {name.replace('_', ' ')}",
            )
        )
    STRUCTURES.register(
        Structure(
            name="file",
            family="research",
            builder=from_file,
            programme=False,
            participation="voluntary",
            community=False,
            modes=("in_person", "online"),
            coordination=None,
            description="a network read from GraphML, GEXF or an edge-list CSV",
        )
    )


_register_builtin()


def graph_file_path(scenario: Scenario) -> Path:
    """``network.file`` resolved: a relative path is relative to the scenario file's folder
    (to the working directory when the scenario did not come from a file)."""
    path = Path(scenario.network.file).expanduser()
    if not path.is_absolute() and scenario.source_path:
        path = Path(scenario.source_path).parent / path
    return path


def build_structure(
    scenario: Scenario, population: Population, rng: np.random.Generator
) -> nx.Graph | SchoolNetwork:
    """The graph of ``scenario.network.structure`` (no proximity ties): a networkx graph,
    or a SchoolNetwork for the research graphs and for ``structure_by_country``."""
    net = scenario.network
    if net.structure_by_country:
        return build_by_country(scenario, population, rng)
    try:
        builder = STRUCTURES.get(net.structure).builder
    except KeyError as exc:
        raise NetworkError(f"network.structure: {exc.args[0]}") from None
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
    built = build_structure(scenario, population, rng)
    network = (
        built if isinstance(built, SchoolNetwork) else SchoolNetwork.from_graph(built, population.n)
    )
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
