"""Setting up a run's world: the population of schools and the network that ties them."""

from __future__ import annotations

import numpy as np

from mensi_sim.networks import build_network, graph_file_path
from mensi_sim.networks.io import apply_node_attributes, file_population_size, load_graph_file
from mensi_sim.networks.school_network import SchoolNetwork
from mensi_sim.networks.size import check_network_size
from mensi_sim.population import Population, generate_population, roster_population
from mensi_sim.scenario.roster import read_roster
from mensi_sim.scenario.schema import Scenario


def build_world(
    scenario: Scenario, population_rng: np.random.Generator, network_rng: np.random.Generator
) -> tuple[Population, SchoolNetwork]:
    """Generate the schools and build the network of a scenario.

    With ``population.roster`` the schools are the roster's (``roster_population``). With
    ``network.structure = "file"`` the number of schools is the number of nodes in the
    file, and node attributes found in the file replace the generated ones.

    Raises:
        NetworkError: The network cannot be built, or would not fit in memory (checked
            before anything is built: ``networks.size.check_network_size``).
    """
    check_network_size(scenario)
    params = scenario.population
    if params.roster_files:
        population = roster_population(read_roster(params.roster_files), params, population_rng)
        return population, build_network(scenario, population, network_rng)
    node_table = None
    if scenario.network.structure == "file":
        path = graph_file_path(scenario)
        _, node_table = load_graph_file(path)
        params = params.model_copy(update={"n_schools": file_population_size(path)})
    population = generate_population(params, population_rng)
    if node_table is not None:
        population = apply_node_attributes(population, node_table)
    return population, build_network(scenario, population, network_rng)
