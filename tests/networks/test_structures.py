"""Structural promises of the policy structures: none, top_down, bottom_up, virtual, hybrid."""

from __future__ import annotations

import dataclasses
from collections import Counter

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mensi_sim.errors import NetworkError
from mensi_sim.networks import structures
from mensi_sim.networks.school_network import SchoolNetwork
from mensi_sim.networks.structures import (
    bottom_up,
    deferred_acceptance,
    hybrid,
    mentoring_network,
    nearest_assignment,
    nearest_assignments,
    no_structure,
    random_regular_pairs,
    top_down,
    virtual,
    with_community,
)
from mensi_sim.scenario.schema import ContactParams

from .support import as_graph, edges_of_kind, mentor_of, population, scenario, schools_with_role


def build(builder, sc, pop, seed=7, community=None):
    """Run a structure builder with a scenario's parameters; its output as a networkx graph."""
    community = sc.has_community if community is None else community
    return as_graph(builder(pop, sc.network, sc.contacts, community, np.random.default_rng(seed)))


def dist(pop, a, b):
    return float(np.hypot(pop.x[a] - pop.x[b], pop.y[a] - pop.y[b]))


def assert_school_graph(graph, n):
    """Nodes 0..n-1, every node with role and cluster, every edge with kind, mode, strength."""
    assert sorted(graph.nodes) == list(range(n))
    for _, data in graph.nodes(data=True):
        assert data["role"] in ("none", "mentor", "mentee")
        assert isinstance(data["cluster"], int)
        assert (data["cluster"] == -1) == (data["role"] == "none")
    for _, _, data in graph.edges(data=True):
        assert data["kind"] in ("mentoring", "peer", "community")
        assert data["mode"] in ("in_person", "online")
        assert 0.0 <= data["strength"] <= 1.0


def assert_clusters_consistent(graph):
    """A mentee shares its mentor's cluster; peer ties join mentees of one cluster."""
    for mentee, mentors in mentor_of(graph).items():
        assert len(mentors) == 1
        assert graph.nodes[mentee]["cluster"] == graph.nodes[mentors[0]]["cluster"]
    for u, v, _ in edges_of_kind(graph, "peer"):
        assert graph.nodes[u]["role"] == graph.nodes[v]["role"] == "mentee"
        assert graph.nodes[u]["cluster"] == graph.nodes[v]["cluster"]
    clusters = Counter(d["cluster"] for _, d in graph.nodes(data=True) if d["role"] == "mentor")
    assert all(count == 1 for count in clusters.values())  # one mentor per cluster
    assert sorted(clusters) == list(range(len(clusters)))  # numbered 0, 1, ...


