"""Rule 4: contact exposure, readiness, the registered rules, abandonment, initial adopters."""

import numpy as np
import pytest

from mensi_sim.codes import KIND_MENTORING, KIND_PEER, KIND_PROXIMITY, MODE_IN_PERSON
from mensi_sim.dynamics import adoption, contacts
from mensi_sim.population import most_capable
from mensi_sim.registry import ADOPTION_RULES
from mensi_sim.scenario.schema import AdoptionParams, ContactParams

from .support import ties


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


def _inputs(adopted, capacity, *, share=None, count=None, threshold=None, exposure=None):
    n = len(adopted)
    inputs = adoption.AdoptionInputs(
        adopted=np.asarray(adopted, bool),
        capacity=np.asarray(capacity, float),
        threshold=np.asarray(threshold if threshold is not None else [0.0] * n, float),
        exposure=np.asarray(exposure if exposure is not None else [0.0] * n, float),
    )
    if share is not None:
        inputs.share = np.asarray(share, float)  # cached_property: set directly
    if count is not None:
        inputs.count = np.asarray(count, float)
    return inputs


def test_threshold_rule_adopts_at_equality_and_needs_the_count():
    params = AdoptionParams(rule="threshold", threshold=0.5, min_adopting_neighbours=2)
    inputs = _inputs(
        np.zeros(3, bool),
        np.ones(3),
        share=[0.5, 0.5, 0.49],
        count=[2, 1, 5],
        threshold=np.full(3, 0.5),
    )
    adopts, _ = adoption.threshold_rule(inputs, params, np.random.default_rng(0))
    assert adopts.tolist() == [True, False, False]


def test_abandonment_frequency_matches_r_times_one_minus_c():
    n = 200_000
    params = AdoptionParams(abandonment=0.4, p=0.0, q=0.0)
    for rule in (adoption.contact_rule, adoption.bass_rule):
        inputs = _inputs(np.ones(n, bool), np.full(n, 0.25), share=np.zeros(n))
        _, abandons = rule(inputs, params, np.random.default_rng(1))
        expected = 0.4 * 0.75
        # binomial sd = sqrt(p(1-p)/n) ~ 0.001; 5 sd tolerance
        assert abandons.mean() == pytest.approx(
            expected, abs=5 * np.sqrt(expected * (1 - expected) / n)
        )


def test_every_rule_draws_two_numbers_per_school_whatever_the_state():
    params = AdoptionParams()
    n = 7
    for name in ("contact", "bass", "threshold"):
        rng = np.random.default_rng(4)
        rule = ADOPTION_RULES.get(name).step
        rule(
            _inputs(np.zeros(n, bool), np.full(n, 0.5), share=np.zeros(n), count=np.zeros(n)),
            params,
            rng,
        )
        ref = np.random.default_rng(4)
        ref.random(2 * n)
        assert rng.random() == ref.random(), name


def test_readiness_is_logistic_in_capacity():
    r = adoption.readiness(np.array([0.4, 0.6, 0.8]), midpoint=0.6, slope=10.0)
    assert r.tolist() == pytest.approx([1 / (1 + np.exp(2)), 0.5, 1 / (1 + np.exp(-2))])


def test_contact_probability_formula():
    params = AdoptionParams(p=0.01, exposure=0.1, readiness_midpoint=0.6, readiness_slope=10)
    prob = adoption.contact_probability(np.array([0.6, 0.6]), np.array([0.0, 2.5]), params)
    assert prob.tolist() == pytest.approx(
        [1 - np.exp(-0.5 * 0.01), 1 - np.exp(-0.5 * (0.01 + 0.1 * 2.5))]
    )


# ---- influence through contact: the hand-computed three-school case ---------------------
#
# School 0 has adopted (capacity 0.8) and mentors schools 1 and 2 (capacities 0.4 and 0.5,
# not adopted); the cluster meets every week (rate 1). Under the contact rule a school's
# exposure E is the strength of this week's meetings with adopters, so by hand:
#   E_1 = E_2 = 1.0 (the mentoring tie with school 0), E_0 = 0;
#   P_j = 1 - exp(-r(c_j) (p + exposure * E_j)).
# A peer tie 1-2 meets in the same cluster meeting, but neither school has adopted, so it
# adds nothing; a proximity tie 1-3 to a fourth non-adopting school adds nothing either.
# Under the share-of-neighbours (bass) rule the peer tie lowers m_1 from 1 to 1 / 1.5:
# the dilution artefact the contact rule removes.

CAPACITY = np.array([0.8, 0.4, 0.5, 0.3])
ADOPTED = np.array([True, False, False, False])


def _cluster(extra: str | None):
    src, dst, kind, event = [0, 0], [1, 2], [KIND_MENTORING, KIND_MENTORING], [0, 0]
    strength = [1.0, 1.0]
    if extra == "peer":
        src, dst, kind, event = src + [1], dst + [2], kind + [KIND_PEER], event + [0]
        strength = strength + [0.5]
    if extra == "proximity":
        src, dst, kind, event = src + [1], dst + [3], kind + [KIND_PROXIMITY], event + [-1]
        strength = strength + [0.1]
    return ties(src, dst, kind, strength=strength, event=event)


