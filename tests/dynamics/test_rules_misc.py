"""Rules 1, 3, 5, 6, 7 on small hand-computed cases."""

import numpy as np
import pytest

from mensi_sim.codes import (
    INT64_KEY_MAX_N,
    KIND_COMMUNITY,
    KIND_MENTORING,
    KIND_PEER,
    KIND_PROXIMITY,
    MODE_IN_PERSON,
    MODE_ONLINE,
    ROLE_MENTEE,
    ROLE_MENTOR,
    ROLE_NONE,
)
from mensi_sim.dynamics import contacts, costs, engagement, incentives, opening, training
from mensi_sim.registry import STRUCTURES
from mensi_sim.scenario.schema import (
    ContactParams,
    CostParams,
    Course,
    EngagementParams,
    IncentiveScheme,
    OpeningParams,
    ProgrammeParams,
)

from .support import ties


def test_pairwise_rates_by_kind_and_mode_and_none_for_cluster_ties():
    cp = ContactParams()
    kind = [KIND_MENTORING, KIND_MENTORING, KIND_PEER, KIND_COMMUNITY, KIND_PROXIMITY, KIND_PEER]
    mode = [
        MODE_IN_PERSON,
        MODE_ONLINE,
        MODE_IN_PERSON,
        MODE_ONLINE,
        MODE_IN_PERSON,
        MODE_IN_PERSON,
    ]
    table = ties([0] * 6, [1] * 6, kind, mode=mode, event=[-1, -1, -1, -1, -1, 3])
    rate = contacts.pairwise_rates(table, cp)
    assert rate.tolist() == [
        cp.rate_in_person,
        cp.rate_online,
        cp.rate_peer,
        cp.rate_community,
        cp.rate_proximity,
        0.0,  # a peer tie inside cluster 3 meets in its cluster's meeting
    ]
    clusters = contacts.cluster_rates(np.array([MODE_IN_PERSON, MODE_ONLINE, -1]), cp)
    assert clusters.tolist() == [cp.rate_in_person, cp.rate_online, 0.0]


def _cluster_of_three():
    # cluster 0: mentor 0 with mentees 1 and 2 (mentoring 0-1, 0-2, peer 1-2); tie 3 pairwise
    return ties(
        [0, 0, 1, 3],
        [1, 2, 2, 4],
        [KIND_MENTORING, KIND_MENTORING, KIND_PEER, KIND_PEER],
        event=[0, 0, 0, -1],
        distance=[10.0, 20.0, 5.0, 30.0],
    )


def _plan(table, cluster_rate, pair_rate, is_open, *, scale=None, mentor=None, active=None):
    n = int(max(table.src.max(), table.dst.max())) + 1
    k = len(cluster_rate)
    return contacts.plan_meetings(
        table,
        np.asarray(is_open, bool),
        np.asarray(cluster_rate, float),
        np.ones(k) if scale is None else np.asarray(scale, float),
        np.zeros(k, np.int64) if mentor is None else np.asarray(mentor),
        np.ones(n, bool) if active is None else np.asarray(active, bool),
        np.asarray(pair_rate, float),
    )


def test_a_cluster_meets_as_one_event_and_only_open_ties_meet():
    table = _cluster_of_three()
    rng = np.random.default_rng(0)
    plan = _plan(table, [1.0], [0, 0, 0, 1.0], [True, False, True, True])
    off = contacts.draw_meetings(plan, False, rng, rng)
    assert off.tie.size == 0 and not off.cluster.any()
    met = contacts.draw_meetings(plan, True, rng, rng)
    assert met.tie.tolist() == [0, 2, 3]  # the closed mentoring tie 0-2 does not meet
    assert met.cluster.tolist() == [True]
    assert contacts.meeting_count(table, met) == 2  # one cluster meeting, one pairwise


def test_a_cluster_whose_mentor_dropped_out_does_not_meet():
    table = _cluster_of_three()
    rng = np.random.default_rng(0)
    active = [False, True, True, True, True]  # mentor 0 gone; its mentees 1 and 2 remain
    is_open = [False, False, True, True]  # the mentoring ties closed with it
    met = contacts.draw_meetings(
        _plan(table, [1.0], [0, 0, 0, 1.0], is_open, active=active), True, rng, rng
    )
    assert met.tie.tolist() == [3]  # the peer tie 1-2 does not meet without the cluster
    assert not met.cluster.any()