def assert_peer_cliques(graph):
    """Every pair of mentees of one cluster has a peer tie."""
    members: dict[int, list[int]] = {}
    for node, data in graph.nodes(data=True):
        if data["role"] == "mentee":
            members.setdefault(data["cluster"], []).append(node)
    expected = sum(len(m) * (len(m) - 1) // 2 for m in members.values())
    assert len(edges_of_kind(graph, "peer")) == expected


# --------------------------------------------------------------------------- none


def test_none_has_no_ties_and_no_roles():
    sc = scenario({"network.structure": "none"})
    pop = population(sc)
    graph = build(no_structure, sc, pop)
    assert_school_graph(graph, pop.n)
    assert graph.number_of_edges() == 0
    assert schools_with_role(graph, "none") == set(range(pop.n))


# --------------------------------------------------------------------------- top_down


def test_top_down_mensi_pilot_has_24_mentors_and_96_mentees():
    sc = scenario()  # 120 schools: 6 countries x 4 regions x 5 schools, 1 mentor, k = 4
    pop = population(sc)
    assert np.all(np.bincount(pop.region) == 5)
    graph = build(top_down, sc, pop)
    assert_school_graph(graph, pop.n)
    assert len(schools_with_role(graph, "mentor")) == 24
    assert len(schools_with_role(graph, "mentee")) == 96
    assert len(schools_with_role(graph, "none")) == 0
    assert_clusters_consistent(graph)
    assert_peer_cliques(graph)
    assert len(edges_of_kind(graph, "peer")) == 24 * 6
    assert not edges_of_kind(graph, "community")  # top_down has no community by default
    for _, _, d in edges_of_kind(graph, "mentoring"):
        assert d["mode"] == "in_person" and d["strength"] == sc.contacts.strength_in_person
    for _, _, d in edges_of_kind(graph, "peer"):
        assert d["mode"] == "in_person" and d["strength"] == sc.contacts.strength_peer


def check_top_down(graph, pop, mentors_per_region, k):
    """Every promise of top_down for any population."""
    assert_school_graph(graph, pop.n)
    assert_clusters_consistent(graph)
    mentees = mentor_of(graph)
    mentors = schools_with_role(graph, "mentor")
    load = Counter(m[0] for m in mentees.values())
    for mentee, (mentor,) in mentees.items():
        assert pop.region[mentee] == pop.region[mentor]
    for region in np.unique(pop.region):
        schools = np.flatnonzero(pop.region == region)
        chosen = {s for s in schools.tolist() if s in mentors}
        assert len(chosen) == mentors_per_region
        # mentors are the region's highest capacity
        ranked = schools[np.argsort(-pop.capacity[schools], kind="stable")]
        best = ranked[:mentors_per_region]
        assert chosen == set(best.tolist())
        in_region = [s for s in schools.tolist() if s in mentees]
        assert len(in_region) == min(schools.size - mentors_per_region, mentors_per_region * k)
        for mentor in chosen:
            assert load[mentor] <= k
            if schools.size >= mentors_per_region * (k + 1):
                assert load[mentor] == k
            # greedy closest pairs: no school left out of the region is closer to a mentor
            # than that mentor's farthest mentee
            own = [s for s, (m,) in mentees.items() if m == mentor]
            if own:
                farthest = max(dist(pop, mentor, s) for s in own)
                left_out = [s for s in schools.tolist() if s not in mentees and s not in mentors]
                assert all(dist(pop, mentor, s) >= farthest for s in left_out)


def test_top_down_two_mentors_per_region_with_k_4():
    sc = scenario({"population.n_schools": 1000, "network.mentors_per_region": 2})
    pop = population(sc, seed=3)
    graph = build(top_down, sc, pop)
    check_top_down(graph, pop, 2, 4)
    assert len(mentor_of(graph)) == 24 * 2 * 4
    assert_peer_cliques(graph)


def test_top_down_small_regions_give_mentors_fewer_mentees():
    # 48 schools in 24 regions: 2 per region, so each mentor gets 1 mentee, not 4
    sc = scenario({"population.n_schools": 48})
    pop = population(sc)
    graph = build(top_down, sc, pop)
    check_top_down(graph, pop, 1, 4)
    assert len(schools_with_role(graph, "mentee")) == 24


def test_top_down_region_with_too_few_schools_raises_one_line_error():
    sc = scenario({"network.mentors_per_region": 6})  # pilot regions have 5 schools
    with pytest.raises(NetworkError) as err:
        build(top_down, sc, population(sc))
    message = str(err.value)
    assert message.startswith("network.mentors_per_region:")
    assert "region BE-VLG-1 has 5" in message and "\n" not in message


def test_top_down_peer_ties_can_be_switched_off():
    sc = scenario({"network.peer_ties": False})
    graph = build(top_down, sc, population(sc))
    assert not edges_of_kind(graph, "peer")
    assert len(edges_of_kind(graph, "mentoring")) == 96


def test_top_down_ignores_rng_without_community():
    sc = scenario({"population.n_schools": 400})
    pop = population(sc)
    a, b = build(top_down, sc, pop, seed=1), build(top_down, sc, pop, seed=2)
    assert set(a.edges) == set(b.edges)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(5, 150),
    countries=st.integers(1, 3),
    regions=st.integers(1, 4),
    mentors_per_region=st.integers(1, 3),
    k=st.integers(1, 5),
    seed=st.integers(0, 10_000),
)
def test_top_down_invariants_over_random_populations(
    n, countries, regions, mentors_per_region, k, seed
):
    sc = scenario(
        {
            "population.n_schools": n,
            "population.countries": [f"C{i}" for i in range(countries)],
            "population.regions_per_country": regions,
            "network.mentors_per_region": mentors_per_region,
            "network.mentees_per_mentor": k,
        }
    )
    pop = population(sc, seed)
    smallest = int(np.bincount(pop.region)[np.unique(pop.region)].min())
    if smallest < mentors_per_region:
        with pytest.raises(NetworkError, match="^network.mentors_per_region: "):
            build(top_down, sc, pop, seed)
        return
    check_top_down(build(top_down, sc, pop, seed), pop, mentors_per_region, k)


