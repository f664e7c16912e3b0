"""Proximity ties: weak informal links between nearby schools.

Built straight into array form with a k-d tree (no all-pairs distances), so
250,000 schools take well under a second.
"""

from __future__ import annotations

import numpy as np

from mensi_sim.codes import INT64_KEY_MAX_N, KIND_PROXIMITY, MODE_IN_PERSON, ROLE_NONE
from mensi_sim.networks.school_network import SchoolNetwork
from mensi_sim.population import Population


def nearest_within(
    x: np.ndarray, y: np.ndarray, radius_km: float, max_ties: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each school's nearest ``max_ties`` other schools closer than ``radius_km``.

    Args:
        x: school x coordinates (km).
        y: school y coordinates (km).
        radius_km: only schools strictly closer than this count.
        max_ties: most neighbours per school (nearest first).

    Returns:
        ``(school, neighbour)`` arrays, one entry per (school, chosen neighbour), grouped
        by school (the schools in the k-d tree's order, not by id); int32 ids when they
        fit (``school_ids``), else int64.
    """
    n = x.size
    ids = school_ids(n)
    if n < 2 or max_ties < 1:
        return np.zeros(0, ids), np.zeros(0, ids)
    xy = np.column_stack([x, y])
    k = min(max_ties + 1, n)
    from scipy.spatial import cKDTree  # imported where used (a fast start)

    # boxes split at the sliding midpoint, not the median: built in 0.4 of the time and
    # queried in 0.8 of it at a million schools. A k-d tree's answers are exact whatever
    # its shape; only which of several schools at exactly the same distance at the cut-off
    # is taken could differ (none differ at the benchmark's million schools)
    tree = cKDTree(xy, balanced_tree=False, compact_nodes=False)
    # ask in the tree's own order (nearby schools one after the other), which keeps the
    # tree's nodes in cache: the same answers in 0.6 of the time at a million schools
    # (each query is independent of the others; only the order of asking changes). The
    # rows gathered by np.take: the same array as xy[order], 0.005 s instead of 0.04 s
    order = tree.indices
    dist, idx = tree.query(np.take(xy, order, axis=0), k=k, distance_upper_bound=radius_km)
    # the answers as ids of the smallest type, converted once and masked once (a missing
    # neighbour, id n, is at distance inf: never closer than the radius); each school
    # repeated by its count of neighbours. At a million schools 0.073 s instead of 0.084 s
    # for masking the int64 answers and a broadcast school column, then converting both
    # for ``distinct_pairs`` (fewer and smaller full-size arrays)
    order = order.astype(ids, copy=False)
    idx = idx.reshape(n, k).astype(ids, copy=False)
    # the school itself is usually first, but not when other schools share its spot
    valid = dist.reshape(n, k) < radius_km
    valid &= idx != order[:, None]
    if k == max_ties + 1:  # at most max_ties others: drop the last when all k are others
        valid[:, -1] &= ~valid[:, :-1].all(axis=1)
    return np.repeat(order, np.count_nonzero(valid, axis=1)), idx[valid]


def school_ids(n: int) -> type:
    """The integer type of the school ids ``nearest_within`` gives: int32 when ``n`` (the
    k-d tree's id of a missing neighbour) fits, else int64."""
    return np.int32 if n <= np.iinfo(np.int32).max else np.int64


def proximity_ties(
    population: Population, radius_km: float, max_ties: int, strength: float
) -> SchoolNetwork:
    """Weak in-person ties from each school to its nearest ``max_ties`` schools within the radius.

    A school initiates at most ``max_ties`` ties; a pair chosen by both schools
    is stored once (``src < dst``), so a school's total number of proximity ties
    can exceed ``max_ties`` when it is among the nearest of other schools.
    Every school keeps role none and cluster -1.

    Returns:
        A SchoolNetwork with only proximity ties (kind proximity, mode in_person).
    """
    n = population.n
    school, neighbour = nearest_within(population.x, population.y, radius_km, max_ties)
    src, dst = distinct_pairs(school, neighbour, n)
    m = src.size
    return SchoolNetwork(
        n=n,
        src=src,
        dst=dst,
        kind=np.full(m, KIND_PROXIMITY, np.int8),
        mode=np.full(m, MODE_IN_PERSON, np.int8),
        strength=np.full(m, float(strength)),
        role=np.full(n, ROLE_NONE, np.int8),
        cluster=np.full(n, -1, np.int32),
    )


def distinct_pairs(a: np.ndarray, b: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct unordered pairs ``{a[i], b[i]}`` (``a != b``, ids below ``n``) as
    ``(low, high)`` int64 arrays, ``low < high``, ordered by ``low`` then ``high``.

    The keys ``low * n + high`` sorted, repeats dropped, split again. numpy's sort of
    int64 keys is vectorised (x86-simd-sort, AVX-512 here): at a million schools (five
    million pairs) 0.11 s in all, where a sparse matrix's counting sort of its rows and
    the sort of each row's few entries took 0.147 s (the same pairs in the same order).
    """
    if a.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if n > INT64_KEY_MAX_N:  # n * n would pass the int64 range: the rows themselves sorted
        pairs = np.unique(np.column_stack([np.minimum(a, b), np.maximum(a, b)]), axis=0)
        return pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
    key = np.minimum(a, b, dtype=np.int64)
    key *= n
    key += np.maximum(a, b)
    key.sort()
    first = np.empty(key.size, bool)  # the first of each run of equal keys
    first[0] = True
    np.not_equal(key[1:], key[:-1], out=first[1:])
    low, high = np.divmod(key[first], n)
    return low, high