def test_informal_ties_draw_from_their_own_stream():
    # the same proximity tie meets alike whatever the formal ties draw
    table = ties([0, 2, 4], [1, 3, 5], [KIND_PEER, KIND_PROXIMITY, KIND_PEER])
    seen = []
    for formal_rate in (0.0, 0.5):
        plan = _plan(table, [], [formal_rate, 0.5, formal_rate], [True] * 3)
        informal = np.random.default_rng(9)
        met = [
            contacts.draw_meetings(plan, True, np.random.default_rng(1), informal).tie
            for _ in range(20)
        ]
        seen.append([1 in m.tolist() for m in met])
    assert seen[0] == seen[1]


def test_cluster_meeting_frequency_matches_rate_times_scale():
    n = 50_000
    table = ties(
        np.zeros(n, int), np.arange(1, n + 1), np.full(n, KIND_MENTORING), event=np.arange(n)
    )
    plan = _plan(table, np.full(n, 0.5), np.zeros(n), np.ones(n, bool), scale=np.full(n, 0.5))
    rng = np.random.default_rng(5)
    met = contacts.draw_meetings(plan, True, rng, rng)
    # Bernoulli(0.25) per cluster: binomial sd sqrt(p (1 - p) / n); 5 sd tolerance
    assert met.cluster.mean() == pytest.approx(0.25, abs=5 * np.sqrt(0.25 * 0.75 / n))


def test_delegates_grow_with_school_size_within_bounds():
    cp = ContactParams(teachers_per_delegate=15.0, max_delegates=4)
    teachers = np.array([5.0, 15.0, 16.0, 31.0, 90.0])
    assert contacts.delegates(teachers, cp).tolist() == [1, 1, 2, 3, 4]


def test_cluster_meeting_costs_per_participating_school():
    cp = ContactParams(hours_in_person=7.0, mentor_prep_hours=2.0, travel_speed_kmh=50.0)
    table = _cluster_of_three()
    met = contacts.Meetings(tie=np.array([True, True, True, False]), cluster=np.array([True]))
    delegates = np.array([2.0, 1.0, 3.0, 1.0, 1.0])
    paid = contacts.meeting_costs(table, met, delegates, np.ones(4, bool), cp, travel_per_km=0.3)
    # mentor 0 hosts: 2 delegates x 7 h + 2 h preparation, no travel
    assert paid.staff_hours[0] == pytest.approx(2 * 7 + 2)
    # mentee 1: 1 delegate x (7 h + 2 x 10 km / 50 km/h); car 2 x 10 km x 0.3
    assert paid.staff_hours[1] == pytest.approx(1 * (7 + 0.4))
    assert paid.travel[1] == pytest.approx(6.0)
    # mentee 2: 3 delegates x (7 + 0.8) h; the peer tie 1-2 adds nothing (same meeting)
    assert paid.staff_hours[2] == pytest.approx(3 * 7.8)
    assert paid.travel[2] == pytest.approx(12.0)
    assert paid.staff_hours[3:].tolist() == [0.0, 0.0]


def test_unfunded_meetings_book_staff_time_but_no_travel():
    table = _cluster_of_three()
    met = contacts.Meetings(tie=np.array([True, True, True, False]), cluster=np.array([True]))
    funded = contacts.meeting_costs(table, met, np.ones(5), np.ones(4, bool), ContactParams(), 0.3)
    unfunded = contacts.meeting_costs(
        table, met, np.ones(5), np.zeros(4, bool), ContactParams(), 0.3
    )
    assert unfunded.travel.sum() == 0 and funded.travel.sum() > 0
    assert unfunded.staff_hours.tolist() == funded.staff_hours.tolist()


def test_distance_raises_in_person_cost_not_online_cost():
    cp = ContactParams()
    table = ties(
        [0, 2, 4, 6],
        [1, 3, 5, 7],
        [KIND_PEER] * 4,
        mode=[MODE_IN_PERSON, MODE_IN_PERSON, MODE_ONLINE, MODE_ONLINE],
        distance=[10.0, 100.0, 10.0, 100.0],
    )
    met = contacts.Meetings(tie=np.ones(4, bool), cluster=np.zeros(0, bool))
    paid = contacts.meeting_costs(table, met, np.ones(8), np.ones(4, bool), cp, 0.3)
    assert paid.travel.tolist() == pytest.approx([0, 6.0, 0, 60.0, 0, 0, 0, 0])
    assert paid.staff_hours[5] == paid.staff_hours[7] == cp.hours_online
    assert paid.staff_hours[3] > paid.staff_hours[1] > cp.hours_in_person


def test_informal_ties_cost_nothing_and_never_go_quiet():
    table = ties([0, 0], [1, 1], [KIND_PROXIMITY, KIND_PEER], distance=[50.0, 0.0])
    assert table.formal.tolist() == [False, True]
    is_open = contacts.tie_open(table, np.array([True, False]), np.ones(2, bool))
    assert is_open.tolist() == [True, False]
    met = contacts.Meetings(tie=np.array([True, False]), cluster=np.zeros(0, bool))
    paid = contacts.meeting_costs(table, met, np.ones(2), np.ones(2, bool), ContactParams(), 0.3)
    assert paid.travel.sum() == 0 and paid.staff_hours.sum() == 0


