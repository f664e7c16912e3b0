"""Policy structures: who mentors whom under each way of organising the network.

Every builder is a pure function of the population, the network and contact
parameters, whether an online community of practice links the participants, and
a numpy random generator. It returns a
:class:`~mensi_sim.networks.school_network.SchoolNetwork` of all n schools, built
straight from arrays (a networkx graph of a million schools took seconds to build and
to read back), with

- per school ``role`` (mentor, mentee or none) and ``cluster`` (the mentor's cluster
  index ``0, 1, ...``; ``-1`` outside any cluster; a mentor and its mentees share the
  cluster id), and
- per tie ``kind`` (mentoring, peer or community), ``mode`` (in person or online) and
  ``strength`` (from :class:`~mensi_sim.scenario.schema.ContactParams`); a mentoring
  tie points from the mentor (``src``) to the mentee.

A structure holds at most one tie per pair of schools; when the community of practice
would link two schools that already share a mentoring or peer tie, the stronger
existing tie is kept and no community tie is added. The ties come in the order in which
``SchoolNetwork.from_graph`` lists the same ties of a networkx graph on the nodes
``0 .. n-1`` (``network_order``), so that an array builder and a graph builder of the
same ties give the same run. A registered builder may return a networkx graph instead
(``mensi_sim.networks.build_network`` converts it).

All randomness comes from ``rng``; networkx gets ``int(rng.integers(2**31))``
as its seed, so the same generator state gives the same graph.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

from mensi_sim.codes import (
    KIND_COMMUNITY,
    KIND_MENTORING,
    KIND_PEER,
    MODE_IN_PERSON,
    MODE_ONLINE,
    ROLE_MENTEE,
    ROLE_MENTOR,
    ROLE_NONE,
)
from mensi_sim.errors import NetworkError
from mensi_sim.networks.school_network import SchoolNetwork
from mensi_sim.population import Population, most_capable
from mensi_sim.scenario.schema import ContactParams, NetworkParams

if TYPE_CHECKING:  # networkx and scipy.spatial are imported where used (a fast start)
    import networkx as nx

#: ties per participant in the community of practice (fewer when there are fewer participants)
COMMUNITY_DEGREE = 4
#: above this many participants the community is drawn by vectorised stub pairing
#: instead of ``nx.random_regular_graph`` (which is exact but slow in pure Python)
COMMUNITY_EXACT_LIMIT = 10_000
#: bottom_up: a would-be mentee considers at most this many nearest volunteers
BOTTOM_UP_CANDIDATES = 50
#: bottom_up: attractiveness floor added to the capacity gap
GAP_FLOOR = 0.05
#: bottom_up: attractiveness factor of a mentor in the mentee's own country
SAME_COUNTRY_BONUS = 1.5


class StructureBuilder(Protocol):
    """The signature of every registered structure builder (``mensi_sim.registry.Structure``)."""

    def __call__(
        self,
        population: Population,
        net: NetworkParams,
        contacts: ContactParams,
        community: bool,
        rng: np.random.Generator,
    ) -> SchoolNetwork | nx.Graph: ...


def nx_seed(rng: np.random.Generator) -> int:
    """A seed for a networkx generator, drawn from ``rng``."""
    return int(rng.integers(2**31))


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """Distinct values in ascending order (sort-based; faster than ``np.unique`` on big arrays)."""
    values = np.sort(np.asarray(values))
    if values.size == 0:
        return values
    return values[np.concatenate([[True], values[1:] != values[:-1]])]


# ---------------------------------------------------------------------------
# graph assembly helpers
# ---------------------------------------------------------------------------


def empty_school_graph(n: int) -> nx.Graph:
    """n schools, no ties, every school role ``none`` and cluster -1."""
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(range(n), role="none", cluster=-1)
    return graph


def network_order(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The order in which ``SchoolNetwork.from_graph`` lists these ties, given in the order
    they were added to a networkx graph whose nodes are ``0 .. n-1`` in order: by the
    smaller school of each tie, then by when the tie was added (networkx lists a node's
    ties in the order they were added, each tie once from its first node)."""
    return np.argsort(np.minimum(src, dst), kind="stable")


