"""Rule 2 on hand-computed cases of two and three schools."""

import numpy as np
import pytest

from mensi_sim.codes import KIND_MENTORING, KIND_PEER, KIND_PROXIMITY
from mensi_sim.dynamics import learning
from mensi_sim.scenario.schema import ContactParams, LearningParams

from .support import ties


def _change(
    capacity,
    meet,
    *,
    kind=None,
    src=(0, 0),
    dst=(1, 2),
    load=None,
    rate=0.5,
    gamma=1.0,
    reciprocity=0.0,
    drift=0.0,
    engagement=None,
    absorb=None,
    reach=None,
    strength=None,
    baseline=None,
    informal=None,
):
    n = len(capacity)
    table = ties(
        list(src),
        list(dst),
        kind if kind is not None else [KIND_MENTORING] * len(src),
        strength=strength,
    )
    params = LearningParams(rate=rate, gamma=gamma, reciprocity=reciprocity, drift=drift)
    return learning.learning_change(
        table,
        np.array(meet),
        np.array(capacity, float),
        np.array(baseline if baseline is not None else capacity, float),
        np.array(engagement if engagement is not None else [1.0] * n),
        np.array(absorb if absorb is not None else [1.0] * n),
        np.array(reach if reach is not None else [1.0] * n),
        np.array(load if load is not None else [2.0, 0.0, 0.0]),
        params,
        None if informal is None else np.array(informal, float),
    )


def test_mentee_gain_matches_formula_with_load_dilution():
    # mentor 0 (c = 0.8) meets mentees 1 (0.4) and 2 (0.6); load 2, gamma 1, lambda 0.5
    change = _change([0.8, 0.4, 0.6], [True, True])
    assert change[1] == pytest.approx(0.5 * 0.4 / 2)
    assert change[2] == pytest.approx(0.5 * 0.2 / 2)
    assert change[0] == 0.0  # no reciprocity


def test_gamma_zero_means_no_dilution():
    change = _change([0.8, 0.4, 0.6], [True, True], gamma=0.0)
    assert change[1] == pytest.approx(0.5 * 0.4)


def test_engagement_strength_absorption_and_reach_multiply():
    change = _change(
        [0.8, 0.4, 0.6],
        [True, False],
        engagement=[0.5, 0.8, 1.0],
        absorb=[1.0, 0.9, 1.0],
        reach=[1.0, 0.7, 1.0],
        strength=[0.6, 1.0],
        gamma=0.0,
    )
    assert change[1] == pytest.approx(0.5 * 0.6 * 0.5 * 0.8 * 0.9 * 0.7 * 0.4)


def test_a_proximity_tie_carries_the_informal_engagement_a_programme_tie_the_other():
    # school 0 (c = 0.8) teaches 1 over a mentoring tie and 2 over a proximity tie; its
    # programme engagement 0.5, its informal one 0.9 (the learners: 0.8 and 0.6 in the
    # programme, 0.7 and 1.0 informally); gamma 0, lambda 0.5
    change = _change(
        [0.8, 0.4, 0.6],
        [True, True],
        kind=[KIND_MENTORING, KIND_PROXIMITY],
        engagement=[0.5, 0.8, 0.6],
        informal=[0.9, 0.7, 1.0],
        gamma=0.0,
    )
    assert change[1] == pytest.approx(0.5 * 0.5 * 0.8 * 0.4)  # the programme's engagement
    assert change[2] == pytest.approx(0.5 * 0.9 * 1.0 * 0.2)  # the informal engagement
    without = _change(
        [0.8, 0.4, 0.6],
        [True, True],
        kind=[KIND_MENTORING, KIND_PROXIMITY],
        engagement=[0.5, 0.8, 0.6],
        gamma=0.0,
    )
    assert without[2] == pytest.approx(0.5 * 0.5 * 0.6 * 0.2)  # none given: one engagement


def test_less_capable_side_learns_even_if_it_is_the_mentor():
    # a mentee more capable than its mentor teaches it; no load dilution then
    change = _change([0.3, 0.7, 0.3], [True, False], gamma=1.0)
    assert change[0] == pytest.approx(0.5 * 0.4)
    assert change[1] == 0.0


def test_reciprocity_gives_teacher_a_share_of_the_gain():
    change = _change([0.8, 0.4, 0.8], [True, False], gamma=0.0, reciprocity=0.5)
    gain = 0.5 * 0.4
    assert change[1] == pytest.approx(gain)
    assert change[0] == pytest.approx(0.5 * gain * (1 - 0.8))


def test_drift_only_without_contact():
    change = _change([0.8, 0.5, 0.6], [True, False], gamma=0.0, drift=0.1, baseline=[0.8, 0.4, 0.4])
    assert change[2] == pytest.approx(0.1 * (0.4 - 0.6))  # no meeting: drifts
    assert change[1] == pytest.approx(0.5 * 0.3)  # met: no drift


def test_peer_ties_are_not_diluted_by_load_but_averaged_over_peers_met():
    # school 1 (0.4) meets peers 0 (0.8) and 2 (0.6) in one cluster meeting: with gamma 1
    # it learns the average of the two lessons, not their sum; the mentor's load is moot
    change = _change(
        [0.8, 0.4, 0.6],
        [True, True],
        kind=[KIND_PEER, KIND_PEER],
        src=(1, 1),
        dst=(0, 2),
        load=[4, 0, 0],
    )
    assert change[1] == pytest.approx(0.5 * (0.4 + 0.2) / 2)
    # school 2 met one peer (school 1, less capable): it teaches, learns nothing
    assert change[2] == 0.0
    one = _change([0.8, 0.4, 0.6], [True, False], kind=[KIND_PEER, KIND_PEER], load=[4, 0, 0])
    assert one[1] == pytest.approx(0.5 * 0.4)


def test_gains_never_overshoot_the_teacher():
    rng = np.random.default_rng(3)
    for _ in range(200):
        c = rng.random(3)
        change = _change(c, [True, True], rate=1.0, gamma=0.0, load=[1, 0, 0])
        # each learner's gain is at most its gap to the teacher
        for j in (1, 2):
            assert change[j] <= max(c[0] - c[j], 0) + 1e-12


def test_mentor_load_counts_open_mentoring_ties():
    table = ties(
        [0, 0, 0, 1], [1, 2, 1, 2], [KIND_MENTORING, KIND_MENTORING, KIND_PEER, KIND_MENTORING]
    )
    is_open = np.array([True, False, True, True])
    assert learning.mentor_load(table, is_open, 3).tolist() == [1.0, 1.0, 0.0]


def test_staff_reach_falls_only_for_schools_held_back_by_max_delegates():
    contacts = ContactParams(teachers_per_delegate=15.0, max_delegates=4)
    teachers = np.array([10.0, 25.0, 60.0, 90.0])
    delegates = np.array([1.0, 2.0, 4.0, 4.0])
    reach = learning.staff_reach(teachers, delegates, contacts)
    assert reach.tolist() == pytest.approx([1.0, 1.0, 1.0, 60 / 90])