def test_programme_ties_close_when_the_programme_does_not_allow_them():
    table = ties([0, 0], [1, 1], [KIND_MENTORING, KIND_PEER], programme=[True, False])
    is_open = contacts.tie_open(table, np.ones(2, bool), np.zeros(2, bool))
    assert is_open.tolist() == [False, True]


def test_course_completion_gain():
    course = Course(name="c", capacity_gain=0.1)
    gain = training.completion_gain(np.array([0.5, 0.5]), np.array([True, False]), course)
    assert gain.tolist() == pytest.approx([0.05, 0.0])


def test_course_completion_rate():
    n = 50_000
    course = Course(name="c", completion_prob=74 / 93)
    done = training.course_completion(np.ones(n, bool), course, np.random.default_rng(0))
    p = 74 / 93
    assert done.mean() == pytest.approx(p, abs=5 * np.sqrt(p * (1 - p) / n))


def test_engagement_relaxes_toward_target_with_fatigue():
    target = engagement.engagement_target(0.5, np.array([0.2, 0.0]), np.array([0.0, 4.0]), 0.05)
    assert target.tolist() == pytest.approx([0.7, 0.3])
    e = engagement.relax_engagement(np.array([0.9, 0.9]), target, 0.5)
    assert e.tolist() == pytest.approx([0.8, 0.6])


def test_dropout_after_consecutive_weeks_below_floor():
    params = EngagementParams(dropout_floor=0.3, dropout_weeks=2)
    weeks = np.array([0, 1, 1])
    eng = np.array([0.2, 0.2, 0.5])
    member = np.array([True, True, True])
    weeks, drops = engagement.dropout_step(eng, weeks, np.ones(3, bool), member, params)
    assert weeks.tolist() == [1, 2, 0]
    assert drops.tolist() == [False, True, False]


def test_initial_engagement_mean_and_sd():
    m = np.random.default_rng(1).random(100_000)
    e = engagement.initial_engagement(m.size, 0.6, 0.1, m)
    assert e.mean() == pytest.approx(0.6, abs=0.002)
    assert e.std() == pytest.approx(0.1, abs=0.002)


PROGRAMME = ProgrammeParams(end_week=52)


def test_incentive_payments_by_type():
    role = np.array([ROLE_MENTOR, ROLE_MENTEE, ROLE_NONE])
    member = role != ROLE_NONE
    active = np.ones(3, bool)
    new = np.array([False, True, True])
    teachers = np.array([10.0, 20.0, 30.0])
    schemes = [
        IncentiveScheme(type="funding", target="mentors", amount=5200.0),
        IncentiveScheme(type="recognition", target="participants", amount=200.0, start_week=3),
        IncentiveScheme(type="adoption_reward", target="all", amount=1000.0),
    ]
    week0 = incentives.incentive_payments(
        schemes, 0, PROGRAMME, role, member, active, new, teachers
    )
    assert week0.tolist() == [100.0, 1000.0, 1000.0]
    week3 = incentives.incentive_payments(
        schemes, 3, PROGRAMME, role, member, active, np.zeros(3, bool), teachers
    )
    assert week3.tolist() == [300.0, 200.0, 0.0]
    after = incentives.incentive_payments(
        schemes, 60, PROGRAMME, role, member, active, new, teachers
    )
    assert after.tolist() == [0.0, 0.0, 0.0]


def test_payment_per_teacher_scales_with_the_school():
    role = np.array([ROLE_MENTEE, ROLE_MENTEE])
    scheme = IncentiveScheme(
        type="recognition", target="mentees", amount=10.0, per="teacher", half_effect_amount=10.0
    )
    paid = incentives.incentive_payments(
        [scheme],
        0,
        PROGRAMME,
        role,
        np.ones(2, bool),
        np.ones(2, bool),
        np.zeros(2, bool),
        np.array([12.0, 40.0]),
    )
    assert paid.tolist() == [120.0, 400.0]


def test_no_scheme_runs_outside_the_programme():
    scheme = IncentiveScheme(type="funding", start_week=0, duration_weeks=200)
    programme = ProgrammeParams(start_week=10, end_week=30)
    assert [incentives.is_running(scheme, w, programme) for w in (9, 10, 29, 30)] == [
        False,
        True,
        True,
        False,
    ]