def mentoring_network(
    n: int,
    mentors: np.ndarray,
    mentee: np.ndarray,
    mentor_of: np.ndarray,
    mode: str,
    contacts: ContactParams,
    peer_ties: bool,
    peer_mode: str | None = None,
) -> SchoolNetwork:
    """Mentoring clusters as a SchoolNetwork.

    Args:
        n: number of schools.
        mentors: school ids of the mentors, in cluster order (``mentors[c]`` leads
            cluster ``c``; distinct); a mentor with no mentee still gets role mentor.
        mentee: school ids of the mentees (distinct, none of them a mentor).
        mentor_of: for each entry of ``mentee``, its mentor's school id.
        mode: mode of the mentoring ties, ``"in_person"`` or ``"online"``.
        contacts: tie strengths.
        peer_ties: link all mentees of one cluster by peer ties.
        peer_mode: mode of the peer ties (default: ``mode``).

    Returns:
        The roles, clusters, mentoring ties (mentor to mentee) and peer ties, in
        ``network_order``.
    """
    mentors = np.asarray(mentors, dtype=np.int64)
    mentee = np.asarray(mentee, dtype=np.int64)
    mentor_of = np.asarray(mentor_of, dtype=np.int64)
    role = np.full(n, ROLE_NONE, np.int8)
    cluster = np.full(n, -1, np.int32)
    role[mentors] = ROLE_MENTOR
    cluster[mentors] = np.arange(mentors.size, dtype=np.int32)
    mentee_cluster = cluster[mentor_of].astype(np.int64)
    role[mentee] = ROLE_MENTEE
    cluster[mentee] = mentee_cluster
    src, dst = [mentor_of], [mentee]
    kinds = [np.full(mentee.size, KIND_MENTORING, np.int8)]
    modes = [np.full(mentee.size, _mode_code(mode), np.int8)]
    strengths = [np.full(mentee.size, _strength(mode, contacts))]
    if peer_ties:
        u, v = within_cluster_pairs(mentee, mentee_cluster)
        src.append(u)
        dst.append(v)
        kinds.append(np.full(u.size, KIND_PEER, np.int8))
        modes.append(np.full(u.size, _mode_code(peer_mode or mode), np.int8))
        strengths.append(np.full(u.size, contacts.strength_peer))
    network = SchoolNetwork(
        n=n,
        src=np.concatenate(src),
        dst=np.concatenate(dst),
        kind=np.concatenate(kinds),
        mode=np.concatenate(modes),
        strength=np.concatenate(strengths),
        role=role,
        cluster=cluster,
    )
    return _in_network_order(network)


def _mode_code(mode: str) -> int:
    return MODE_ONLINE if mode == "online" else MODE_IN_PERSON


def _strength(mode: str, contacts: ContactParams) -> float:
    return contacts.strength_online if mode == "online" else contacts.strength_in_person


def _in_network_order(network: SchoolNetwork) -> SchoolNetwork:
    """The network with its ties (given in the order they were added) in network_order;
    undirected ties point from the smaller school id, mentoring ties from the mentor."""
    order = network_order(network.src, network.dst)
    src, dst = network.src[order], network.dst[order]
    kind = network.kind[order]
    undirected = kind != KIND_MENTORING
    low, high = np.minimum(src, dst), np.maximum(src, dst)
    return SchoolNetwork(
        n=network.n,
        src=np.where(undirected, low, src),
        dst=np.where(undirected, high, dst),
        kind=kind,
        mode=network.mode[order],
        strength=network.strength[order],
        role=network.role,
        cluster=network.cluster,
    )