def brute_force_greedy(mentor_xy, school_xy, k):
    """Closest (mentor, free school) pair first over all pairs: the reference assignment."""
    d = np.hypot(*(mentor_xy[:, None, :] - school_xy[None, :, :]).transpose(2, 0, 1))
    m_idx, s_idx = np.meshgrid(np.arange(len(mentor_xy)), np.arange(len(school_xy)), indexing="ij")
    order = np.lexsort((s_idx.ravel(), m_idx.ravel(), d.ravel()))
    owner = np.full(len(school_xy), -1)
    slots = np.full(len(mentor_xy), k)
    for m, s in zip(m_idx.ravel()[order], s_idx.ravel()[order], strict=True):
        if slots[m] and owner[s] < 0:
            owner[s] = m
            slots[m] -= 1
    return owner


@settings(max_examples=60, deadline=None)
@given(
    n_mentors=st.integers(1, 8),
    n_schools=st.integers(1, 80),
    k=st.integers(1, 6),
    clustered=st.booleans(),
    seed=st.integers(0, 10_000),
)
def test_nearest_assignment_equals_greedy_over_all_pairs(n_mentors, n_schools, k, clustered, seed):
    rng = np.random.default_rng(seed)
    mentor_xy = rng.random((n_mentors, 2)) * 10
    school_xy = rng.random((n_schools, 2)) * 10
    if clustered:  # every mentor's nearest schools are the same ones: lists get exhausted
        mentor_xy = mentor_xy * 0.01
    got = nearest_assignment(mentor_xy, school_xy, k)
    np.testing.assert_array_equal(got, brute_force_greedy(mentor_xy, school_xy, k))


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.tuples(st.integers(0, 24), st.integers(0, 90)), min_size=1, max_size=4),
    k=st.integers(1, 6),
    grid=st.booleans(),
    clustered=st.booleans(),
    seed=st.integers(0, 10_000),
)
def test_nearest_assignments_equal_one_nearest_assignment_per_group(
    sizes, k, grid, clustered, seed
):
    rng = np.random.default_rng(seed)
    xy = rng.random((sum(m + s for m, s in sizes), 2)) * 10
    if grid:  # schools on whole kilometres: many pairs at exactly the same distance
        xy = np.round(xy)
    ids = rng.permutation(len(xy))
    mentors, schools, start = [], [], 0
    for n_mentors, n_schools in sizes:
        mentors.append(ids[start : start + n_mentors])
        schools.append(np.sort(ids[start + n_mentors : start + n_mentors + n_schools]))
        start += n_mentors + n_schools
        if clustered:  # the mentors' lists overlap and run out: groups are redone wider
            xy[mentors[-1]] *= 0.01
    got = nearest_assignments(xy, mentors, schools, k)
    for chosen, others, owner in zip(mentors, schools, got, strict=True):
        np.testing.assert_array_equal(owner, nearest_assignment(xy[chosen], xy[others], k))


# --------------------------------------------------------------------------- bottom_up