def _week_probabilities(extra: str | None, params: AdoptionParams) -> np.ndarray:
    table = _cluster(extra)
    contact = ContactParams(rate_in_person=1.0, rate_proximity=1.0)
    plan = contacts.plan_meetings(
        table,
        np.ones(table.n_ties, bool),
        contacts.cluster_rates(np.array([MODE_IN_PERSON]), contact),
        np.ones(1),
        np.array([0]),  # school 0 mentors cluster 0
        np.ones(4, bool),
        contacts.pairwise_rates(table, contact),
    )
    rng = np.random.default_rng(0)
    meetings = contacts.draw_meetings(plan, True, rng, rng)
    assert meetings.tie.tolist() == list(range(table.n_ties))  # rate 1: every tie meets
    if params.rule == "contact":
        exposure = adoption.contact_exposure(table, meetings.tie, ADOPTED)
        return adoption.contact_probability(CAPACITY, exposure, params)
    infl = adoption.influence_matrix(4, table.src, table.dst, table.strength)
    share = adoption.adopting_neighbour_share(infl, ADOPTED)
    return adoption.bass_probability(CAPACITY, share, params.p, params.q, params.theta)


def test_ties_between_non_adopters_never_lower_anyone_under_the_contact_rule():
    params = AdoptionParams()  # rule = "contact"
    r = adoption.readiness(CAPACITY, params.readiness_midpoint, params.readiness_slope)
    by_hand = 1 - np.exp(-r * (params.p + params.exposure * np.array([0.0, 1.0, 1.0, 0.0])))
    base = _week_probabilities(None, params)
    assert base == pytest.approx(by_hand, rel=1e-12)
    for extra in ("peer", "proximity"):
        assert _week_probabilities(extra, params) == pytest.approx(by_hand, rel=1e-12), extra


def test_the_share_rule_is_diluted_by_a_peer_tie_between_non_adopters():
    params = AdoptionParams(rule="bass", theta=1.0)
    base, with_peer = _week_probabilities(None, params), _week_probabilities("peer", params)
    # m_1: 1 -> 1 / 1.5 (the peer tie of strength 0.5 to a non-adopter joins the denominator)
    assert base[1] == pytest.approx(0.4 * (params.p + params.q * 1.0))
    assert with_peer[1] == pytest.approx(0.4 * (params.p + params.q / 1.5))
    assert with_peer[1] < base[1]


def test_adding_a_tie_between_non_adopters_never_lowers_any_probability_random_networks():
    params = AdoptionParams()
    rng = np.random.default_rng(11)
    for _ in range(300):
        n, m = 8, 10
        src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
        keep = src != dst
        table = ties(
            src[keep], dst[keep], np.full(keep.sum(), KIND_PEER), strength=rng.random(keep.sum())
        )
        adopted = rng.random(n) < 0.3
        capacity = rng.random(n)
        met = rng.random(table.n_ties) < 0.5
        before = adoption.contact_probability(
            capacity, adoption.contact_exposure(table, met, adopted), params
        )
        a, b = (
            rng.choice(np.flatnonzero(~adopted), 2, replace=False)
            if (~adopted).sum() >= 2
            else (0, 0)
        )
        if a == b:
            continue
        bigger = table.added(ties([a], [b], [KIND_PEER], strength=[rng.random()]))
        after = adoption.contact_probability(
            capacity, adoption.contact_exposure(bigger, np.r_[met, True], adopted), params
        )
        assert np.all(after >= before)


def test_initial_adopters_modes():
    rng = np.random.default_rng(0)
    capacity = np.array([0.1, 0.9, 0.5, 0.7])
    mentor = np.array([False, False, True, False])
    mk = lambda **kw: adoption.initial_adopters(4, AdoptionParams(**kw), mentor, capacity, rng)  # noqa: E731
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


def _most_capable_reference(capacity, count):
    """The rule before ``population.most_capable``: a full stable sort."""
    return np.sort(np.argsort(-capacity, kind="stable")[:count])


@pytest.mark.parametrize("seed", range(6))
def test_most_capable_matches_the_stable_sort(seed):
    rng = np.random.default_rng(seed)
    for _ in range(200):
        n = int(rng.integers(0, 40))
        kind = rng.integers(0, 4)
        if kind == 0:  # continuous
            capacity = rng.random(n)
        elif kind == 1:  # few distinct values: many ties at the cut
            capacity = rng.integers(0, 3, n) / 2.0
        elif kind == 2:  # all equal, with signed zeros
            capacity = np.where(rng.random(n) < 0.5, 0.0, -0.0)
        else:  # ties and NaN
            capacity = rng.integers(0, 4, n) / 3.0
            capacity[rng.random(n) < 0.3] = np.nan
        for count in {0, 1, n // 2, max(n - 1, 0), n, n + 3, int(rng.integers(0, n + 1))}:
            got = most_capable(capacity, count)
            assert np.array_equal(got, _most_capable_reference(capacity, count)), (n, count)
            assert got.dtype == np.int64


def test_initial_most_capable_is_the_old_choice_at_scale():
    rng = np.random.default_rng(11)
    capacity = np.round(rng.beta(2, 5, 100_000), 3)  # many equal capacities
    params = AdoptionParams(initial="most_capable", initial_share=0.2)
    adopted = adoption.initial_adopters(capacity.size, params, capacity > 2, capacity, rng)
    expected = np.zeros(capacity.size, bool)
    expected[np.argsort(-capacity, kind="stable")[:20_000]] = True
    assert np.array_equal(adopted, expected)
