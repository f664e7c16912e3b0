"""`SchoolNetwork`: the ties between schools as arrays, plus roles and clusters.

Network builders produce networkx graphs (nodes = school ids with ``role`` and
``cluster``; edges with ``kind``, ``mode``, ``strength``); the model works on the
array form below, which ``from_graph`` builds and ``to_networkx`` turns back.
Mentoring ties are directed mentor -> mentee (``src`` is the mentor); all other
kinds are undirected and stored once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from mensi_sim.codes import (
    KIND_MENTORING,
    KIND_NAMES,
    MODE_NAMES,
    ROLE_NAMES,
    ROLE_NONE,
)

if TYPE_CHECKING:  # imported where used: the command line starts without networkx
    import networkx as nx


@dataclass
class SchoolNetwork:
    """Ties as parallel arrays (one entry per tie) and per-school role and cluster."""

    n: int
    src: np.ndarray  # int64; the mentor for mentoring ties
    dst: np.ndarray  # int64; the mentee for mentoring ties
    kind: np.ndarray  # int8, codes.KIND_*
    mode: np.ndarray  # int8, codes.MODE_*
    strength: np.ndarray  # float64 in [0, 1]
    role: np.ndarray  # int8 per school, codes.ROLE_*
    cluster: np.ndarray  # int32 per school, -1 when in no cluster

    @property
    def n_ties(self) -> int:
        """Number of ties."""
        return int(self.src.size)

    @classmethod
    def empty(cls, n: int) -> SchoolNetwork:
        """n schools and no ties."""
        return cls(
            n=n,
            src=np.zeros(0, np.int64),
            dst=np.zeros(0, np.int64),
            kind=np.zeros(0, np.int8),
            mode=np.zeros(0, np.int8),
            strength=np.zeros(0, float),
            role=np.full(n, ROLE_NONE, np.int8),
            cluster=np.full(n, -1, np.int32),
        )

    @classmethod
    def from_graph(cls, graph: nx.Graph, n: int) -> SchoolNetwork:
        """Array form of a graph whose nodes are school ids 0..n-1.

        Node attributes ``role`` (name) and ``cluster`` (int) are optional.
        Edge attributes ``kind``, ``mode`` (names) and ``strength`` are required.
        For a directed mentoring edge the source is the mentor; in an
        undirected graph a mentoring edge is oriented from the node whose role
        is ``mentor``.
        """
        role_code = {name: i for i, name in enumerate(ROLE_NAMES)}
        kind_code = {name: i for i, name in enumerate(KIND_NAMES)}
        mode_code = {name: i for i, name in enumerate(MODE_NAMES)}
        role = np.full(n, ROLE_NONE, np.int8)
        cluster = np.full(n, -1, np.int32)
        for node, data in graph.nodes(data=True):
            if "role" in data:
                role[node] = role_code[data["role"]]
            if "cluster" in data and data["cluster"] is not None:
                cluster[node] = int(data["cluster"])
        m = graph.number_of_edges()
        src = np.empty(m, np.int64)
        dst = np.empty(m, np.int64)
        kind = np.empty(m, np.int8)
        mode = np.empty(m, np.int8)
        strength = np.empty(m, float)
        mentor = role_code["mentor"]
        for e, (u, v, data) in enumerate(graph.edges(data=True)):
            k = kind_code[data["kind"]]
            if k == KIND_MENTORING and not graph.is_directed() and role[v] == mentor:
                u, v = v, u
            src[e], dst[e] = u, v
            kind[e] = k
            mode[e] = mode_code[data["mode"]]
            strength[e] = float(data["strength"])
        return cls(n, src, dst, kind, mode, strength, role, cluster)

    def merged(self, other: SchoolNetwork) -> SchoolNetwork:
        """This network's ties plus ``other``'s (roles and clusters from self)."""
        return SchoolNetwork(
            n=self.n,
            src=np.concatenate([self.src, other.src]),
            dst=np.concatenate([self.dst, other.dst]),
            kind=np.concatenate([self.kind, other.kind]),
            mode=np.concatenate([self.mode, other.mode]),
            strength=np.concatenate([self.strength, other.strength]),
            role=self.role,
            cluster=self.cluster,
        )

    def to_networkx(self) -> nx.MultiGraph:
        """All schools and ties as a networkx MultiGraph (two schools may share ties of
        several kinds), with node attributes role and cluster and edge attributes kind,
        mode and strength."""
        import networkx as nx

        g = nx.MultiGraph()
        g.add_nodes_from(
            (i, {"role": ROLE_NAMES[r], "cluster": int(c)})
            for i, (r, c) in enumerate(zip(self.role.tolist(), self.cluster.tolist(), strict=True))
        )
        g.add_edges_from(
            (int(u), int(v), {"kind": KIND_NAMES[k], "mode": MODE_NAMES[md], "strength": float(s)})
            for u, v, k, md, s in zip(
                self.src.tolist(),
                self.dst.tolist(),
                self.kind.tolist(),
                self.mode.tolist(),
                self.strength.tolist(),
                strict=True,
            )
        )
        return g
