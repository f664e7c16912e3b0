"""Capacity learning in one mentoring cluster against its closed-form trajectory.

Rule 2 alone (``reduction.pure_learning``): the mentor's capacity is fixed (reciprocity
0, drift 0), engagement is off (e = 1), absorption is 1 (disadvantaged_absorption 0),
every week is a term week (term_weeks 52) and each mentoring tie meets with probability
r per week. A meeting closes the share a = lambda * strength / load^gamma of the
mentee's gap g = c_mentor - c_mentee (load: the mentor's number of mentees), so

    g_t = g_0 (1 - a)^M_t,  M_t ~ Binomial(t, r),  E[g_t] = g_0 (1 - r a)^t.

With r = 1 the trajectory is deterministic and must match to rounding (1e-12). With
r < 1 the mean over R independent replicates of g_t / g_0 has the exact variance
``gap_moments`` / R; each week's mean is asserted within z = 4.42 standard errors
(two-sided false-alarm probability 1e-5 per week, under 1e-3 over the 52 weeks).
"""

import numpy as np
import pytest

from mensi_sim import MentoringModel
from mensi_sim.codes import ROLE_MENTEE, ROLE_MENTOR

from .reduction import gap_moments, pure_learning

WEEKS = 52
Z = 4.42  # standard normal quantile for two-sided 1e-5


def gap_paths(sc, seeds) -> tuple[np.ndarray, np.ndarray]:
    """Gaps (replicate x mentee x week) and the mentor's capacity (replicate x week)."""
    gaps, mentor_capacity = [], []
    for seed in seeds:
        model = MentoringModel(sc, rng=seed)
        mentor = np.flatnonzero(model.state.role == ROLE_MENTOR)
        mentees = np.flatnonzero(model.state.role == ROLE_MENTEE)
        assert mentor.size == 1
        g, c = [], []
        for week in range(WEEKS + 1):
            cap = model.state.capacity
            g.append(cap[mentor[0]] - cap[mentees])
            c.append(cap[mentor[0]])
            if week < WEEKS:
                model.step()
        gaps.append(np.array(g).T)
        mentor_capacity.append(c)
    return np.array(gaps), np.array(mentor_capacity)


@pytest.mark.parametrize(
    ("mentees", "lam", "strength", "gamma"),
    [(1, 0.05, 0.8, 0.0), (1, 0.19, 1.0, 0.5), (4, 0.2, 1.0, 1.0), (3, 0.3, 0.6, 2.0)],
)
def test_weekly_meetings_give_the_exact_geometric_trajectory(mentees, lam, strength, gamma):
    sc = pure_learning(mentees, WEEKS, rate=lam, meeting_rate=1.0, strength=strength, gamma=gamma)
    gaps, mentor_capacity = gap_paths(sc, seeds=[1, 2])
    a = lam * strength / mentees**gamma
    t = np.arange(WEEKS + 1)
    expected = gaps[:, :, :1] * (1 - a) ** t  # g_0 (1 - a)^t, per replicate and mentee
    assert np.all(gaps[:, :, 0] > 0.1)  # the mentor is the more capable side
    err = np.max(np.abs(gaps - expected))
    print(
        f"VALIDATION learning r=1 k={mentees} a={a:.4f}: g_52/g_0 expected "
        f"{(1 - a) ** WEEKS:.6f} max abs error {err:.1e}"
    )
    assert err <= 1e-12  # exact up to floating-point rounding
    assert np.all(mentor_capacity == mentor_capacity[:, :1])  # the mentor never changes


def test_random_meetings_give_the_expected_geometric_mean():
    r, lam, reps = 0.25, 0.2, 200
    sc = pure_learning(1, WEEKS, rate=lam, meeting_rate=r)
    gaps, mentor_capacity = gap_paths(sc, seeds=range(reps))
    ratio = gaps[:, 0, :] / gaps[:, 0, :1]  # g_t / g_0, replicate x week
    t = np.arange(WEEKS + 1)
    mean, var = gap_moments(1.0, r, lam, t)  # E[g_t / g_0] = (1 - r a)^t, a = lambda
    tolerance = Z * np.sqrt(var / reps) + 1e-12  # exact sd of the replicate mean
    measured = ratio.mean(axis=0)
    print(
        f"VALIDATION learning r={r} a={lam}: E[g_52/g_0] expected {mean[-1]:.4f} "
        f"measured {measured[-1]:.4f} tolerance {tolerance[-1]:.4f}"
    )
    assert np.all(np.abs(measured - mean) <= tolerance), np.c_[measured, mean, tolerance]
    assert np.all(mentor_capacity == mentor_capacity[:, :1])
