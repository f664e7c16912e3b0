"""Rule 4: adoption pressure, Bass and threshold rules, abandonment, initial adopters."""

import numpy as np
import pytest

from mensi_sim.dynamics import adoption
from mensi_sim.scenario.schema import AdoptionParams


def _triangle_plus_isolate():
    # schools 0-1-2 a triangle with strengths 1, 0.5, 0.25; school 3 isolated
    src = np.array([0, 1, 0])
    dst = np.array([1, 2, 2])
    w = np.array([1.0, 0.5, 0.25])
    return adoption.influence_matrix(4, src, dst, w)


def test_neighbour_share_is_strength_weighted():
    infl = _triangle_plus_isolate()
    adopted = np.array([True, False, False, False])
    share = adoption.adopting_neighbour_share(infl, adopted)
    assert share[1] == pytest.approx(1.0 / 1.5)  # neighbours 0 (1.0, adopted) and 2 (0.5)
    assert share[2] == pytest.approx(0.25 / 0.75)
    assert share[0] == 0.0
    assert share[3] == 0.0  # no ties: no pressure, no NaN


def test_parallel_ties_add_up():
    infl = adoption.influence_matrix(2, np.array([0, 0]), np.array([1, 1]), np.array([0.5, 0.1]))
    assert infl[0, 1] == pytest.approx(0.6)
    assert adoption.adopting_neighbour_count(infl, np.array([False, True]))[0] == 1


def test_bass_probability_formula_and_cap():
    p = adoption.bass_probability(np.array([0.5, 1.0]), np.array([0.5, 1.0]), 0.1, 2.0, 1.0)
    assert p[0] == pytest.approx(0.5 * (0.1 + 2.0 * 0.5))
    assert p[1] == 1.0
    # theta = 0 makes capacity irrelevant, even at capacity 0
    assert adoption.bass_probability(np.array([0.0]), np.array([0.0]), 0.1, 0, 0.0)[0] == 0.1


def test_threshold_rule_adopts_at_equality_and_needs_the_count():
    params = AdoptionParams(rule="threshold", threshold=0.5, min_adopting_neighbours=2)
    adopted = np.zeros(3, bool)
    share = np.array([0.5, 0.5, 0.49])
    count = np.array([2.0, 1.0, 5.0])
    adopts, _ = adoption.adoption_step(
        adopted, np.ones(3), share, count, np.full(3, 0.5), params, np.random.default_rng(0)
    )
    assert adopts.tolist() == [True, False, False]


def test_abandonment_frequency_matches_r_times_one_minus_c():
    n = 200_000
    params = AdoptionParams(abandonment=0.4, p=0.0, q=0.0)
    _, abandons = adoption.adoption_step(
        np.ones(n, bool),
        np.full(n, 0.25),
        np.zeros(n),
        None,
        np.zeros(n),
        params,
        np.random.default_rng(1),
    )
    expected = 0.4 * 0.75
    # binomial sd = sqrt(p(1-p)/n) ~ 0.001; 5 sd tolerance
    assert abandons.mean() == pytest.approx(
        expected, abs=5 * np.sqrt(expected * (1 - expected) / n)
    )


def test_initial_adopters_modes():
    rng = np.random.default_rng(0)
    latent = np.array([0.1, 0.9, 0.5, 0.7])
    mentor = np.array([False, False, True, False])
    mk = lambda **kw: adoption.initial_adopters(4, AdoptionParams(**kw), mentor, latent, rng)  # noqa: E731
    assert mk(initial="none").sum() == 0
    assert mk(initial="most_capable", initial_share=0.5).tolist() == [False, True, False, True]
    assert mk(initial="mentors").tolist() == mentor.tolist()
    assert mk(initial="ids", initial_ids=[0, 3]).tolist() == [True, False, False, True]
    assert mk(initial="count", initial_count=3).sum() == 3
    assert mk(initial="share", initial_share=0.25).sum() == 1


def test_thresholds_drawn_within_unit_interval():
    params = AdoptionParams(threshold=0.9, threshold_distribution="normal", threshold_spread=0.5)
    phi = adoption.draw_thresholds(1000, params, np.random.default_rng(2))
    assert phi.min() >= 0 and phi.max() <= 1 and phi.std() > 0.1
