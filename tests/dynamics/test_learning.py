"""Rule 2 on hand-computed cases of two and three schools."""

import numpy as np
import pytest

from mensi_sim.codes import KIND_MENTORING, KIND_PEER
from mensi_sim.dynamics import learning


def _change(
    capacity,
    meet,
    *,
    kind=None,
    load=None,
    rate=0.5,
    gamma=1.0,
    reciprocity=0.0,
    drift=0.0,
    engagement=None,
    absorb=None,
    strength=None,
    baseline=None,
):
    n = len(capacity)
    src = np.array([0, 0])
    dst = np.array([1, 2])
    return learning.learning_change(
        np.array(capacity, float),
        np.array(baseline if baseline is not None else capacity, float),
        np.array(engagement if engagement is not None else [1.0] * n),
        np.array(absorb if absorb is not None else [1.0] * n),
        np.array(load if load is not None else [2.0, 0.0, 0.0]),
        src,
        dst,
        np.array(kind if kind is not None else [KIND_MENTORING, KIND_MENTORING]),
        np.array(strength if strength is not None else [1.0, 1.0]),
        np.array(meet),
        rate=rate,
        gamma=gamma,
        reciprocity=reciprocity,
        drift=drift,
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


def test_engagement_strength_and_absorption_multiply():
    change = _change(
        [0.8, 0.4, 0.6],
        [True, False],
        engagement=[0.5, 0.8, 1.0],
        absorb=[1.0, 0.9, 1.0],
        strength=[0.6, 1.0],
        gamma=0.0,
    )
    assert change[1] == pytest.approx(0.5 * 0.6 * 0.5 * 0.8 * 0.9 * 0.4)


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


def test_peer_ties_are_not_diluted_by_load():
    change = _change([0.8, 0.4, 0.6], [True, False], kind=[KIND_PEER, KIND_PEER], load=[4, 0, 0])
    assert change[1] == pytest.approx(0.5 * 0.4)


def test_gains_never_overshoot_the_teacher():
    rng = np.random.default_rng(3)
    for _ in range(200):
        c = rng.random(3)
        change = _change(c, [True, True], rate=1.0, gamma=0.0, load=[1, 0, 0])
        # each learner's gain is at most its gap to the teacher
        for j in (1, 2):
            assert change[j] <= max(c[0] - c[j], 0) + 1e-12


def test_mentor_load_counts_active_mentoring_ties():
    src = np.array([0, 0, 0, 1])
    kind = np.array([KIND_MENTORING, KIND_MENTORING, KIND_PEER, KIND_MENTORING])
    active = np.array([True, False, True, True])
    assert learning.mentor_load(src, kind, active, 3).tolist() == [1.0, 1.0, 0.0]