def test_bottom_up_500_schools():
    sc = scenario({"population.n_schools": 500, "network.structure": "bottom_up"})
    pop = population(sc, seed=2)
    graph = build(bottom_up, sc, pop)
    assert_school_graph(graph, pop.n)
    assert_clusters_consistent(graph)
    assert_peer_cliques(graph)
    net = sc.network
    mentees = mentor_of(graph)
    mentors = schools_with_role(graph, "mentor")
    load = Counter(m[0] for m in mentees.values())
    assert set(load) == mentors  # a volunteer with no mentee keeps role none
    assert max(load.values()) <= net.mentor_limit
    assert len(set(load.values())) > 1  # cluster sizes vary
    assert len(schools_with_role(graph, "none")) > 0.3 * pop.n  # some schools left out
    assert all(pop.capacity[m] >= net.mentor_min_capacity for m in mentors)
    assert all(pop.capacity[s] < net.mentor_min_capacity for s in mentees)
    assert all(pop.country[s] == pop.country[m] for s, (m,) in mentees.items())
    participants = np.array(sorted(mentors | set(mentees)))
    others = np.setdiff1d(np.arange(pop.n), participants)
    assert pop.motivation[participants].mean() > pop.motivation[others].mean()
    for _, _, d in graph.edges(data=True):
        assert d["mode"] == "in_person"
    assert not edges_of_kind(graph, "community")  # off by default for bottom_up


def test_bottom_up_mentor_limit_one_gives_pairs_without_peers():
    sc = scenario({"population.n_schools": 500, "network.mentor_limit": 1})
    graph = build(bottom_up, sc, population(sc))
    load = Counter(m[0] for m in mentor_of(graph).values())
    assert set(load.values()) == {1}
    assert not edges_of_kind(graph, "peer")


def test_bottom_up_without_opt_in_has_no_participants():
    sc = scenario({"network.opt_in_base": 0.0, "network.opt_in_motivation": 0.0})
    graph = build(bottom_up, sc, population(sc))
    assert graph.number_of_edges() == 0
    assert schools_with_role(graph, "none") == set(range(120))


def test_bottom_up_uses_other_countries_only_when_own_has_no_volunteer():
    sc = scenario(
        {
            "population.n_schools": 400,
            "population.countries": ["A", "B"],
            "network.opt_in_base": 1.0,
        }
    )
    pop = population(sc)
    # nobody in country B is capable: its would-be mentees must look abroad
    capacity = np.where(pop.country == 1, 0.1, pop.capacity)
    pop = dataclasses.replace(pop, capacity=capacity)
    graph = build(bottom_up, sc, pop)
    mentees = mentor_of(graph)
    assert any(pop.country[s] == 1 for s in mentees)
    assert all(pop.country[m] == 0 for (m,) in mentees.values())
    assert all(pop.country[m] == 0 for s, (m,) in mentees.items() if pop.country[s] == 0)


def test_bottom_up_prefers_capable_near_mentors():
    sc = scenario({"population.n_schools": 2000, "network.opt_in_base": 1.0})
    pop = population(sc)
    graph = build(bottom_up, sc, pop)
    mentees = mentor_of(graph)
    d = [dist(pop, s, m) for s, (m,) in mentees.items()]
    # random pairs within a country are about a region apart (60 km) or more
    assert np.median(d) < 30


def greedy_by_score(cand, score, limit):
    """Reference: all (mentee, mentor) pairs by descending score, accept while both are free."""
    rows, cols = np.nonzero(cand >= 0)
    order = np.lexsort((rows, -score[rows, cols]))
    mentor_of_row = np.full(cand.shape[0], -1)
    load = Counter()
    for r, c in zip(rows[order], cols[order], strict=True):
        m = cand[r, c]
        if mentor_of_row[r] < 0 and load[m] < limit:
            mentor_of_row[r] = m
            load[m] += 1
    return mentor_of_row


@settings(max_examples=80, deadline=None)
@given(
    n_rows=st.integers(0, 40),
    n_mentors=st.integers(1, 10),
    width=st.integers(1, 6),
    limit=st.integers(1, 4),
    seed=st.integers(0, 10_000),
)
def test_deferred_acceptance_equals_greedy_by_descending_score(
    n_rows, n_mentors, width, limit, seed
):
    rng = np.random.default_rng(seed)
    width = min(width, n_mentors)
    cand = np.array(
        [rng.choice(n_mentors, width, replace=False) for _ in range(n_rows)], dtype=np.int64
    ).reshape(n_rows, width)
    score = rng.random((n_rows, width))
    cand[rng.random((n_rows, width)) < 0.2] = -1  # some short lists
    score[cand < 0] = -np.inf
    order = np.argsort(-score, axis=1, kind="stable")
    cand = np.take_along_axis(cand, order, axis=1)
    score = np.take_along_axis(score, order, axis=1)
    np.testing.assert_array_equal(
        deferred_acceptance(cand, score, limit), greedy_by_score(cand, score, limit)
    )


