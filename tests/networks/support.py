"""Helpers shared by the network tests: scenarios, populations and graph queries."""

from __future__ import annotations

import networkx as nx
import numpy as np

from mensi_sim.networks.school_network import SchoolNetwork
from mensi_sim.population import Population, generate_population
from mensi_sim.scenario.schema import Scenario


def scenario(updates: dict | None = None) -> Scenario:
    """The default (MenSI pilot) scenario with dotted-path updates."""
    return Scenario().with_updates(updates or {})


def population(sc: Scenario, seed: int = 1) -> Population:
    """The scenario's generated population for a seed."""
    return generate_population(sc.population, np.random.default_rng(seed))


def as_graph(built: SchoolNetwork | nx.Graph) -> nx.Graph:
    """A structure builder's output as a networkx graph on all schools (role, cluster;
    kind, mode, strength), whether the builder returned a SchoolNetwork or a graph."""
    if isinstance(built, SchoolNetwork):
        return nx.Graph(built.to_networkx())
    return built


def mentor_of(graph: nx.Graph) -> dict[int, list[int]]:
    """For each mentee, the mentors it has a mentoring tie with."""
    result: dict[int, list[int]] = {}
    for u, v, kind in graph.edges(data="kind"):
        if kind != "mentoring":
            continue
        mentor, mentee = (u, v) if graph.nodes[u]["role"] == "mentor" else (v, u)
        assert graph.nodes[mentor]["role"] == "mentor"
        assert graph.nodes[mentee]["role"] == "mentee"
        result.setdefault(mentee, []).append(mentor)
    return result


def schools_with_role(graph: nx.Graph, role: str) -> set[int]:
    """Schools whose role is ``role``."""
    return {node for node, r in graph.nodes(data="role") if r == role}


def edges_of_kind(graph: nx.Graph, kind: str) -> list[tuple[int, int, dict]]:
    """Ties of one kind, with their attributes."""
    return [(u, v, d) for u, v, d in graph.edges(data=True) if d["kind"] == kind]
