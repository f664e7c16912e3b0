"""Rule 6, opening up: outside schools join as mentees of capable adopters."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mensi_sim.scenario.schema import OpeningParams


@dataclass(frozen=True)
class NewMentoring:
    """Mentoring ties formed this week: ``mentor[i]`` takes ``mentee[i]``."""

    mentor: np.ndarray
    mentee: np.ndarray
    distance_km: np.ndarray


def eligible_mentors(
    adopted: np.ndarray,
    capacity: np.ndarray,
    active: np.ndarray,
    load: np.ndarray,
    params: OpeningParams,
) -> np.ndarray:
    """Adopters at or above ``mentor_min_capacity``, active, with a free mentoring slot."""
    return (
        adopted & active & (capacity >= params.mentor_min_capacity) & (load < params.mentor_limit)
    )


def match_joiners(
    joiners: np.ndarray,
    mentors: np.ndarray,
    free_slots: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
) -> NewMentoring:
    """Each joiner asks its nearest eligible mentor; a mentor takes the nearest askers up to
    its free slots. Those refused try again in a later week.

    ``joiners`` and ``mentors`` are school ids; ``free_slots`` is per mentor (aligned).
    """
    empty = np.zeros(0, np.int64)
    if joiners.size == 0 or mentors.size == 0:
        return NewMentoring(empty, empty, np.zeros(0))
    from scipy.spatial import cKDTree  # imported where used (a fast start)

    tree = cKDTree(np.column_stack([x[mentors], y[mentors]]))
    dist, nearest = tree.query(np.column_stack([x[joiners], y[joiners]]), k=1)
    order = np.lexsort((dist, nearest))
    asked = nearest[order]
    first_of_mentor = np.r_[True, asked[1:] != asked[:-1]]
    start = np.maximum.accumulate(np.where(first_of_mentor, np.arange(asked.size), 0))
    rank = np.arange(asked.size) - start
    accepted = order[rank < free_slots[asked]]
    return NewMentoring(
        mentor=mentors[nearest[accepted]].astype(np.int64),
        mentee=joiners[accepted].astype(np.int64),
        distance_km=dist[accepted],
    )


def draw_joiners(
    outside: np.ndarray,
    params: OpeningParams,
    week: int | np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Outside schools asking to join this week (each with probability ``join_rate``).

    ``week`` is the week of the programme's calendar, or one per school under a staged
    roll-out (the week of its wave's calendar: a wave k school's week is ``week - 52 k``),
    so a school may ask from ``start_week`` of its own calendar on. Draws one uniform
    number per school from the first week any school may ask on (aligned streams).
    """
    may_ask = np.asarray(week) >= params.start_week
    if not params.enabled or not may_ask.any():
        return np.zeros(0, np.int64)
    asks = outside & (rng.random(outside.size) < params.join_rate)
    return np.flatnonzero(asks & may_ask if may_ask.ndim else asks)
