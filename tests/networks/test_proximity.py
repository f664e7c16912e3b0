"""Proximity ties: nearest schools within a radius, found with a k-d tree."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mensi_sim.codes import KIND_PROXIMITY, MODE_IN_PERSON, ROLE_NONE
from mensi_sim.networks.proximity import distinct_pairs, nearest_within, proximity_ties

from .support import population, scenario


def scattered(n, side_km=100.0, seed=0):
    """A population of n schools spread uniformly over a square."""
    pop = population(scenario({"population.n_schools": n}))
    rng = np.random.default_rng(seed)
    return dataclasses.replace(pop, x=rng.random(n) * side_km, y=rng.random(n) * side_km)


def brute_force_pairs(x, y, radius_km, max_ties):
    """Each school's nearest max_ties schools closer than the radius, from all distances."""
    d = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    np.fill_diagonal(d, np.inf)
    pairs = set()
    for i in range(x.size):
        order = np.argsort(d[i], kind="stable")[:max_ties]
        pairs |= {(min(i, j), max(i, j)) for j in order.tolist() if d[i, j] < radius_km}
    return pairs


@pytest.mark.parametrize(("radius", "max_ties"), [(10.0, 3), (5.0, 5), (30.0, 1), (200.0, 4)])
def test_proximity_matches_brute_force_on_300_schools(radius, max_ties):
    pop = scattered(300)
    net = proximity_ties(pop, radius, max_ties, 0.1)
    got = set(zip(net.src.tolist(), net.dst.tolist(), strict=True))
    assert len(got) == net.n_ties  # each pair stored once
    assert got == brute_force_pairs(pop.x, pop.y, radius, max_ties)


def test_proximity_ties_are_short_weak_and_stored_once():
    pop = scattered(2000)
    net = proximity_ties(pop, 4.0, 5, 0.1)
    assert net.n_ties > 0
    assert np.all(net.src < net.dst)  # no self-tie, each pair once
    length = np.hypot(pop.x[net.src] - pop.x[net.dst], pop.y[net.src] - pop.y[net.dst])
    assert length.max() < 4.0
    assert np.all(net.kind == KIND_PROXIMITY) and np.all(net.mode == MODE_IN_PERSON)
    assert np.all(net.strength == 0.1)
    assert np.all(net.role == ROLE_NONE) and np.all(net.cluster == -1)
    # a school initiates at most max_ties ties (its total can be larger: others may pick it)
    school, _ = nearest_within(pop.x, pop.y, 4.0, 5)
    assert np.bincount(school, minlength=pop.n).max() <= 5
    degree = np.bincount(np.concatenate([net.src, net.dst]), minlength=pop.n)
    assert degree.max() >= 5


def test_schools_on_one_spot_do_not_tie_to_themselves():
    pop = scattered(12)
    pop = dataclasses.replace(pop, x=np.zeros(12), y=np.zeros(12))
    school, neighbour = nearest_within(pop.x, pop.y, 1.0, 3)
    assert np.all(school != neighbour)
    assert np.all(np.bincount(school, minlength=12) == 3)
    net = proximity_ties(pop, 1.0, 3, 0.1)
    assert np.all(net.src < net.dst)


def test_no_tie_when_nobody_is_near_enough():
    pop = scattered(50, side_km=1000.0)
    assert proximity_ties(pop, 0.001, 5, 0.1).n_ties == 0
    assert proximity_ties(scattered(1), 10.0, 5, 0.1).n_ties == 0


def _nearest_within_reference(x, y, radius_km, max_ties):
    """``nearest_within`` before its answers were converted to int32 and masked once."""
    from scipy.spatial import cKDTree

    n = x.size
    if n < 2 or max_ties < 1:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    xy = np.column_stack([x, y])
    k = min(max_ties + 1, n)
    tree = cKDTree(xy, balanced_tree=False, compact_nodes=False)
    order = tree.indices.astype(np.int64, copy=False)
    dist, idx = tree.query(xy[order], k=k, distance_upper_bound=radius_km)
    dist, idx = dist.reshape(n, k), idx.reshape(n, k)
    school = np.broadcast_to(order[:, None], (n, k))
    valid = (idx < n) & (idx != school) & (dist < radius_km)
    if k == max_ties + 1:
        valid[:, -1] &= ~valid[:, :-1].all(axis=1)
    return school[valid], idx[valid].astype(np.int64, copy=False)


@pytest.mark.parametrize("seed", range(4))
def test_nearest_within_gives_the_int64_masking_answers(seed):
    rng = np.random.default_rng(seed)
    for _ in range(40):
        n = int(rng.integers(0, 120))
        # coordinates on a coarse grid: schools sharing a spot, equal distances at the cut
        x, y = rng.integers(0, 8, n).astype(float), rng.integers(0, 8, n).astype(float)
        radius, max_ties = float(rng.choice([0.5, 1.0, 2.0, 50.0])), int(rng.integers(0, 7))
        school, neighbour = nearest_within(x, y, radius, max_ties)
        ref_school, ref_neighbour = _nearest_within_reference(x, y, radius, max_ties)
        assert school.dtype == neighbour.dtype == np.int32
        assert np.array_equal(school, ref_school) and np.array_equal(neighbour, ref_neighbour)
        if n:  # the ties stay int64
            net = proximity_ties(dataclasses.replace(scattered(n), x=x, y=y), radius, 3, 0.1)
            assert net.src.dtype == net.dst.dtype == np.int64


def _distinct_pairs_reference(a, b, n):
    """``distinct_pairs`` before the key sort: through a sparse matrix's canonical rows."""
    from scipy import sparse

    if a.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    low, high = np.minimum(a, b), np.maximum(a, b)
    matrix = sparse.csr_array((np.ones(low.size, bool), (low, high)), shape=(n, n))
    matrix.sum_duplicates()
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(matrix.indptr))
    return rows, matrix.indices.astype(np.int64)


@pytest.mark.parametrize("seed", range(4))
def test_distinct_pairs_match_the_sparse_matrix_rows(seed):
    rng = np.random.default_rng(seed)
    for _ in range(100):
        n = int(rng.integers(2, 50))
        m = int(rng.integers(0, 120))
        a = rng.integers(0, n, m)
        b = (a + rng.integers(1, n, m)) % n  # never a itself; many repeats and mutual pairs
        dtype = rng.choice([np.int32, np.int64])
        a, b = a.astype(dtype), b.astype(dtype)
        expected = _distinct_pairs_reference(a, b, n)
        for size in (n, 3_037_000_500):  # the key sort; past the int64 keys, the row sort
            low, high = distinct_pairs(a, b, size)
            assert low.dtype == high.dtype == np.int64
            assert np.array_equal(low, expected[0]) and np.array_equal(high, expected[1])
