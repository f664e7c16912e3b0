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
        tie: int64 ids of the ties that met (in their cluster's meeting or on their own),
            ascending. Rules taking ``met`` accept these ids or a bool mask per tie.
        cluster: bool per cluster: the cluster met (its mentor and at least one open tie).
    """

    tie: np.ndarray
    cluster: np.ndarray

    @classmethod
    def none(cls, n_clusters: int) -> Meetings:
        """No meeting at all."""
        return cls(np.zeros(0, np.int64), np.zeros(n_clusters, dtype=bool))


def met_ties(met: np.ndarray) -> np.ndarray:
    """Ids of the ties that met, from ids or from a bool mask per tie."""
    met = np.asarray(met)
    return np.flatnonzero(met) if met.dtype == bool else met.astype(np.int64, copy=False)


@dataclass(frozen=True)
class MeetingPlan:
    """What may meet, fixed until the ties, the schools' activity or the programme's phase
    change (the model rebuilds it then): the week's draws work on these short lists only.

    Attributes:
        cluster_ids: Clusters with a positive rate: one draw each every term week.
        cluster_p: Their meeting probability (rate times the programme's scale).
        cluster_ok: Whether each of them can meet (its mentor active).
        event_ties: The open ties of each cluster, by cluster: cluster c's are
            ``event_ties[event_start[c]:event_start[c] + event_count[c]]``.
        event_start, event_count: Per cluster (every cluster id).
        pair_ids, pair_p, pair_open: Formal ties that meet on their own with a positive
            rate, their probability, whether each is open (contacts stream).
        informal_ids, informal_p: Proximity ties with a positive rate (informal stream).
    """

    cluster_ids: np.ndarray
    cluster_p: np.ndarray
    cluster_ok: np.ndarray
    event_ties: np.ndarray
    event_start: np.ndarray
    event_count: np.ndarray
    pair_ids: np.ndarray
    pair_p: np.ndarray
    pair_open: np.ndarray
    informal_ids: np.ndarray
    informal_p: np.ndarray

    @property
    def n_clusters(self) -> int:
        """Number of cluster ids."""
        return int(self.event_start.size)


def plan_meetings(
    ties: TieTable,
    is_open: np.ndarray,
    cluster_rate: np.ndarray,
    cluster_scale: np.ndarray,
    cluster_mentor: np.ndarray,
    active: np.ndarray,
    pair_rate: np.ndarray,
) -> MeetingPlan:
    """The meeting plan of the current ties (see ``MeetingPlan``).

    A cluster can meet while its mentor is active (``cluster_mentor``, -1: no mentor); its
    open ties then meet together. Ties that meet on their own are drawn whether open or not
    (one number each), so that a dropout never shifts another tie's draw.
    """
    n_clusters = cluster_rate.size
    drawn = np.flatnonzero(cluster_rate > 0)
    mentor = cluster_mentor[drawn]
    ok = (mentor >= 0) & active[np.maximum(mentor, 0)] if drawn.size else np.zeros(0, bool)
    in_event = np.flatnonzero((ties.event >= 0) & is_open)
    event_ties = in_event[np.argsort(ties.event[in_event], kind="stable")]
    count = np.bincount(ties.event[event_ties], minlength=n_clusters)[:n_clusters]
    start = np.concatenate([[0], np.cumsum(count)[:-1]]) if n_clusters else np.zeros(0, np.int64)
    alone = (ties.event < 0) & (pair_rate > 0)
    formal = np.flatnonzero(alone & ties.formal)
    informal = np.flatnonzero(alone & ~ties.formal)
    return MeetingPlan(
        cluster_ids=drawn,
        cluster_p=cluster_rate[drawn] * cluster_scale[drawn],
        cluster_ok=ok,
        event_ties=event_ties,
        event_start=start.astype(np.int64),
        event_count=count.astype(np.int64),
        pair_ids=formal,
        pair_p=pair_rate[formal],
        pair_open=is_open[formal],
        informal_ids=informal,
        informal_p=pair_rate[informal],
    )


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
    plan: MeetingPlan,
    in_term: bool,
    rng: np.random.Generator,
    informal_rng: np.random.Generator,
) -> Meetings:
    """Which clusters and ties meet: Bernoulli(rate * scale) per cluster, Bernoulli(rate)
    per tie that meets on its own, in term weeks; only open ties meet.

    One uniform number is drawn per cluster and per formal tie with a positive rate in
    every term week, whatever the state (the contacts stream), so that scenarios differing
    only in engagement, incentives or the programme's end keep their meetings aligned; the
    informal proximity ties draw from their own stream, so that they meet alike under
    every structure (the same ties in every arm). ``scale`` is 1 while the programme runs
    and the sustained share (or 0) after.
    """
    n_clusters = plan.n_clusters
    if not in_term:
        return Meetings.none(n_clusters)
    u = rng.random(plan.cluster_ids.size)
    met_clusters = plan.cluster_ids[(u < plan.cluster_p) & plan.cluster_ok]
    count = plan.event_count[met_clusters]
    met_clusters = met_clusters[count > 0]
    count = count[count > 0]
    first = plan.event_start[met_clusters]
    # the ties of the clusters that met: the runs first[k] .. first[k] + count[k] - 1
    offsets = np.repeat(first - np.concatenate([[0], np.cumsum(count)[:-1]]), count)
    in_events = plan.event_ties[offsets + np.arange(int(count.sum()))]
    u = rng.random(plan.pair_ids.size)
    pairs = plan.pair_ids[(u < plan.pair_p) & plan.pair_open]
    u = informal_rng.random(plan.informal_ids.size)
    informal = plan.informal_ids[u < plan.informal_p]
    held = np.zeros(n_clusters, dtype=bool)
    held[met_clusters] = True
    return Meetings(tie=np.sort(np.concatenate([in_events, pairs, informal])), cluster=held)


def meeting_count(ties: TieTable, meetings: Meetings) -> int:
    """Meetings held this week: cluster meetings plus formal ties that met on their own."""
    met = met_ties(meetings.tie)
    alone = (ties.event[met] < 0) & (ties.kind[met] != KIND_PROXIMITY)
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
    met = met_ties(meetings.tie)
    if met.size == 0:
        return MeetingCosts(staff_hours=hours, travel=travel)
    kind, event = ties.kind[met], ties.event[met]
    src, dst, distance = ties.src[met], ties.dst[met], ties.distance[met]
    in_person = ties.mode[met] == MODE_IN_PERSON
    length = np.where(in_person, contacts.hours_in_person, contacts.hours_online)
    trip_hours = np.where(in_person, 2.0 * distance / contacts.travel_speed_kmh, 0.0)
    trip_cost = np.where(in_person & funded[met], 2.0 * distance * travel_per_km, 0.0)

    # cluster meetings: the mentees that met, and their mentors once per meeting
    mentee_tie = np.flatnonzero((event >= 0) & (kind == KIND_MENTORING))
    mentee = dst[mentee_tie]
    hours += np.bincount(
        mentee,
        weights=delegates_per_school[mentee] * (length + trip_hours)[mentee_tie],
        minlength=n,
    )
    travel += np.bincount(mentee, weights=trip_cost[mentee_tie], minlength=n)
    host_tie = mentee_tie[_first_per_event(event[mentee_tie])]
    host = src[host_tie]
    hours += np.bincount(
        host,
        weights=delegates_per_school[host] * length[host_tie] + contacts.mentor_prep_hours,
        minlength=n,
    )

    # ties that meet on their own (proximity: informal, free)
    alone = (event < 0) & (kind != KIND_PROXIMITY)
    community = np.flatnonzero(alone & (kind == KIND_COMMUNITY))
    for side in (src, dst):
        hours += np.bincount(
            side[community], weights=np.full(community.size, contacts.hours_community), minlength=n
        )
    other = np.flatnonzero(alone & (kind != KIND_COMMUNITY))
    u, v = src[other], dst[other]
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
