"""Rules 1, 3, 5, 6, 7 on small hand-computed cases."""

import numpy as np
import pytest

from mensi_sim.codes import (
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
from mensi_sim.scenario.schema import (
    ContactParams,
    CostParams,
    Course,
    EngagementParams,
    IncentiveScheme,
    OpeningParams,
)


def test_meeting_rates_by_kind_and_mode():
    cp = ContactParams()
    kind = np.array([KIND_MENTORING, KIND_MENTORING, KIND_PEER, KIND_COMMUNITY, KIND_PROXIMITY])
    mode = np.array([MODE_IN_PERSON, MODE_ONLINE, MODE_IN_PERSON, MODE_ONLINE, MODE_IN_PERSON])
    rate = contacts.tie_meeting_rate(kind, mode, cp)
    assert rate.tolist() == [
        cp.rate_in_person,
        cp.rate_online,
        cp.rate_peer,
        cp.rate_community,
        cp.rate_proximity,
    ]


def test_no_meetings_out_of_term_and_on_quiet_ties():
    rate = np.ones(3)
    rng = np.random.default_rng(0)
    assert not contacts.draw_meetings(rate, np.ones(3, bool), False, rng).any()
    meet = contacts.draw_meetings(rate, np.array([True, False, True]), True, rng)
    assert meet.tolist() == [True, False, True]


def test_meeting_frequency_matches_rate():
    n = 100_000
    meet = contacts.draw_meetings(
        np.full(n, 0.25), np.ones(n, bool), True, np.random.default_rng(5)
    )
    assert meet.mean() == pytest.approx(0.25, abs=5 * np.sqrt(0.25 * 0.75 / n))


def test_distance_raises_in_person_cost_not_online_cost():
    cp, cc = ContactParams(), CostParams()
    meet = np.ones(4, bool)
    mode = np.array([MODE_IN_PERSON, MODE_IN_PERSON, MODE_ONLINE, MODE_ONLINE])
    formal = np.ones(4, bool)
    dist = np.array([10.0, 100.0, 10.0, 100.0])
    travel, staff = contacts.meeting_costs(meet, mode, formal, dist, cp, cc)
    assert travel.tolist() == [2 * 10 * 0.30, 2 * 100 * 0.30, 0.0, 0.0]
    assert staff[0] == staff[1] == cp.staff_hours_in_person * cc.staff_hour_rate
    assert staff[2] == staff[3] == cp.staff_hours_online * cc.staff_hour_rate


def test_informal_ties_cost_nothing_and_never_go_quiet():
    formal = contacts.tie_is_formal(np.array([KIND_PROXIMITY, KIND_PEER]))
    assert formal.tolist() == [False, True]
    active = contacts.tie_active(
        np.array([0, 0]), np.array([1, 1]), formal, np.array([True, False])
    )
    assert active.tolist() == [True, False]
    travel, staff = contacts.meeting_costs(
        np.ones(2, bool),
        np.zeros(2, int),
        formal,
        np.array([50.0, 0.0]),
        ContactParams(),
        CostParams(),
    )
    assert travel[0] == 0 and staff[0] == 0


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


def test_incentive_payments_by_type():
    role = np.array([ROLE_MENTOR, ROLE_MENTEE, ROLE_NONE])
    member = role != ROLE_NONE
    active = np.ones(3, bool)
    new = np.array([False, True, True])
    schemes = [
        IncentiveScheme(type="funding", target="mentors", amount=5200.0),
        IncentiveScheme(type="recognition", target="participants", amount=200.0, start_week=3),
        IncentiveScheme(type="adoption_reward", target="all", amount=1000.0),
    ]
    week0 = incentives.incentive_payments(schemes, 0, role, member, active, new)
    assert week0.tolist() == [100.0, 1000.0, 1000.0]
    week3 = incentives.incentive_payments(schemes, 3, role, member, active, np.zeros(3, bool))
    assert week3.tolist() == [300.0, 200.0, 0.0]
    after = incentives.incentive_payments(schemes, 60, role, member, active, new)
    assert after.tolist() == [0.0, 0.0, 0.0]


def test_default_amounts_by_type():
    assert IncentiveScheme(type="release_time").payment == 4000.0
    assert IncentiveScheme(type="recognition").payment == 200.0


def test_incentive_effect_reaches_only_its_active_targets():
    role = np.array([ROLE_MENTOR, ROLE_MENTEE, ROLE_NONE])
    eff = incentives.incentive_effect(
        [IncentiveScheme(type="funding", target="mentees", effect=0.2)],
        0,
        role,
        role != ROLE_NONE,
        np.array([True, False, True]),
    )
    assert eff.tolist() == [0.0, 0.0, 0.0]
    eff = incentives.incentive_effect(
        [IncentiveScheme(type="funding", target="participants", effect=0.2)],
        0,
        role,
        role != ROLE_NONE,
        np.ones(3, bool),
    )
    assert eff.tolist() == [0.2, 0.2, 0.0]


def test_coordination_and_platform_costs():
    cc = CostParams()
    role = np.array([ROLE_MENTOR, ROLE_MENTEE, ROLE_MENTOR])
    coord = costs.coordination_cost(
        role, np.array([True, True, False]), costs.coordination_rate("top_down", cc)
    )
    assert coord.tolist() == pytest.approx([5000 / 52, 0, 0])
    assert costs.coordination_rate("complete", cc) == 0.0
    online = costs.online_schools(
        4,
        np.array([0, 2]),
        np.array([1, 3]),
        np.array([KIND_MENTORING, KIND_PROXIMITY]),
        np.array([MODE_ONLINE, MODE_ONLINE]),
        np.ones(2, bool),
    )
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