def within_cluster_pairs(school: np.ndarray, cluster: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of schools that share a cluster, each pair once.

    Loops over the offset within a cluster (up to the largest cluster size), not
    over schools or clusters.
    """
    order = np.lexsort((school, cluster))
    school, cluster = school[order], cluster[order]
    u, v = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for offset in range(1, school.size):
        same = cluster[:-offset] == cluster[offset:]
        if not same.any():
            break
        u.append(school[:-offset][same])
        v.append(school[offset:][same])
    return np.concatenate(u), np.concatenate(v)


def participants_of(graph: nx.Graph) -> np.ndarray:
    """Sorted school ids whose role is mentor or mentee."""
    ids = [node for node, role in graph.nodes(data="role") if role in ("mentor", "mentee")]
    return np.array(sorted(ids), dtype=np.int64)


def random_regular_pairs(m: int, degree: int, rng: np.random.Generator) -> np.ndarray:
    """Pairs (a, b), a < b, of a random graph on m nodes where (almost) every node has ``degree``.

    Exact (``nx.random_regular_graph``) up to ``COMMUNITY_EXACT_LIMIT`` nodes. Above
    it, stubs are paired at random in numpy; self-loops and repeated pairs are
    re-paired a few times and the few left over are dropped, so a handful of
    nodes may end with one tie fewer. ``m * degree`` must be even.
    """
    if m < 2 or degree <= 0:
        return np.zeros((0, 2), np.int64)
    if m <= COMMUNITY_EXACT_LIMIT:
        import networkx as nx

        h = nx.random_regular_graph(degree, m, seed=nx_seed(rng))
        pairs = np.array(list(h.edges()), dtype=np.int64).reshape(-1, 2)
        return np.sort(pairs, axis=1)
    stubs = np.repeat(np.arange(m, dtype=np.int64), degree)
    kept = np.zeros((0, 2), np.int64)
    for _ in range(20):
        stubs = rng.permutation(stubs)
        pairs = np.sort(stubs.reshape(-1, 2), axis=1)
        candidate = np.concatenate([kept, pairs])
        key = candidate[:, 0] * m + candidate[:, 1]
        _, first = np.unique(key, return_index=True)
        good = np.zeros(len(candidate), bool)
        good[first] = True
        good &= candidate[:, 0] != candidate[:, 1]
        good[: len(kept)] = True  # pairs kept earlier stay
        kept = candidate[good]
        stubs = candidate[~good].ravel()
        if stubs.size == 0:
            break
    return kept


def community_pairs(participants: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(a, b) school pairs, a < b, of the community of practice among ``participants``
    (sorted school ids): a random graph where each has ``min(4, m - 1)`` ties."""
    m = participants.size
    pairs = random_regular_pairs(m, min(COMMUNITY_DEGREE, m - 1), rng)
    return participants[pairs].reshape(-1, 2)


def add_community(graph: nx.Graph, contacts: ContactParams, rng: np.random.Generator) -> nx.Graph:
    """Link the participants (mentors and mentees) of a networkx graph by an online
    community of practice (``community_pairs``); pairs already tied keep that tie.
    Changes and returns ``graph`` (a structure read from a file; ``with_community`` does
    the same for a SchoolNetwork)."""
    tie = {"kind": "community", "mode": "online", "strength": contacts.strength_community}
    graph.add_edges_from(
        (u, v, tie)
        for u, v in community_pairs(participants_of(graph), rng).tolist()
        if not graph.has_edge(u, v)
    )
    return graph


def with_community(
    network: SchoolNetwork, contacts: ContactParams, rng: np.random.Generator
) -> SchoolNetwork:
    """The network with the participants (mentors and mentees) linked by an online
    community of practice (``community_pairs``: each tied to ``min(4, m - 1)`` others at
    random, a small world). Pairs already tied by mentoring or peer ties keep that tie;
    the ties stay in ``network_order`` (the community's added after the others)."""
    participants = np.flatnonzero(network.role != ROLE_NONE).astype(np.int64)
    pairs = community_pairs(participants, rng)
    n = np.int64(network.n)
    low = np.minimum(network.src, network.dst)
    high = np.maximum(network.src, network.dst)
    pairs = pairs[~_is_in(pairs[:, 0] * n + pairs[:, 1], low * n + high)]
    k = len(pairs)
    # the existing ties were added first: sorting all of them again, stably, by the smaller
    # school puts the community ties where networkx would have listed them
    added = SchoolNetwork(
        n=network.n,
        src=np.concatenate([network.src, pairs[:, 0]]),
        dst=np.concatenate([network.dst, pairs[:, 1]]),
        kind=np.concatenate([network.kind, np.full(k, KIND_COMMUNITY, np.int8)]),
        mode=np.concatenate([network.mode, np.full(k, MODE_ONLINE, np.int8)]),
        strength=np.concatenate([network.strength, np.full(k, contacts.strength_community)]),
        role=network.role,
        cluster=network.cluster,
    )
    return _in_network_order(added)


def _is_in(values: np.ndarray, among: np.ndarray) -> np.ndarray:
    """``np.isin(values, among)`` by sorting and binary search: numpy's hash table took
    half a second for a million-school community."""
    among = np.sort(among)
    if among.size == 0:
        return np.zeros(values.size, dtype=bool)
    pos = np.minimum(np.searchsorted(among, values), among.size - 1)
    return among[pos] == values


def _groups(labels: np.ndarray) -> list[np.ndarray]:
    """School ids grouped by label (ascending label, ascending id within a group)."""
    order = np.argsort(labels, kind="stable")
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    return np.split(order, bounds) if order.size else []


def _top_capacity(
    schools: np.ndarray, capacity: np.ndarray, count: int, hints: np.ndarray | None = None
) -> np.ndarray:
    """The ``count`` schools with the highest capacity (ties: lower id first), best first.

    With ``hints`` (a roster's ``volunteers_to_mentor``: 1 yes, 0 no hint, -1 no), schools
    that volunteer come first, then those without a hint; a school that said no is never
    chosen (so fewer than ``count`` may come back).
    """
    if hints is None or not hints[schools].any():
        return schools[_best_first(capacity[schools], schools, count)]
    h = hints[schools]
    order = np.lexsort((schools, -capacity[schools], -h))
    order = order[h[order] >= 0]
    return schools[order[:count]]


def _best_first(values: np.ndarray, schools: np.ndarray, count: int) -> np.ndarray:
    """The places of the ``count`` highest ``values`` (ties: lower school id; NaN last),
    best first: ``np.lexsort((schools, -values))[:count]``.

    With ``schools`` ascending (a group of ``_groups``) the chosen are found by
    ``population.most_capable`` (a partition) and only they are sorted: a thousand regions'
    40 mentors in 0.03 s instead of 0.06 s for the lexsort of every school.
    """
    if count < 0 or (schools.size > 1 and not np.all(schools[1:] > schools[:-1])):
        return np.lexsort((schools, -values))[:count]
    chosen = most_capable(values, count)  # a tie by place is a tie by id
    return chosen[np.argsort(-values[chosen], kind="stable")]


def _may_mentor(population: Population, schools: np.ndarray) -> int:
    """How many of ``schools`` may be chosen as mentors (all but those that said no;
    all of them without hints, counted without a zero hint per school)."""
    if population.mentor_hint is None:
        return int(schools.size)
    return int(np.count_nonzero(population.mentor_hint[schools] >= 0))


def _without(schools: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """``schools`` (ascending, distinct) without ``chosen`` (some of them), in order.

    The same as ``np.setdiff1d(schools, chosen)``, without its sorting: about 8 times
    faster on the small groups of a region loop.
    """
    keep = np.ones(schools.size, bool)
    keep[np.searchsorted(schools, chosen)] = False
    return schools[keep]


# ---------------------------------------------------------------------------
# none
# ---------------------------------------------------------------------------


def no_structure(
    population: Population,
    net: NetworkParams,
    contacts: ContactParams,
    community: bool,
    rng: np.random.Generator,
) -> SchoolNetwork:
    """The baseline: no mentoring, no ties, every school role none."""
    return SchoolNetwork.empty(population.n)


# ---------------------------------------------------------------------------
# top_down
# ---------------------------------------------------------------------------


def nearest_assignment(
    mentor_xy: np.ndarray, school_xy: np.ndarray, k: int, width: int | None = None
) -> np.ndarray:
    """Assign schools to mentors, closest pairs first, at most k schools per mentor.

    Greedy: repeatedly take the closest (mentor, free school) pair among mentors
    with a free slot (ties: lower mentor index, then lower school index). Only
    each mentor's nearest candidates are sorted (cKDTree); the candidate lists
    are doubled and the greedy redone if a mentor exhausts its list while it
    still has slots and free schools remain, so the result is exactly the greedy
    over all pairs.

    Args:
        mentor_xy: (M, 2) mentor coordinates.
        school_xy: (S, 2) coordinates of the schools that can be assigned.
        k: slots per mentor.
        width: candidates per mentor of the first pass (default ``first_width``).

    Returns:
        For each school, the index of its mentor in ``mentor_xy``, or -1.
    """
    n_mentors, n_schools = len(mentor_xy), len(school_xy)
    owner = np.full(n_schools, -1, np.int64)
    if n_mentors == 0 or n_schools == 0 or k <= 0:
        return owner
    from scipy.spatial import cKDTree

    tree = cKDTree(school_xy)
    width = first_width(n_schools, k) if width is None else min(n_schools, width)
    while True:
        dist, idx = tree.query(mentor_xy, k=width)
        dist = dist.reshape(n_mentors, width)
        idx = idx.reshape(n_mentors, width)
        mentor_idx = np.repeat(np.arange(n_mentors), width)
        flat_d, flat_s = dist.ravel(), idx.ravel()
        order = np.lexsort((flat_s, mentor_idx, flat_d))
        # the greedy walks the candidate pairs one by one: plain Python lists, whose
        # items cost a tenth of a numpy scalar's each (the loop is most of a top_down)
        own = [-1] * n_schools
        slots = [k] * n_mentors
        used = [0] * n_mentors  # candidates of each mentor already passed
        open_mentors, free_schools = n_mentors, n_schools
        exhausted = False
        for m, s in zip(mentor_idx[order].tolist(), flat_s[order].tolist(), strict=True):
            used[m] += 1
            if slots[m] and own[s] < 0:
                own[s] = m
                slots[m] -= 1
                free_schools -= 1
                open_mentors -= slots[m] == 0
                if open_mentors == 0 or free_schools == 0:
                    break
            if slots[m] and used[m] == width and width < n_schools:
                exhausted = True
                break
        owner[:] = own
        if not exhausted:
            return owner
        width = min(n_schools, 2 * width)


def first_width(n_schools: int, k: int) -> int:
    """Candidates per mentor in the first pass of ``nearest_assignment``."""
    return min(n_schools, 2 * k + 8)


#: ``nearest_candidates`` measures every distance when a group has at most this many
#: mentors (a k-d tree of the group's schools costs more than a few rows of distances)
BRUTE_FORCE_MENTORS = 16


def nearest_candidates(
    mentor_xy: np.ndarray, school_xy: np.ndarray, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each mentor's ``width`` nearest schools: ``cKDTree(school_xy).query(mentor_xy, width)``
    as ``(dist, idx)``, both (M, width), up to the order of equal distances within a row.

    With few mentors every distance is measured instead of building the tree: the same
    float sum the tree uses (``dx * dx + dy * dy``, then the square root), so the same
    distances. Which of several schools at exactly the cut-off's distance the tree takes
    depends on its shape, so when a row has such a tie the tree answers after all.
    """
    n_mentors, n_schools = len(mentor_xy), len(school_xy)
    if n_mentors <= BRUTE_FORCE_MENTORS and 0 < width:
        dx = school_xy[None, :, 0] - mentor_xy[:, None, 0]
        dy = school_xy[None, :, 1] - mentor_xy[:, None, 1]
        d2 = dx * dx + dy * dy
        if width < n_schools:
            part = np.argpartition(d2, width, axis=1)
            idx = part[:, :width]
            chosen = np.take_along_axis(d2, idx, axis=1)
            next_d2 = np.take_along_axis(d2, part[:, width : width + 1], axis=1)[:, 0]
            tie = chosen.max(axis=1) == next_d2
        else:
            idx = np.broadcast_to(np.arange(n_schools), d2.shape)
            chosen, tie = d2, np.zeros(n_mentors, bool)
        if not tie.any():
            return np.sqrt(chosen), np.ascontiguousarray(idx, dtype=np.intp)
    from scipy.spatial import cKDTree

    dist, idx = cKDTree(school_xy).query(mentor_xy, k=width)
    return dist.reshape(n_mentors, width), idx.reshape(n_mentors, width)


def nearest_assignments(
    xy: np.ndarray, mentors: list[np.ndarray], schools: list[np.ndarray], k: int
) -> list[np.ndarray]:
    """``nearest_assignment(xy[mentors[g]], xy[schools[g]], k)`` for every group g
    (a region), all groups in one vectorised greedy.

    The greedy over the candidate pairs of all groups, each group's pairs in the order
    ``nearest_assignment`` walks them (closest first; ties: lower mentor, lower school),
    runs in rounds instead of pair by pair: a round accepts every pair that is its
    school's first undecided pair and among its mentor's first ``slots`` undecided pairs
    (whatever happens to the pairs before it, the greedy takes it), then drops the pairs
    of taken schools and of full mentors (the greedy would reject them: a full mentor's
    accepted pairs all come before its undecided ones). The loop over pairs and the
    sorts of its walk, a thousand regions one by one, took 0.3 s of a top_down at a
    million schools; the rounds are a few dozen array passes (0.03 s).
    A group whose first candidate lists run out (``nearest_assignment`` would widen
    them) is redone by ``nearest_assignment`` from the doubled width, so every group's
    assignment is the one ``nearest_assignment`` gives.

    Returns:
        Per group, for each of its schools the index of its mentor in ``mentors[g]``, or -1.
    """
    n_groups = len(mentors)
    owners = [np.full(len(s), -1, np.int64) for s in schools]
    n_m = np.array([len(m) for m in mentors], dtype=np.int64)
    n_s = np.array([len(s) for s in schools], dtype=np.int64)
    live = [g for g in range(n_groups) if n_m[g] and n_s[g] and k > 0]
    if not live:
        return owners
    m_off = np.concatenate([[0], np.cumsum(n_m)])
    s_off = np.concatenate([[0], np.cumsum(n_s)])
    widths = np.array([first_width(int(n), k) for n in n_s], dtype=np.int64)
    # each candidate pair's mentor (global id): a mentor's width pairs, group after group
    pair_m = np.repeat(np.arange(m_off[-1]), np.repeat(widths, n_m))
    n_pairs = pair_m.size
    pair_s, walks = [], []
    start = 0
    for g in live:  # rows gathered by np.take: xy[ids], in a third of the time
        mentor_xy, school_xy = np.take(xy, mentors[g], axis=0), np.take(xy, schools[g], axis=0)
        dist, idx = nearest_candidates(mentor_xy, school_xy, int(widths[g]))
        end = start + dist.size
        walks.append(_walk_order(dist.ravel(), pair_m[start:end], idx.ravel()) + start)
        pair_s.append(idx.ravel() + s_off[g])
        start = end
    walk = np.concatenate(walks)
    pos = np.empty(n_pairs, np.int64)
    pos[walk] = np.arange(n_pairs)
    # each mentor's pairs in walk order: the distinct keys (mentor, place in the walk) by
    # one vectorised sort, where a stable argsort per group took 0.03 s of a million schools
    key = pair_m * n_pairs + pos
    key.sort()
    m, pos = np.divmod(key, n_pairs)
    s = np.concatenate(pair_s)[walk[pos]]
    last_pos = np.full(m_off[-1], -1, np.int64)  # each mentor's last candidate
    np.maximum.at(last_pos, m, pos)
    accepted_m, accepted_s, accepted_pos = _greedy_rounds(m, s, pos, m_off[-1], s_off[-1], k)
    load = np.bincount(accepted_m, minlength=m_off[-1])
    mentor_g = np.repeat(np.arange(n_groups), n_m)  # each mentor's group
    # where nearest_assignment stops early: all its mentors full or all its schools taken
    accepted_g = mentor_g[accepted_m]
    taken = np.bincount(accepted_g, minlength=n_groups)
    full = np.bincount(accepted_g[load[accepted_m] == k], minlength=n_groups)
    stop = np.full(n_groups, np.iinfo(np.int64).max)
    if accepted_pos.size:
        last_accept = np.full(n_groups, -1, np.int64)
        np.maximum.at(last_accept, accepted_g, accepted_pos)
        done = (full == k * n_m) | (taken == n_s)
        stop[done] = last_accept[done]
    # a mentor passes its last candidate with a slot left before the stop: lists too short
    short = (load < k) & (last_pos < stop[mentor_g]) & (widths[mentor_g] < n_s[mentor_g])
    redo = np.zeros(n_groups, bool)
    redo[mentor_g[short]] = True
    for gi in live:
        if redo[gi]:
            owners[gi] = nearest_assignment(
                xy[mentors[gi]], xy[schools[gi]], k, width=2 * int(widths[gi])
            )
    mine = ~redo[accepted_g]
    owner_all = np.full(s_off[-1], -1, np.int64)
    owner_all[accepted_s[mine]] = accepted_m[mine] - m_off[accepted_g[mine]]
    for gi in live:
        if not redo[gi]:
            owners[gi] = owner_all[s_off[gi] : s_off[gi + 1]]
    return owners


def _walk_order(dist: np.ndarray, mentor: np.ndarray, school: np.ndarray) -> np.ndarray:
    """The order in which ``nearest_assignment`` walks a group's candidate pairs: by
    distance, then mentor, then school (``np.lexsort((school, mentor, dist))``).

    Sorted by distance alone when no two distances are equal (then every sort gives that
    order): a stable sort of one key in a fifth of the three-key lexsort's time.
    """
    order = np.argsort(dist, kind="stable")
    ordered = dist[order]
    if (ordered[1:] == ordered[:-1]).any():
        order = np.lexsort((school, mentor, dist))
    return order


def _greedy_rounds(
    m: np.ndarray, s: np.ndarray, pos: np.ndarray, n_mentors: int, n_schools: int, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs the closest-first greedy accepts (``nearest_assignments``).

    ``m``, ``s``: the mentor and school of each candidate pair, grouped by mentor
    (ascending), each mentor's pairs in walk order; ``pos``: each pair's place in the
    greedy's walk. Returns the accepted
    pairs' mentors, schools and places.
    """
    slots = np.full(n_mentors, k, np.int64)
    is_taken = np.zeros(n_schools, bool)
    first = np.full(n_schools, np.iinfo(np.int64).max)
    out_m, out_s, out_pos = [], [], []
    while m.size:
        # each school's first undecided pair
        first[s] = np.iinfo(np.int64).max
        np.minimum.at(first, s, pos)
        # each pair's rank among its mentor's undecided pairs (m is grouped)
        start = np.flatnonzero(np.concatenate([[True], m[1:] != m[:-1]]))
        rank = np.arange(m.size) - np.repeat(start, np.diff(np.append(start, m.size)))
        accept = (first[s] == pos) & (rank < slots[m])
        am, as_ = m[accept], s[accept]
        out_m.append(am)
        out_s.append(as_)
        out_pos.append(pos[accept])
        is_taken[as_] = True
        slots -= np.bincount(am, minlength=n_mentors)
        keep = ~is_taken[s] & (slots[m] > 0)
        m, s, pos = m[keep], s[keep], pos[keep]
    return np.concatenate(out_m), np.concatenate(out_s), np.concatenate(out_pos)


def _check_region_sizes(population: Population, net: NetworkParams) -> list[np.ndarray]:
    """Schools of each region that has schools; NetworkError if one has too few."""
    regions = _groups(population.region)
    need = net.mentors_per_region
    for schools in regions:
        if schools.size < need:
            region = int(population.region[schools[0]])
            raise NetworkError(
                f"network.mentors_per_region: {need} mentors per region need at least {need} "
                f"schools per region; region {population.region_label(region)} has "
                f"{schools.size}"
            )
        if _may_mentor(population, schools) < need:
            region = int(population.region[schools[0]])
            raise NetworkError(
                f"network.mentors_per_region: {need} mentors per region, but region "
                f"{population.region_label(region)} has {_may_mentor(population, schools)} "
                "schools that may mentor (the others said volunteers_to_mentor = no)"
            )
    return regions


def top_down(
    population: Population,
    net: NetworkParams,
    contacts: ContactParams,
    community: bool,
    rng: np.random.Generator,
) -> SchoolNetwork:
    """Regional hubs designated by the ministry.

    In each region (that has schools) the ``mentors_per_region`` schools with the
    highest ``capacity`` become mentors (with a roster's ``volunteers_to_mentor``: the
    volunteers first, never a school that said no); each gets the nearest
    ``mentees_per_mentor`` (k) other schools of its region by the greedy
    closest-pair assignment (:func:`nearest_assignment`). Every mentee has one
    mentor, in its own region. A region with fewer than
    ``mentors_per_region * (k + 1)`` schools gives its mentors fewer mentees
    (the closest pairs are taken first, so loads can be uneven; a mentor may
    get none and is still a mentor). Schools not chosen keep role none. Mentoring ties are in
    person; mentees of a cluster form in-person peer ties if ``peer_ties``.
    Clusters are numbered by region, then by mentor capacity (highest first).
    ``rng`` is used only for the community of practice.

    Raises:
        NetworkError: a region has fewer schools than ``mentors_per_region``.
    """
    regions = _check_region_sizes(population, net)
    xy = np.column_stack([population.x, population.y])
    mentors = [
        _top_capacity(schools, population.capacity, net.mentors_per_region, population.mentor_hint)
        for schools in regions
    ]
    others = [_without(schools, chosen) for schools, chosen in zip(regions, mentors, strict=True)]
    owners = nearest_assignments(xy, mentors, others, net.mentees_per_mentor)
    mentee, mentor_of = [], []
    for chosen, candidates, owner in zip(mentors, others, owners, strict=True):
        taken = owner >= 0
        mentee.append(candidates[taken])
        mentor_of.append(chosen[owner[taken]])
    network = mentoring_network(
        population.n,
        np.concatenate(mentors) if mentors else np.zeros(0, np.int64),
        np.concatenate(mentee) if mentee else np.zeros(0, np.int64),
        np.concatenate(mentor_of) if mentor_of else np.zeros(0, np.int64),
        "in_person",
        contacts,
        net.peer_ties,
    )
    return with_community(network, contacts, rng) if community else network


# ---------------------------------------------------------------------------
# bottom_up
# ---------------------------------------------------------------------------


def attractiveness(
    gap: np.ndarray, distance_km: np.ndarray, same_country: np.ndarray, choice_distance_km: float
) -> np.ndarray:
    """How much a would-be mentee wants a mentor.

    ``(gap⁺ + 0.05) * 0.5 ** (distance / choice_distance) * (1.5 if same country else 1)``,
    where gap is the mentor's capacity minus the mentee's.
    """
    return (
        (np.maximum(gap, 0.0) + GAP_FLOOR)
        * 0.5 ** (distance_km / choice_distance_km)
        * np.where(same_country, SAME_COUNTRY_BONUS, 1.0)
    )


def _candidate_lists(
    population: Population, seekers: np.ndarray, volunteers: np.ndarray, net: NetworkParams
) -> tuple[np.ndarray, np.ndarray]:
    """Each would-be mentee's candidate mentors, best first, with their attractiveness.

    Candidates are the volunteers of the mentee's own country (all volunteers if
    its country has none), restricted to the nearest ``BOTTOM_UP_CANDIDATES``.

    Returns:
        (candidates, score): (S, K) arrays; candidates are school ids, padded with -1
        (score -inf).
    """
    from scipy.spatial import cKDTree

    width = min(BOTTOM_UP_CANDIDATES, volunteers.size)
    cand = np.full((seekers.size, width), -1, np.int64)
    score = np.full((seekers.size, width), -np.inf)
    xy = np.column_stack([population.x, population.y])
    cap = population.capacity
    vol_country = population.country[volunteers]
    seeker_country = population.country[seekers]
    for country in sorted_unique(seeker_country):
        rows = np.flatnonzero(seeker_country == country)
        pool = volunteers[vol_country == country]
        if pool.size == 0:
            pool = volunteers
        kk = min(width, pool.size)
        dist, idx = cKDTree(xy[pool]).query(xy[seekers[rows]], k=kk)
        dist, idx = dist.reshape(rows.size, kk), idx.reshape(rows.size, kk)
        mentor = pool[idx]
        mentee = seekers[rows][:, None]
        s = attractiveness(
            cap[mentor] - cap[mentee],
            dist,
            population.country[mentor] == population.country[mentee],
            net.choice_distance_km,
        )
        order = np.lexsort((mentor, -s), axis=1)  # best first; ties: lower school id
        cand[rows, :kk] = np.take_along_axis(mentor, order, axis=1)
        score[rows, :kk] = np.take_along_axis(s, order, axis=1)
    return cand, score


def deferred_acceptance(cand: np.ndarray, score: np.ndarray, limit: int) -> np.ndarray:
    """Mentee-proposing deferred acceptance where both sides rank pairs by the same score.

    Each free mentee proposes to its next candidate; each mentor holds its best
    ``limit`` proposals so far (equal scores: the mentee it already holds, then
    the lower row) and rejects the rest.
    With one score per pair the stable matching is unique and equals the greedy
    by descending score. Vectorised over mentees; one loop iteration per round.

    Args:
        cand: (S, K) candidate mentor school ids, best first, -1 padding.
        score: (S, K) matching scores.
        limit: most mentees per mentor.

    Returns:
        For each row, the school id of its mentor, or -1 if left out.
    """
    n_rows, width = cand.shape
    held_by = np.full(n_rows, -1, np.int64)
    held_score = np.full(n_rows, -np.inf)
    pointer = np.zeros(n_rows, np.int64)
    rows = np.arange(n_rows)
    if width == 0 or n_rows == 0:
        return held_by
    targeted = np.zeros(int(cand.max()) + 1, bool)
    while True:
        next_candidate = cand[rows, np.minimum(pointer, width - 1)]
        proposers = rows[(held_by < 0) & (pointer < width) & (next_candidate >= 0)]
        if proposers.size == 0:
            return held_by
        target = cand[proposers, pointer[proposers]]
        target_score = score[proposers, pointer[proposers]]
        pointer[proposers] += 1
        # only mentors that received proposals this round reconsider whom they hold
        targeted[target] = True
        holding = held_by >= 0
        holding[holding] = targeted[held_by[holding]]
        targeted[target] = False
        holders = rows[holding]
        pool_row = np.concatenate([holders, proposers])
        pool_mentor = np.concatenate([held_by[holders], target])
        pool_score = np.concatenate([held_score[holders], target_score])
        order = np.lexsort((-pool_score, pool_mentor))  # stable: ties keep pool order
        sorted_mentor = pool_mentor[order]
        rank = np.arange(order.size) - np.searchsorted(sorted_mentor, sorted_mentor, side="left")
        keep = order[rank < limit]
        held_by[pool_row] = -1
        held_score[pool_row] = -np.inf
        held_by[pool_row[keep]] = pool_mentor[keep]
        held_score[pool_row[keep]] = pool_score[keep]


def bottom_up(
    population: Population,
    net: NetworkParams,
    contacts: ContactParams,
    community: bool,
    rng: np.random.Generator,
) -> SchoolNetwork:
    """Self-organised clusters.

    Each school opts in with probability
    ``clip(opt_in_base + opt_in_motivation * motivation, 0, 1)``. Opted-in schools
    with ``capacity >= mentor_min_capacity`` volunteer as mentors (a roster's
    ``volunteers_to_mentor``: yes volunteers whatever its draw and capacity, no never
    does); the other opted-in schools seek a mentor among the volunteers of their own
    country (all volunteers if their country has none), nearest
    ``BOTTOM_UP_CANDIDATES`` only, ranked by :func:`attractiveness`. Mentors
    accept up to ``mentor_limit`` mentees (:func:`deferred_acceptance`, equal to
    the greedy by descending attractiveness); mentees not accepted anywhere are
    left out (role none), as are volunteers nobody chose. Mentoring and peer
    ties are in person. Clusters are numbered by mentor school id.
    """
    n = population.n
    p_opt_in = np.clip(net.opt_in_base + net.opt_in_motivation * population.motivation, 0.0, 1.0)
    opted_in = rng.random(n) < p_opt_in
    capable = population.capacity >= net.mentor_min_capacity
    hints = population.hints
    offers = (opted_in & capable & (hints >= 0)) | (hints > 0)
    volunteers = np.flatnonzero(offers)
    seekers = np.flatnonzero(opted_in & ~offers)
    if volunteers.size and seekers.size:
        cand, score = _candidate_lists(population, seekers, volunteers, net)
        mentor_of_seeker = deferred_acceptance(cand, score, net.mentor_limit)
    else:
        mentor_of_seeker = np.full(seekers.size, -1, np.int64)
    matched = mentor_of_seeker >= 0
    mentee, mentor_of = seekers[matched], mentor_of_seeker[matched]
    network = mentoring_network(
        n, sorted_unique(mentor_of), mentee, mentor_of, "in_person", contacts, net.peer_ties
    )
    return with_community(network, contacts, rng) if community else network


# ---------------------------------------------------------------------------
# virtual
# ---------------------------------------------------------------------------


def virtual(
    population: Population,
    net: NetworkParams,
    contacts: ContactParams,
    community: bool,
    rng: np.random.Generator,
) -> SchoolNetwork:
    """Online matching regardless of distance.

    Mentors are the ``virtual_mentors_per_country`` highest-capacity schools of
    each country (``virtual_scope = "national"``), or the
    ``virtual_mentors_per_country * n_countries`` highest overall
    (``"cross_border"``; n_countries counts countries that have schools); a roster's
    volunteers come first, and a school that said no is never chosen. In
    each scope, mentees are drawn at random from the non-mentor schools (no
    distance involved) and dealt to the mentors in turn, so each mentor gets
    ``virtual_mentees_per_mentor`` mentees, or, when the scope has too few
    schools, loads that differ by at most one. Every mentee has one mentor, in
    its scope. Mentoring and peer ties are online. Clusters are numbered by
    scope (country order), then mentor capacity (highest first).

    Raises:
        NetworkError: a scope has fewer schools than the mentors it needs.
    """
    per_country = net.virtual_mentors_per_country
    if net.virtual_scope == "national":
        scopes = _groups(population.country)
        n_mentors = [per_country] * len(scopes)
        for schools in scopes:
            if _may_mentor(population, schools) < per_country:
                code = population.country_codes[int(population.country[schools[0]])]
                raise NetworkError(
                    f"network.virtual_mentors_per_country: {per_country} online mentors per "
                    f"country need at least {per_country} schools per country that may "
                    f"mentor; country {code} has {_may_mentor(population, schools)}"
                )
    else:
        scopes = [np.arange(population.n)]
        n_countries = sorted_unique(population.country).size
        n_mentors = [per_country * n_countries]
        if _may_mentor(population, scopes[0]) < n_mentors[0]:
            raise NetworkError(
                f"network.virtual_mentors_per_country: {per_country} online mentors per country "
                f"x {n_countries} countries = {n_mentors[0]} mentors need at least as many "
                f"schools that may mentor; there are {_may_mentor(population, scopes[0])}"
            )
    k = net.virtual_mentees_per_mentor
    mentors, mentee, mentor_of = [], [], []
    for schools, count in zip(scopes, n_mentors, strict=True):
        chosen = _top_capacity(schools, population.capacity, count, population.mentor_hint)
        others = _without(schools, chosen)
        drawn = rng.permutation(others)[: min(others.size, count * k)]
        mentors.append(chosen)
        mentee.append(drawn)
        mentor_of.append(chosen[np.arange(drawn.size) % count])
    network = mentoring_network(
        population.n,
        np.concatenate(mentors),
        np.concatenate(mentee),
        np.concatenate(mentor_of),
        "online",
        contacts,
        net.peer_ties,
    )
    return with_community(network, contacts, rng) if community else network


# ---------------------------------------------------------------------------
# hybrid
# ---------------------------------------------------------------------------


def hybrid(
    population: Population,
    net: NetworkParams,
    contacts: ContactParams,
    community: bool,
    rng: np.random.Generator,
) -> SchoolNetwork:
    """Top-down regional hubs with an online community of practice on top (when ``community``)."""
    return top_down(population, net, contacts, community, rng)
