"""The ``designed`` structure: a programme planned region by region, with a mentor-choice rule.

One parameterised builder instead of one builder per variant: the plan
(``network.plan``, :class:`~mensi_sim.scenario.schema.PlanParams`) says for each region
whether it takes part and whether its clusters meet in person or online, how mentor
schools are chosen (a weighted score of capacity, centrality, nearness and disadvantage,
or a list of school ids) and which schools become mentees when the slots are too few.
``network.mentors_per_region`` and ``network.mentees_per_mentor`` size the clusters.
With the defaults (every region in person, weight 1 on capacity, nearest mentees) it
builds exactly ``top_down``'s hubs. The optimiser (``mensi_sim.analysis.optimise``)
searches over these parameters; a scenario can set them by hand as well.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from mensi_sim.codes import KIND_MENTORING, KIND_PEER, MODE_ONLINE
from mensi_sim.errors import NetworkError
from mensi_sim.networks.school_network import SchoolNetwork
from mensi_sim.networks.structures import (
    _check_region_sizes,
    _groups,
    _without,
    mentoring_network,
    nearest_assignment,
    with_community,
)
from mensi_sim.population import Population
from mensi_sim.scenario.schema import ContactParams, NetworkParams, PlanParams


def region_ranks(values: np.ndarray) -> np.ndarray:
    """Percentile ranks within one region: 0 for the lowest value, 1 for the highest.

    Equal values share their average rank; a region of one school gets 1.
    """
    n = values.size
    if n < 2:
        return np.ones(n)
    order = np.argsort(values, kind="stable")
    ranks = np.empty(n)
    ranks[order] = np.arange(n, dtype=float)
    # average the ranks of equal values (sorted runs)
    sorted_values = values[order]
    starts = np.flatnonzero(np.concatenate([[True], sorted_values[1:] != sorted_values[:-1]]))
    bounds = np.append(starts, n)
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        if b - a > 1:
            ranks[order[a:b]] = (a + b - 1) / 2
    return ranks / (n - 1)


def centrality(population: Population, radius_km: float) -> np.ndarray:
    """Schools within ``radius_km`` of each school (its possible informal contacts)."""
    xy = np.column_stack([population.x, population.y])
    from scipy.spatial import cKDTree  # here: the command line starts without scipy

    counts = cKDTree(xy).query_ball_point(xy, r=radius_km, return_length=True)
    return np.asarray(counts, dtype=float) - 1.0


def mean_distance(schools: np.ndarray, population: Population) -> np.ndarray:
    """Each school's mean distance (km) to the other schools of its group."""
    if schools.size < 2:
        return np.zeros(schools.size)
    x, y = population.x[schools], population.y[schools]
    d = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    return d.sum(axis=1) / (schools.size - 1)


def mentor_scores(
    schools: np.ndarray, population: Population, plan: PlanParams, central: np.ndarray
) -> np.ndarray:
    """The mentor score of each school of one region (see ``PlanParams``)."""
    score = plan.capacity * region_ranks(population.capacity[schools])
    if plan.centrality:
        score = score + plan.centrality * region_ranks(central[schools])
    if plan.distance:
        score = score + plan.distance * region_ranks(-mean_distance(schools, population))
    if plan.disadvantage:
        score = score + plan.disadvantage * region_ranks(population.disadvantaged[schools])
    return score


def choose_mentors(
    schools: np.ndarray, population: Population, plan: PlanParams, count: int, central: np.ndarray
) -> np.ndarray:
    """The ``count`` schools of a region with the highest score, best first (equal scores:
    higher capacity, then lower id).

    With a roster's ``volunteers_to_mentor`` hints (``population.mentor_hint``), as
    ``top_down`` takes them: schools that volunteer come first, then those without a hint,
    and a school that said no is never chosen (so fewer than ``count`` may come back).
    """
    score = mentor_scores(schools, population, plan, central)
    hints = population.mentor_hint
    if hints is None or not hints[schools].any():
        order = np.lexsort((schools, -population.capacity[schools], -score))
        return schools[order[:count]]
    h = hints[schools]
    order = np.lexsort((schools, -population.capacity[schools], -score, -h))
    order = order[h[order] >= 0]
    return schools[order[:count]]


def choose_mentees(others: np.ndarray, population: Population, rule: str, slots: int) -> np.ndarray:
    """The schools that may become mentees (ascending ids): all for ``nearest`` (the
    assignment then takes the nearest), else the ``slots`` most disadvantaged or least
    capable (equal values: lower id)."""
    if rule == "nearest" or others.size <= slots:
        return others
    key = (
        population.disadvantaged[others]
        if rule == "disadvantaged"
        else -population.capacity[others]
    )
    order = np.lexsort((others, -key))
    return np.sort(others[order[:slots]])


