"""Small tie tables for the hand-computed rule tests."""

from __future__ import annotations

import numpy as np

from mensi_sim.codes import MODE_IN_PERSON
from mensi_sim.ties import TieTable


def ties(
    src,
    dst,
    kind,
    *,
    mode=None,
    strength=None,
    distance=None,
    event=None,
    programme=None,
) -> TieTable:
    """A TieTable from plain lists (in person, strength 1, 0 km, no cluster, programme)."""
    m = len(src)
    return TieTable(
        src=np.asarray(src, np.int64),
        dst=np.asarray(dst, np.int64),
        kind=np.asarray(kind, np.int8),
        mode=np.asarray(mode if mode is not None else [MODE_IN_PERSON] * m, np.int8),
        strength=np.asarray(strength if strength is not None else [1.0] * m, float),
        distance=np.asarray(distance if distance is not None else [0.0] * m, float),
        event=np.asarray(event if event is not None else [-1] * m, np.int64),
        programme=np.asarray(programme if programme is not None else [True] * m, bool),
    )
