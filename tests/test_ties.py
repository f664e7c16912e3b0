"""The tie table's derived arrays, against the straightforward rules they implement."""

from __future__ import annotations

import numpy as np
import pytest

from mensi_sim.codes import KIND_MENTORING, KIND_PEER, ROLE_MENTOR
from mensi_sim.ties import cluster_event


def _cluster_event_reference(src, dst, kind, role, cluster):
    """The rule over every tie (the code before only mentoring and peer ties were read)."""
    event = np.full(src.size, -1, np.int64)
    mentoring = (kind == KIND_MENTORING) & (role[src] == ROLE_MENTOR) & (cluster[src] >= 0)
    event[mentoring] = cluster[src[mentoring]]
    peer = (kind == KIND_PEER) & (cluster[src] >= 0) & (cluster[src] == cluster[dst])
    event[peer] = cluster[src[peer]]
    return event


@pytest.mark.parametrize("seed", range(5))
def test_cluster_event_matches_the_rule_over_every_tie(seed):
    rng = np.random.default_rng(seed)
    for _ in range(100):
        n = int(rng.integers(1, 30))
        m = int(rng.integers(0, 60))
        role = rng.integers(0, 3, n).astype(np.int8)
        cluster = rng.integers(-1, 4, n).astype(np.int32)  # -1: no cluster; few: shared ones
        src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
        kind = rng.integers(0, 4, m).astype(np.int8)
        got = cluster_event(src, dst, kind, role, cluster)
        expected = _cluster_event_reference(src, dst, kind, role, cluster)
        assert got.dtype == np.int64 and np.array_equal(got, expected)