def test_default_amounts_by_type():
    # 0.1 FTE: the mean over the six MenSI countries of 0.1 x annual hours x hour rate
    # (6,539 + 2,180 + 2,363 + 1,490 + 4,360 + 4,651) / 6 = 3,597, rounded to 3,600
    assert IncentiveScheme(type="release_time").payment == 3600.0
    assert IncentiveScheme(type="recognition").payment == 200.0


def test_effect_has_a_dose_with_diminishing_returns():
    effect = [
        incentives.dose_effect(
            IncentiveScheme(type="funding", amount=a, max_effect=0.2, half_effect_amount=3000.0)
        )
        for a in (0.0, 1000.0, 3000.0, 9000.0, 1e8)
    ]
    assert effect[0] == 0.0
    assert effect[2] == pytest.approx(0.1)  # half the largest effect at the half amount
    assert effect[4] == pytest.approx(0.2, abs=1e-5)
    steps = np.diff(effect[:4]) / np.diff([0.0, 1000.0, 3000.0, 9000.0])
    assert np.all(np.diff(steps) < 0)  # each extra euro is worth less


def test_incentive_effect_reaches_only_its_active_targets():
    role = np.array([ROLE_MENTOR, ROLE_MENTEE, ROLE_NONE])
    scheme = dict(type="funding", max_effect=0.4)  # default amount = half amount: 0.2
    eff = incentives.incentive_effect(
        [IncentiveScheme(target="mentees", **scheme)],
        0,
        PROGRAMME,
        role,
        role != ROLE_NONE,
        np.array([True, False, True]),
    )
    assert eff.tolist() == [0.0, 0.0, 0.0]
    eff = incentives.incentive_effect(
        [IncentiveScheme(target="participants", **scheme)],
        0,
        PROGRAMME,
        role,
        role != ROLE_NONE,
        np.ones(3, bool),
    )
    assert eff.tolist() == pytest.approx([0.2, 0.2, 0.0])


def test_coordination_and_platform_costs():
    cc = CostParams()
    role = np.array([ROLE_MENTOR, ROLE_MENTEE, ROLE_MENTOR])
    coord = costs.coordination_cost(
        role, np.array([True, True, False]), costs.coordination_rate(STRUCTURES.get("top_down"), cc)
    )
    assert coord.tolist() == pytest.approx([5000 / 52, 0, 0])
    assert costs.coordination_rate(STRUCTURES.get("complete"), cc) == 0.0
    table = ties(
        [0, 2],
        [1, 3],
        [KIND_MENTORING, KIND_PROXIMITY],
        mode=[MODE_ONLINE, MODE_ONLINE],
        programme=[True, False],
    )
    online = costs.online_schools(4, table, np.ones(2, bool))
    assert online.tolist() == [True, True, False, False]


def test_joiners_go_to_nearest_mentor_within_its_free_slots():
    x = np.array([0.0, 100.0, 1.0, 2.0, 3.0, 99.0])
    y = np.zeros(6)
    new = opening.match_joiners(np.array([2, 3, 4, 5]), np.array([0, 1]), np.array([2, 1]), x, y)
    pairs = sorted(zip(new.mentor.tolist(), new.mentee.tolist(), strict=True))
    assert pairs == [(0, 2), (0, 3), (1, 5)]  # mentor 0 full: school 4 waits
    assert sorted(new.distance_km.tolist()) == [1.0, 1.0, 2.0]


def test_eligible_mentors_need_adoption_capacity_and_a_free_slot():
    params = OpeningParams(enabled=True, mentor_min_capacity=0.6, mentor_limit=2)
    ok = opening.eligible_mentors(
        np.array([True, True, False, True]),
        np.array([0.7, 0.5, 0.9, 0.8]),
        np.ones(4, bool),
        np.array([0.0, 0.0, 0.0, 2.0]),
        params,
    )
    assert ok.tolist() == [True, False, False, False]


@pytest.mark.parametrize("seed", range(4))
def test_grouped_by_event_is_the_stable_sort_by_event(seed):
    rng = np.random.default_rng(seed)
    for _ in range(150):
        n_ties = int(rng.integers(1, 80))
        ids = np.flatnonzero(rng.random(n_ties) < rng.random())  # ascending tie ids
        if rng.random() < 0.3:
            ids = ids.astype(np.int32)
        event = rng.integers(0, int(rng.integers(1, 6)), ids.size)  # few events: many ties each
        expected = ids[np.argsort(event, kind="stable")]  # the rule before
        for size in (n_ties, INT64_KEY_MAX_N + 1):  # the key sort; past int64 keys, the stable sort
            got = contacts.grouped_by_event(ids, event, size)
            assert got.dtype == ids.dtype and np.array_equal(got, expected)