def region_modes(plan: PlanParams, n_regions: int) -> list[str]:
    """The mode of each region: ``plan.regions``, or ``plan.mode`` everywhere."""
    if not plan.regions:
        return [plan.mode] * n_regions
    if len(plan.regions) != n_regions:
        raise NetworkError(
            f"network.plan.regions: {len(plan.regions)} entries for {n_regions} regions "
            "(one per region, in region id order)"
        )
    return list(plan.regions)


def _listed_mentors(plan: PlanParams, n: int) -> np.ndarray:
    ids = np.asarray(plan.mentors, dtype=np.int64)
    bad = ids[(ids < 0) | (ids >= n)]
    if bad.size:
        raise NetworkError(f"network.plan.mentors: {int(bad[0])} outside 0 <= id < {n}")
    return np.unique(ids)


def designed(
    population: Population,
    net: NetworkParams,
    contacts: ContactParams,
    community: bool,
    rng: np.random.Generator,
) -> SchoolNetwork:
    """A programme planned region by region (``network.plan``).

    In each region whose mode is not ``none``: the mentors are the
    ``mentors_per_region`` schools with the highest mentor score (or the schools of
    ``plan.mentors`` in that region); the schools that may become mentees are chosen by
    ``plan.mentees``; each mentor gets up to ``mentees_per_mentor`` of them by the greedy
    closest-pair assignment (``nearest_assignment``). Mentoring and peer ties take the
    region's mode. Clusters are numbered by region, then mentor score (highest first).
    ``rng`` is used only for the community of practice.

    Raises:
        NetworkError: ``plan.regions`` does not have one entry per region, a listed mentor
            is not a school, or (mentors chosen by score) a region has fewer schools than
            ``mentors_per_region``.
    """
    plan = net.plan
    modes = region_modes(plan, population.n_regions)
    listed = _listed_mentors(plan, population.n) if plan.mentors else None
    regions = _check_region_sizes(population, net) if listed is None else _groups(population.region)
    central = (
        centrality(population, net.proximity_radius_km)
        if plan.centrality and listed is None
        else np.zeros(population.n)
    )
    xy = np.column_stack([population.x, population.y])
    k = net.mentees_per_mentor
    mentors, mentee, mentor_of, online = [], [], [], []
    for schools in regions:
        mode = modes[int(population.region[schools[0]])]
        if mode == "none":
            continue
        if listed is not None:
            chosen = schools[np.isin(schools, listed)]
        else:
            chosen = choose_mentors(schools, population, plan, net.mentors_per_region, central)
        if chosen.size == 0:
            continue
        others = choose_mentees(
            _without(schools, np.sort(chosen)), population, plan.mentees, chosen.size * k
        )
        owner = nearest_assignment(xy[chosen], xy[others], k)
        taken = owner >= 0
        mentors.append(chosen)
        mentee.append(others[taken])
        mentor_of.append(chosen[owner[taken]])
        if mode == "online":
            online.append(chosen)
    empty = np.zeros(0, np.int64)
    network = mentoring_network(
        population.n,
        np.concatenate(mentors) if mentors else empty,
        np.concatenate(mentee) if mentee else empty,
        np.concatenate(mentor_of) if mentor_of else empty,
        "in_person",
        contacts,
        net.peer_ties,
    )
    if online:
        network = _meet_online(network, np.concatenate(online), contacts)
    return with_community(network, contacts, rng) if community else network


def _meet_online(
    network: SchoolNetwork, online_mentors: np.ndarray, contacts: ContactParams
) -> SchoolNetwork:
    """The network with the mentoring and peer ties of the clusters led by
    ``online_mentors`` online (mentoring ties at the online strength)."""
    cluster = network.cluster
    online = np.zeros(max(int(cluster.max(initial=-1)) + 1, 1), dtype=bool)
    online[cluster[online_mentors]] = True
    c_src, c_dst = cluster[network.src], cluster[network.dst]
    in_online = (c_src >= 0) & online[np.clip(c_src, 0, None)]
    mentoring = in_online & (network.kind == KIND_MENTORING)
    peer = in_online & (network.kind == KIND_PEER) & (c_src == c_dst)
    mode, strength = network.mode.copy(), network.strength.copy()
    mode[mentoring | peer] = MODE_ONLINE
    strength[mentoring] = contacts.strength_online
    return dataclasses.replace(network, mode=mode, strength=strength)