# --------------------------------------------------------------------------- virtual


def test_virtual_national_scope():
    sc = scenario({"population.n_schools": 600, "network.structure": "virtual"})
    pop = population(sc)
    graph = build(virtual, sc, pop)
    assert_school_graph(graph, pop.n)
    assert_clusters_consistent(graph)
    assert_peer_cliques(graph)
    mentees = mentor_of(graph)
    mentors = schools_with_role(graph, "mentor")
    assert len(mentors) == 6 * 4
    assert len(mentees) == 6 * 4 * 8
    assert set(Counter(m[0] for m in mentees.values()).values()) == {8}
    for s, (m,) in mentees.items():
        assert pop.country[s] == pop.country[m]
    for country in range(6):
        schools = np.flatnonzero(pop.country == country)
        best = schools[np.argsort(-pop.capacity[schools], kind="stable")][:4]
        assert {s for s in schools.tolist() if s in mentors} == set(best.tolist())
    for _, _, d in edges_of_kind(graph, "mentoring"):
        assert d["mode"] == "online" and d["strength"] == sc.contacts.strength_online
    for _, _, d in edges_of_kind(graph, "peer"):
        assert d["mode"] == "online" and d["strength"] == sc.contacts.strength_peer
    assert edges_of_kind(graph, "community")  # on by default for virtual


def test_virtual_ignores_distance():
    sc = scenario({"population.n_schools": 600, "network.structure": "virtual"})
    pop = population(sc)
    graph = build(virtual, sc, pop, seed=5)
    # permuting the coordinates leaves the graph unchanged for the same seed
    perm = np.random.default_rng(0).permutation(pop.n)
    moved = dataclasses.replace(pop, x=pop.x[perm], y=pop.y[perm])
    again = build(virtual, sc, moved, seed=5)
    assert set(graph.edges) == set(again.edges)
    assert dict(graph.nodes(data="role")) == dict(again.nodes(data="role"))
    # mentor-mentee distance is that of random pairs in a country, not of a region
    d = np.mean([dist(pop, s, m) for s, (m,) in mentor_of(graph).items()])
    rng = np.random.default_rng(1)
    a = rng.integers(pop.n, size=20_000)
    b = rng.integers(pop.n, size=20_000)
    same = pop.country[a] == pop.country[b]
    random_pairs = np.hypot(pop.x[a] - pop.x[b], pop.y[a] - pop.y[b])[same].mean()
    assert abs(d - random_pairs) < 0.15 * random_pairs
    top = build(top_down, sc, pop)
    top_d = np.mean([dist(pop, s, m) for s, (m,) in mentor_of(top).items()])
    assert d > 3 * top_d


def test_virtual_cross_border_scope():
    sc = scenario({"population.n_schools": 600, "network.virtual_scope": "cross_border"})
    pop = population(sc)
    graph = build(virtual, sc, pop)
    mentors = schools_with_role(graph, "mentor")
    best = np.argsort(-pop.capacity, kind="stable")[:24]
    assert mentors == set(best.tolist())
    mentees = mentor_of(graph)
    assert len(mentees) == 24 * 8
    assert all(len(m) == 1 for m in mentees.values())
    abroad = sum(pop.country[s] != pop.country[m] for s, (m,) in mentees.items())
    assert abroad > len(mentees) / 2  # about 5/6 of random matches cross a border


def test_virtual_small_scope_spreads_mentees_evenly():
    sc = scenario({"population.n_schools": 120, "network.virtual_mentees_per_mentor": 10})
    graph = build(virtual, sc, population(sc))
    # each country: 20 schools, 4 mentors, 16 mentees for 40 slots: loads of 4
    load = Counter(m[0] for m in mentor_of(graph).values())
    assert set(load.values()) == {4}
    assert len(schools_with_role(graph, "none")) == 0


