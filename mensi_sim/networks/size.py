"""How big a scenario's network will be, known before it is built.

``estimate_ties`` is an upper bound of the ties a structure builds, from its parameters
alone (no draw, no allocation): exact for the research graphs (the expected number for
Erdős–Rényi), a bound for the policy structures (mentoring ties, peer ties within
clusters, the community of practice, proximity ties). ``check_network_size`` refuses,
before anything is allocated, a network whose run would need more memory than the
machine allows (``mensi_sim.resources``), with the estimate and the limit.

The bytes per tie and per school were measured (peak resident memory of one run,
``run_once``, two weeks): a ring lattice of 200,000 schools with 2 million ties took
411 MB, an Erdős–Rényi graph of the same size (built through networkx) 622 MB, top-down
hubs on 200,000 schools 140 MB. The constants round those up.
"""

from __future__ import annotations

from mensi_sim.errors import NetworkError
from mensi_sim.networks.structures import COMMUNITY_DEGREE
from mensi_sim.resources import too_big
from mensi_sim.scenario.schema import Scenario

BYTES_PER_TIE = 300
BYTES_PER_SCHOOL = 2_000


def _cluster_ties(n: int, clusters: int, size: int) -> int:
    """Mentoring and peer ties of at most ``clusters`` clusters of ``size`` mentees each,
    among ``n`` schools."""
    members = min(n, clusters * size)
    peer = min(clusters * size * (size - 1) // 2, members * max(0, size - 1) // 2)
    return members + peer


def estimate_ties(scenario: Scenario) -> int:
    """An upper bound of the ties of the scenario's network (0 for a graph file: its
    size is the file's)."""
    pop, net = scenario.population, scenario.network
    n = pop.n_schools
    s = net.structure
    d = net.graph_degree
    research = {
        "complete": n * (n - 1) // 2,
        "erdos_renyi": int(net.graph_p * n * (n - 1) / 2),
        "ring_lattice": n * (d // 2),
        "watts_strogatz": n * (d // 2),
        "random_regular": n * d // 2,
        "barabasi_albert": net.graph_m * max(0, n - net.graph_m),
        "star": max(0, n - 1),
        "file": 0,
        "none": 0,
    }
    if s in research:
        ties = research[s]
    else:  # a policy structure (or a registered one): clusters around mentors
        regions = len(pop.countries) * pop.regions_per_country
        hubs = _cluster_ties(n, regions * net.mentors_per_region, net.mentees_per_mentor)
        online = _cluster_ties(
            n,
            len(pop.countries) * net.virtual_mentors_per_country,
            net.virtual_mentees_per_mentor,
        )
        volunteers = _cluster_ties(n, n, net.mentor_limit)
        ties = {"top_down": hubs, "hybrid": hubs, "virtual": online, "bottom_up": volunteers}.get(
            s, max(hubs, online, volunteers)
        )
        if scenario.has_community:
            ties += n * COMMUNITY_DEGREE // 2
    if net.proximity:
        ties += n * net.proximity_max_ties
    return ties


def run_bytes(scenario: Scenario) -> int:
    """About how many bytes one run of the scenario holds at its peak."""
    return (
        estimate_ties(scenario) * BYTES_PER_TIE + scenario.population.n_schools * BYTES_PER_SCHOOL
    )


def check_network_size(scenario: Scenario) -> None:
    """NetworkError, with the estimate and the limit, when one run would not fit in memory."""
    ties = estimate_ties(scenario)
    n = scenario.population.n_schools
    problem = too_big(
        f"{scenario.network.structure} on {n:,} schools (up to {ties:,.3g} ties)",
        run_bytes(scenario),
        "use fewer schools or a sparser network",
    )
    if problem is not None:
        raise NetworkError(f"network.structure: {problem}")
