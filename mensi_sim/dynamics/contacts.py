"""Rule 1, contacts: which clusters and ties meet this week, who goes, and what it costs.

A cluster (a mentor and its mentees) meets as one event, at the rate of its mode; its
mentoring and peer ties meet together in that event. Other ties meet on their own.
Each school sends ``delegates`` staff (one per ``teachers_per_delegate`` teachers, at
least one, at most ``max_delegates``); staff hours are booked per participating school and
valued at its country's hour rate (an opportunity cost), travel in cash.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mensi_sim.codes import (
    KIND_COMMUNITY,
    KIND_MENTORING,
    KIND_PEER,
    KIND_PROXIMITY,
    MODE_IN_PERSON,
    MODE_ONLINE,
)
from mensi_sim.scenario.schema import ContactParams
from mensi_sim.ties import TieTable


@dataclass(frozen=True)
class Meetings:
    """What met this week.

    Attributes:
        tie: bool per tie: the tie met (in its cluster's meeting or on its own).
        cluster: bool per cluster: the cluster met (and at least one of its ties was open).
    """

    tie: np.ndarray
    cluster: np.ndarray

    @classmethod
    def none(cls, n_ties: int, n_clusters: int) -> Meetings:
        """No meeting at all."""
        return cls(np.zeros(n_ties, dtype=bool), np.zeros(n_clusters, dtype=bool))


def delegates(teachers: np.ndarray, contacts: ContactParams) -> np.ndarray:
    """Staff a school sends to a meeting: ``clip(ceil(teachers / teachers_per_delegate), 1,
    max_delegates)``."""
    return np.clip(np.ceil(teachers / contacts.teachers_per_delegate), 1, contacts.max_delegates)


def cluster_rates(modes: np.ndarray, contacts: ContactParams) -> np.ndarray:
    """Meetings per term week of each cluster by its mode (0 for a cluster with no mentee)."""
    rate = np.zeros(modes.size)
    rate[modes == MODE_IN_PERSON] = contacts.rate_in_person
    rate[modes == MODE_ONLINE] = contacts.rate_online
    return rate


def pairwise_rates(ties: TieTable, contacts: ContactParams) -> np.ndarray:
    """Meetings per term week of each tie that meets on its own (0 for ties in a cluster).

    Mentoring ties outside a cluster meet at the cluster rate of their mode; peer,
    community and proximity ties at their kind's rate.
    """
    kind, mode = ties.kind, ties.mode
    rate = np.zeros(ties.n_ties)
    mentoring = kind == KIND_MENTORING
    rate[mentoring & (mode == MODE_IN_PERSON)] = contacts.rate_in_person
    rate[mentoring & (mode == MODE_ONLINE)] = contacts.rate_online
    rate[kind == KIND_PEER] = contacts.rate_peer
    rate[kind == KIND_COMMUNITY] = contacts.rate_community
    rate[kind == KIND_PROXIMITY] = contacts.rate_proximity
    rate[ties.event >= 0] = 0.0
    return rate


def draw_meetings(
    ties: TieTable,
    cluster_rate: np.ndarray,
    pair_rate: np.ndarray,
    is_open: np.ndarray,
    cluster_scale: np.ndarray,
    in_term: bool,
    rng: np.random.Generator,
) -> Meetings:
    """Which clusters and ties meet: Bernoulli(rate * scale) per cluster, Bernoulli(rate)
    per tie that meets on its own, in term weeks; only open ties meet.

    One uniform number is drawn per cluster and per tie with a positive rate in every term
    week, whatever the state (the contacts stream), so that scenarios differing only in
    engagement, incentives or the programme's end keep their meetings aligned.
    ``cluster_scale`` is 1 while the programme runs and the sustained share (or 0) after.
    """
    n_clusters = cluster_rate.size
    if not in_term:
        return Meetings.none(ties.n_ties, n_clusters)
    cluster_met = np.zeros(n_clusters, dtype=bool)
    draw = cluster_rate > 0
    if draw.any():
        u = rng.random(int(np.count_nonzero(draw)))
        cluster_met[draw] = u < cluster_rate[draw] * cluster_scale[draw]
    pair_met = np.zeros(ties.n_ties, dtype=bool)
    draw = pair_rate > 0
    if draw.any():
        pair_met[draw] = rng.random(int(np.count_nonzero(draw))) < pair_rate[draw]
    in_event = ties.event >= 0
    met = pair_met
    if n_clusters:
        met = np.where(in_event, cluster_met[np.where(in_event, ties.event, 0)], pair_met)
    met &= is_open
    held = np.zeros(n_clusters, dtype=bool)
    held[ties.event[met & in_event]] = True
    return Meetings(tie=met, cluster=held)


def meeting_count(ties: TieTable, meetings: Meetings) -> int:
    """Meetings held this week: cluster meetings plus formal ties that met on their own."""
    alone = meetings.tie & (ties.event < 0) & (ties.kind != KIND_PROXIMITY)
    return int(np.count_nonzero(meetings.cluster)) + int(np.count_nonzero(alone))


def tie_open(ties: TieTable, active: np.ndarray, programme_open: np.ndarray) -> np.ndarray:
    """Ties that can meet: a formal tie while both schools are active and, for a programme
    tie, while ``programme_open`` (per tie: the programme runs or its cluster goes on);
    informal (proximity) ties always."""
    both_active = active[ties.src] & active[ties.dst]
    programme_ok = ~ties.programme | programme_open
    return ~ties.formal | (both_active & programme_ok)


@dataclass(frozen=True)
class MeetingCosts:
    """What this week's meetings cost each school."""

    staff_hours: np.ndarray  # hours of staff time per school
    travel: np.ndarray  # EUR of travel per school (cash)


def meeting_costs(
    ties: TieTable,
    meetings: Meetings,
    delegates_per_school: np.ndarray,
    funded: np.ndarray,
    contacts: ContactParams,
    travel_per_km: float,
) -> MeetingCosts:
    """Staff hours and travel of this week's meetings, per school.

    Cluster meeting (mode hours H: ``hours_in_person`` or ``hours_online``): each mentee
    that met sends its delegates for H hours, plus travel time ``2 d / travel_speed_kmh``
    in person, and pays travel ``2 d * travel_per_km`` (one car, d = km to its mentor);
    the mentor hosts: its delegates for H hours plus ``mentor_prep_hours``. Peer ties in
    the cluster cost nothing more (they are the same meeting). A tie that meets on its
    own: both schools' delegates for H hours; in person the second school (``dst``)
    travels as above; a community exchange is ``hours_community`` per school, online.
    Proximity meetings are informal and free. Travel is paid only where ``funded`` (per
    tie); staff time is booked for every meeting.
    """
    n = delegates_per_school.size
    hours = np.zeros(n)
    travel = np.zeros(n)
    met = meetings.tie
    in_person = ties.mode == MODE_IN_PERSON
    length = np.where(in_person, contacts.hours_in_person, contacts.hours_online)
    trip_hours = np.where(in_person, 2.0 * ties.distance / contacts.travel_speed_kmh, 0.0)
    trip_cost = np.where(in_person & funded, 2.0 * ties.distance * travel_per_km, 0.0)

    # cluster meetings: the mentees that met, and their mentors once per meeting
    mentee_tie = np.flatnonzero(met & (ties.event >= 0) & (ties.kind == KIND_MENTORING))
    mentee = ties.dst[mentee_tie]
    hours += np.bincount(
        mentee,
        weights=delegates_per_school[mentee] * (length + trip_hours)[mentee_tie],
        minlength=n,
    )
    travel += np.bincount(mentee, weights=trip_cost[mentee_tie], minlength=n)
    host_tie = mentee_tie[_first_per_event(ties.event[mentee_tie])]
    host = ties.src[host_tie]
    hours += np.bincount(
        host,
        weights=delegates_per_school[host] * length[host_tie] + contacts.mentor_prep_hours,
        minlength=n,
    )

    # ties that meet on their own (proximity: informal, free)
    alone = met & (ties.event < 0) & (ties.kind != KIND_PROXIMITY)
    community = np.flatnonzero(alone & (ties.kind == KIND_COMMUNITY))
    for side in (ties.src, ties.dst):
        hours += np.bincount(
            side[community], weights=np.full(community.size, contacts.hours_community), minlength=n
        )
    other = np.flatnonzero(alone & (ties.kind != KIND_COMMUNITY))
    u, v = ties.src[other], ties.dst[other]
    hours += np.bincount(u, weights=delegates_per_school[u] * length[other], minlength=n)
    hours += np.bincount(
        v, weights=delegates_per_school[v] * (length + trip_hours)[other], minlength=n
    )
    travel += np.bincount(v, weights=trip_cost[other], minlength=n)
    return MeetingCosts(staff_hours=hours, travel=travel)


def _first_per_event(event: np.ndarray) -> np.ndarray:
    """Positions of the first entry of each distinct value of ``event``."""
    if event.size == 0:
        return np.zeros(0, np.int64)
    _, first = np.unique(event, return_index=True)
    return first
