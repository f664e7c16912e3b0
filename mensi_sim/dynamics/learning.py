"""Rule 2, learning: capacity gained in meetings, and drift back toward baseline."""

from __future__ import annotations

import numpy as np

from mensi_sim.codes import KIND_MENTORING


def absorption(disadvantaged: np.ndarray, disadvantaged_absorption: float) -> np.ndarray:
    """``absorb_j = 1 - a * d_j``: how much of a lesson school j takes in.

    ``d_j`` is its share of disadvantaged students, ``a`` the disadvantaged absorption.
    """
    return 1.0 - disadvantaged_absorption * disadvantaged


def mentor_load(src: np.ndarray, kind: np.ndarray, is_active: np.ndarray, n: int) -> np.ndarray:
    """Number of active mentees of each school (0 for schools that mentor nobody)."""
    mentoring = (kind == KIND_MENTORING) & is_active
    return np.bincount(src[mentoring], minlength=n).astype(float)


def learning_change(
    capacity: np.ndarray,
    baseline: np.ndarray,
    engagement: np.ndarray,
    absorb: np.ndarray,
    load: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    kind: np.ndarray,
    strength: np.ndarray,
    meet: np.ndarray,
    *,
    rate: float,
    gamma: float,
    reciprocity: float,
    drift: float,
) -> np.ndarray:
    """Change of capacity this week from meetings and drift.

    For each tie that meets, the less capable side j learns from the more capable side i:

        gain_j = rate * strength * e_i * e_j * absorb_j * (c_i - c_j)+ / load_i^gamma

    where ``load_i`` is i's number of active mentees when the tie is a mentoring tie
    taught by the mentor (otherwise 1). The teacher learns back
    ``reciprocity * gain_j * (1 - c_i)``. A school with no meeting this week drifts:
    ``drift * (baseline - c)``. Gains from several meetings add up; the caller clips to [0, 1].
    """
    n = capacity.size
    e = np.flatnonzero(meet)
    change = np.zeros(n)
    if e.size:
        u, v = src[e], dst[e]
        cu, cv = capacity[u], capacity[v]
        teacher = np.where(cu >= cv, u, v)
        learner = np.where(cu >= cv, v, u)
        gap = np.abs(cu - cv)
        mentor_teaches = (kind[e] == KIND_MENTORING) & (teacher == u)
        dilution = np.where(mentor_teaches, np.maximum(load[teacher], 1.0) ** gamma, 1.0)
        gain = (
            rate
            * strength[e]
            * engagement[teacher]
            * engagement[learner]
            * absorb[learner]
            * gap
            / dilution
        )
        change += np.bincount(learner, weights=gain, minlength=n)
        change += np.bincount(
            teacher, weights=reciprocity * gain * (1.0 - capacity[teacher]), minlength=n
        )
    met = np.zeros(n, dtype=bool)
    met[src[e]] = True
    met[dst[e]] = True
    change += np.where(met, 0.0, drift * (baseline - capacity))
    return change
