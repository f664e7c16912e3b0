"""One structure per country (``network.structure_by_country``): each ministry its own way.

Each country's structure is built on that country's schools only, by the structure's own
builder, as if the country were the whole population; the countries are built one after
the other in country order, each from its own generator under the network stream
(``seeds.country_generators``), so that a country's structure is the same whatever the
other countries' structures draw, and put together into one network (cluster ids
numbered on across countries). Proximity ties are then added over
the whole population as for any structure. Schools keep every attribute: a structure only
chooses roles among them.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from mensi_sim.networks.school_network import SchoolNetwork
from mensi_sim.population import Population
from mensi_sim.registry import Structure
from mensi_sim.scenario.schema import Scenario
from mensi_sim.seeds import country_generators


def country_structures(scenario: Scenario, population: Population) -> tuple[Structure, ...]:
    """The registry entry of the structure of each country (by country index)."""
    return tuple(scenario.structure_of(code) for code in population.country_codes)


def subpopulation(population: Population, schools: np.ndarray) -> Population:
    """The schools ``schools`` (ascending ids) as a population of their own, numbered
    0 .. k-1 in that order; codes, region ids and names are kept."""
    take = {
        f.name: getattr(population, f.name)[schools]
        for f in dataclasses.fields(population)
        if isinstance(getattr(population, f.name), np.ndarray)
    }
    return dataclasses.replace(population, **take)


def build_by_country(
    scenario: Scenario, population: Population, rng: np.random.Generator
) -> SchoolNetwork:
    """The network of ``structure_by_country`` (no proximity ties): each country's structure
    on its own schools from its own generator under ``rng``, clusters numbered in country
    order."""
    net = scenario.network
    role = np.zeros(population.n, np.int8)
    cluster = np.full(population.n, -1, np.int32)
    parts: list[SchoolNetwork] = []
    next_cluster = 0
    entries = country_structures(scenario, population)
    generators = country_generators(rng, len(entries))
    for c, entry in enumerate(entries):
        schools = np.flatnonzero(population.country == c)
        if schools.size == 0:
            continue
        sub = subpopulation(population, schools)
        built = entry.builder(
            sub, net, scenario.contacts, scenario.community_under(entry), generators[c]
        )
        part = built if isinstance(built, SchoolNetwork) else SchoolNetwork.from_graph(built, sub.n)
        role[schools] = part.role
        inside = part.cluster >= 0
        cluster[schools[inside]] = part.cluster[inside] + next_cluster
        next_cluster = max(next_cluster, int(cluster.max(initial=-1)) + 1)
        parts.append(dataclasses.replace(part, src=schools[part.src], dst=schools[part.dst]))
    network = SchoolNetwork.empty(population.n)
    for part in parts:
        network = network.merged(part)
    return dataclasses.replace(network, role=role, cluster=cluster)
