"""Rule 2, learning: capacity gained in meetings, and drift back toward baseline."""

from __future__ import annotations

import numpy as np

from mensi_sim.codes import KIND_MENTORING, KIND_PEER, KIND_PROXIMITY
from mensi_sim.dynamics.contacts import met_ties
from mensi_sim.scenario.schema import ContactParams, LearningParams
from mensi_sim.ties import TieTable


def absorption(disadvantaged: np.ndarray, disadvantaged_absorption: float) -> np.ndarray:
    """``absorb_j = 1 - a * d_j``: how much of a lesson school j takes in.

    ``d_j`` is its share of disadvantaged students, ``a`` the disadvantaged absorption.
    """
    return 1.0 - disadvantaged_absorption * disadvantaged


def staff_reach(teachers: np.ndarray, delegates: np.ndarray, contacts: ContactParams) -> np.ndarray:
    """``reach_j = min(1, delegates_j * teachers_per_delegate / teachers_j)``.

    The share of a school's staff its delegates stand for: 1 for every school that sends
    a delegate per ``teachers_per_delegate`` teachers, less for a large school held back
    by ``max_delegates`` (a 90-teacher school sending 4 delegates per 15 teachers: 0.67).
    Whole-school change needs enough of the staff involved.
    """
    return np.minimum(1.0, delegates * contacts.teachers_per_delegate / teachers)


def mentor_load(ties: TieTable, is_open: np.ndarray, n: int) -> np.ndarray:
    """Number of open mentoring ties (mentees) of each school (0 for non-mentors)."""
    mentoring = (ties.kind == KIND_MENTORING) & is_open
    return np.bincount(ties.src[mentoring], minlength=n).astype(float)


def learning_change(
    ties: TieTable,
    met: np.ndarray,
    capacity: np.ndarray,
    baseline: np.ndarray,
    engagement: np.ndarray,
    absorb: np.ndarray,
    reach: np.ndarray,
    load: np.ndarray,
    params: LearningParams,
    informal_engagement: np.ndarray | None = None,
) -> np.ndarray:
    """Change of capacity this week from meetings and drift.

    ``met``: the ties that met (ids, or a bool mask per tie). For each tie that met, the
    less capable side j learns from the more capable side i:

        gain_j = rate * strength * e_i * e_j * absorb_j * reach_j * (c_i - c_j)+ / dilution

    where the dilution is ``load_i^gamma`` when the mentor i teaches over a mentoring tie
    (its attention is split over its mentees), ``peers_j^gamma`` over a peer tie (j's
    peer meetings this week share its attention: gamma = 1 averages its peers' lessons,
    gamma = 0 adds them up) and 1 otherwise. The
    teacher learns back ``reciprocity * gain_j * (1 - c_i)``. A school with no meeting this
    week drifts: ``drift * (baseline - c)``. Gains add up; the caller clips to [0, 1].

    ``e`` is the engagement each side brings to the tie: ``engagement`` on a programme's
    (formal) tie, ``informal_engagement`` on an informal proximity tie (the engagement the
    school would have outside any programme: ``engagement.informal_target``); without it,
    ``engagement`` on every tie.
    """
    n = capacity.size
    e = met_ties(met)
    u, v = ties.src[e], ties.dst[e]
    # drift for every school, then none for those that met (the same numbers as choosing
    # per school, in fewer passes over all schools)
    drift = params.drift * (baseline - capacity)
    drift[u] = 0.0
    drift[v] = 0.0
    if e.size == 0:
        return drift
    cu, cv = capacity[u], capacity[v]
    teacher = np.where(cu >= cv, u, v)
    learner = np.where(cu >= cv, v, u)
    gap = np.abs(cu - cv)
    kind = ties.kind[e]
    if informal_engagement is None or informal_engagement is engagement:
        e_teacher, e_learner = engagement[teacher], engagement[learner]
    else:  # a school brings its programme engagement to programme ties only
        formal = kind != KIND_PROXIMITY
        e_teacher = np.where(formal, engagement[teacher], informal_engagement[teacher])
        e_learner = np.where(formal, engagement[learner], informal_engagement[learner])
    peer = kind == KIND_PEER
    peers_met = np.bincount(u[peer], minlength=n) + np.bincount(v[peer], minlength=n)
    mentor_teaches = (kind == KIND_MENTORING) & (teacher == u)
    dilution = np.ones(e.size)
    dilution[mentor_teaches] = np.maximum(load[teacher[mentor_teaches]], 1.0) ** params.gamma
    dilution[peer] = np.maximum(peers_met[learner[peer]], 1) ** params.gamma
    gain = (
        params.rate
        * ties.strength[e]
        * e_teacher
        * e_learner
        * absorb[learner]
        * reach[learner]
        * gap
        / dilution
    )
    return (
        np.bincount(learner, weights=gain, minlength=n)
        + np.bincount(
            teacher, weights=params.reciprocity * gain * (1.0 - capacity[teacher]), minlength=n
        )
        + drift
    )