def test_virtual_too_few_schools_per_country_raises():
    sc = scenario({"network.virtual_mentors_per_country": 21})
    with pytest.raises(NetworkError, match=r"^network.virtual_mentors_per_country: .*has 20$"):
        build(virtual, sc, population(sc))
    sc = scenario(
        {"network.virtual_mentors_per_country": 21, "network.virtual_scope": "cross_border"}
    )
    with pytest.raises(NetworkError, match=r"^network.virtual_mentors_per_country: "):
        build(virtual, sc, population(sc))


# --------------------------------------------------------------------------- community, hybrid


def check_community(graph, contacts):
    participants = schools_with_role(graph, "mentor") | schools_with_role(graph, "mentee")
    community = edges_of_kind(graph, "community")
    assert community
    for u, v, d in community:
        assert u in participants and v in participants
        assert d["mode"] == "online" and d["strength"] == contacts.strength_community
    # each participant tied (by community or a stronger tie) to >= min(4, m - 1) participants
    need = min(4, len(participants) - 1)
    for node in participants:
        assert sum(1 for nb in graph[node] if nb in participants) >= need


def test_hybrid_is_top_down_plus_community():
    sc = scenario({"network.structure": "hybrid"})
    pop = population(sc)
    graph = build(hybrid, sc, pop)
    assert sc.has_community
    assert_school_graph(graph, pop.n)
    check_community(graph, sc.contacts)
    plain = build(top_down, sc, pop, community=False)
    assert {(u, v) for u, v, _ in edges_of_kind(graph, "mentoring")} == {
        (u, v) for u, v, _ in edges_of_kind(plain, "mentoring")
    }
    assert len(edges_of_kind(graph, "peer")) == len(edges_of_kind(plain, "peer"))
    for _, _, d in edges_of_kind(graph, "mentoring"):
        assert d["mode"] == "in_person"


def test_hybrid_without_community_is_top_down():
    sc = scenario({"network.structure": "hybrid", "network.community": False})
    pop = population(sc)
    assert set(build(hybrid, sc, pop).edges) == set(build(top_down, sc, pop).edges)


def test_community_can_be_added_to_bottom_up():
    sc = scenario(
        {"population.n_schools": 500, "network.structure": "bottom_up", "network.community": True}
    )
    check_community(build(bottom_up, sc, population(sc)), sc.contacts)


@pytest.mark.parametrize("m", [0, 1, 2, 3, 5, 6, 50, 999])
def test_random_regular_pairs_small(m):
    pairs = random_regular_pairs(m, min(4, m - 1), np.random.default_rng(m))
    degree = np.bincount(pairs.ravel(), minlength=m)
    assert np.all(degree == max(0, min(4, m - 1)))
    assert np.all(pairs[:, 0] < pairs[:, 1])


def test_random_regular_pairs_large_is_vectorised_and_nearly_regular(monkeypatch):
    monkeypatch.setattr(structures, "COMMUNITY_EXACT_LIMIT", 100)
    m = 30_000
    pairs = random_regular_pairs(m, 4, np.random.default_rng(0))
    assert np.all(pairs[:, 0] < pairs[:, 1])
    assert np.unique(pairs[:, 0] * m + pairs[:, 1]).size == len(pairs)  # no repeated pair
    degree = np.bincount(pairs.ravel(), minlength=m)
    assert degree.max() == 4
    assert (degree < 4).sum() <= 10


# ------------------------------------------------------------- arrays equal networkx


