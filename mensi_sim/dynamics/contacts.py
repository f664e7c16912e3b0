"""Rule 1, contacts: which ties meet this week and what the meetings cost."""

from __future__ import annotations

import numpy as np

from mensi_sim.codes import (
    KIND_COMMUNITY,
    KIND_MENTORING,
    KIND_PEER,
    KIND_PROXIMITY,
    MODE_IN_PERSON,
    MODE_ONLINE,
)
from mensi_sim.scenario.schema import ContactParams, CostParams


def tie_meeting_rate(kind: np.ndarray, mode: np.ndarray, contacts: ContactParams) -> np.ndarray:
    """Meetings per term week of each tie, by kind (and mode for mentoring ties)."""
    rate = np.zeros(kind.size)
    mentoring = kind == KIND_MENTORING
    rate[mentoring & (mode == MODE_IN_PERSON)] = contacts.rate_in_person
    rate[mentoring & (mode == MODE_ONLINE)] = contacts.rate_online
    rate[kind == KIND_PEER] = contacts.rate_peer
    rate[kind == KIND_COMMUNITY] = contacts.rate_community
    rate[kind == KIND_PROXIMITY] = contacts.rate_proximity
    return rate


def tie_is_formal(kind: np.ndarray) -> np.ndarray:
    """Ties that belong to the programme (they go quiet when a side drops out, and cost money).

    Proximity ties are informal: they never go quiet and cost nothing.
    """
    return kind != KIND_PROXIMITY


def tie_active(
    src: np.ndarray, dst: np.ndarray, formal: np.ndarray, active: np.ndarray
) -> np.ndarray:
    """A formal tie is active while both schools are active; informal ties always are."""
    return ~formal | (active[src] & active[dst])


def draw_meetings(
    rate: np.ndarray, is_active: np.ndarray, in_term: bool, rng: np.random.Generator
) -> np.ndarray:
    """Which ties meet this week: Bernoulli(rate) for active ties in term weeks.

    One uniform number is drawn per tie with a positive rate in every term week,
    whatever the state, so that scenarios that differ only in engagement or
    incentives keep their random streams aligned (common random numbers).
    """
    meet = np.zeros(rate.size, dtype=bool)
    if not in_term:
        return meet
    draw = rate > 0
    if draw.any():
        meet[draw] = rng.random(int(draw.sum())) < rate[draw]
    return meet & is_active


def meeting_costs(
    meet: np.ndarray,
    mode: np.ndarray,
    formal: np.ndarray,
    distance_km: np.ndarray,
    contacts: ContactParams,
    costs: CostParams,
) -> tuple[np.ndarray, np.ndarray]:
    """Travel and staff-time cost (EUR) of each tie's meeting this week.

    In person: travel ``2 * distance * travel_per_km`` (both ways) and
    ``staff_hours_in_person * staff_hour_rate``; online: staff time only,
    ``staff_hours_online * staff_hour_rate``. Informal (proximity) meetings cost nothing.
    """
    paid = meet & formal
    in_person = paid & (mode == MODE_IN_PERSON)
    online = paid & (mode == MODE_ONLINE)
    travel = np.where(in_person, 2.0 * distance_km * costs.travel_per_km, 0.0)
    hours = np.where(in_person, contacts.staff_hours_in_person, 0.0) + np.where(
        online, contacts.staff_hours_online, 0.0
    )
    return travel, hours * costs.staff_hour_rate