def networkx_reference(n, mentors, mentee, mentor_of, contacts, peer_ties, community, seed):
    """The clusters built as a networkx graph the way the builders once did (all n nodes,
    mentoring ties, peer ties, then community ties not doubling a tie), read back by
    SchoolNetwork.from_graph: what mentoring_network and with_community must equal."""
    graph = nx.Graph()
    graph.add_nodes_from(range(n), role="none", cluster=-1)
    cluster_of = {int(m): c for c, m in enumerate(mentors.tolist())}
    for school, c in cluster_of.items():
        graph.nodes[school].update(role="mentor", cluster=c)
    mentee_cluster = [cluster_of[m] for m in mentor_of.tolist()]
    for school, c in zip(mentee.tolist(), mentee_cluster, strict=True):
        graph.nodes[school].update(role="mentee", cluster=c)
    graph.add_edges_from(
        (m, s, {"kind": "mentoring", "mode": "online", "strength": contacts.strength_online})
        for m, s in zip(mentor_of.tolist(), mentee.tolist(), strict=True)
    )
    if peer_ties:
        u, v = structures.within_cluster_pairs(mentee, np.asarray(mentee_cluster, np.int64))
        graph.add_edges_from(
            zip(u.tolist(), v.tolist(), strict=True),
            kind="peer",
            mode="online",
            strength=contacts.strength_peer,
        )
    if community:
        structures.add_community(graph, contacts, np.random.default_rng(seed))
    return SchoolNetwork.from_graph(graph, n)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 60),
    mentors=st.integers(1, 8),
    peer_ties=st.booleans(),
    community=st.booleans(),
    seed=st.integers(0, 10_000),
)
def test_array_built_clusters_equal_the_networkx_graph_read_back(
    n, mentors, peer_ties, community, seed
):
    # same ties, in the same order, with the same roles and clusters: the order decides
    # which tie draws which random number, so a run is the same either way
    rng = np.random.default_rng(seed)
    schools = rng.permutation(n)
    k = min(mentors, n - 1)
    chosen, others = schools[:k], schools[k:]
    mentee = others[: rng.integers(0, others.size + 1)]
    mentor_of = chosen[rng.integers(0, k, mentee.size)]
    contacts = ContactParams()
    got = mentoring_network(n, chosen, mentee, mentor_of, "online", contacts, peer_ties)
    if community:
        got = with_community(got, contacts, np.random.default_rng(seed))
    want = networkx_reference(n, chosen, mentee, mentor_of, contacts, peer_ties, community, seed)
    for field in ("src", "dst", "kind", "mode", "strength", "role", "cluster"):
        np.testing.assert_array_equal(getattr(got, field), getattr(want, field), err_msg=field)


def _top_capacity_reference(schools, capacity, count):
    """``_top_capacity`` without hints before ``_best_first``: a lexsort of every school."""
    return schools[np.lexsort((schools, -capacity[schools]))[:count]]


@pytest.mark.parametrize("seed", range(5))
def test_top_capacity_matches_the_lexsort_of_every_school(seed):
    rng = np.random.default_rng(seed)
    for _ in range(150):
        n = int(rng.integers(0, 40))
        capacity = rng.integers(0, 4, 60) / 3.0  # many equal capacities
        if rng.random() < 0.3:
            capacity[rng.random(60) < 0.2] = np.nan
        if rng.random() < 0.3:
            capacity = np.where(rng.random(60) < 0.5, 0.0, -0.0)
        schools = np.sort(rng.choice(60, n, replace=False))  # a region: ascending ids
        if rng.random() < 0.3:
            schools = rng.permutation(schools)  # out of order: the lexsort itself
        for count in {1, 2, n // 2, n, n + 2, int(rng.integers(1, n + 2))}:
            expected = _top_capacity_reference(schools, capacity, count)
            assert np.array_equal(structures._top_capacity(schools, capacity, count), expected)
            no_hints = np.zeros(60, np.int8)  # all 0: the same rule
            got = structures._top_capacity(schools, capacity, count, no_hints)
            assert np.array_equal(got, expected)


def test_may_mentor_counts_without_hints_and_with_them():
    pop = population(scenario({"population.n_schools": 200}))
    schools = np.arange(0, 200, 3)
    assert pop.mentor_hint is None
    assert structures._may_mentor(pop, schools) == schools.size
    hints = np.random.default_rng(0).integers(-1, 2, 200).astype(np.int8)
    hinted = dataclasses.replace(pop, mentor_hint=hints)
    assert structures._may_mentor(hinted, schools) == np.count_nonzero(hints[schools] >= 0)
