"""Mechanism checks: each policy lever moves the outcome the way the model's rules imply.

Every comparison runs two scenarios that differ in one lever with common random numbers:
replicate r of both uses ``replicate_seed(SEED, r)``, so both have the same schools,
network and random draws (mensi_sim.seeds). The paired differences d_r = B_r - A_r are
then tested one-sided: ``mean(d) > t_{R-1, 1-alpha} * sd(d) / sqrt(R)`` with alpha = 1e-4
(``assert_increase``), i.e. the lever's effect is clearly significant, not a fluke of
the seed. Where the rules make the difference exact (a monotone coupling, or a quantity
that does not depend on the lever at all) the test says so and checks it exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import t as student_t

from mensi_sim import MentoringModel, Scenario, load_scenario, simulate
from mensi_sim.codes import (
    COST_CATEGORIES,
    KIND_MENTORING,
    KIND_PROXIMITY,
    ROLE_MENTEE,
    ROLE_MENTOR,
)
from mensi_sim.seeds import replicate_seed

REPS = 20
SEED = 2024
ALPHA = 1e-4  # one-sided false-alarm probability of each "clearly significant" assertion
PILOT = load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "top_down.toml")

Measure = Callable[[MentoringModel], float]


def paired(
    a: Scenario, b: Scenario, measure: Measure, steps: int, reps: int = REPS
) -> tuple[np.ndarray, np.ndarray]:
    """measure() of A and of B after ``steps`` weeks, replicate by replicate (same seeds)."""
    out_a, out_b = [], []
    for r in range(reps):
        for sc, out in ((a, out_a), (b, out_b)):
            model = MentoringModel(sc, rng=replicate_seed(SEED, r))
            model.run_for(steps)
            out.append(measure(model))
    return np.array(out_a), np.array(out_b)


def assert_increase(a: np.ndarray, b: np.ndarray, what: str) -> float:
    """B > A clearly: the paired mean difference exceeds its one-sided (1 - ALPHA) t bound."""
    d = b - a
    bound = student_t.isf(ALPHA, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
    print(f"MECHANISM {what}: mean paired difference {d.mean():.4g}, bound {bound:.3g}")
    assert d.mean() > 0 and d.mean() > bound, (what, d.mean(), bound)
    return float(d.mean())


def variant(base: Scenario, **updates) -> Scenario:
    return base.with_updates({k.replace("__", "."): v for k, v in updates.items()})


# --- incentives act through engagement -----------------------------------------------


def mentee_engagement(model: MentoringModel) -> float:
    return float(model.state.engagement[model.state.role == ROLE_MENTEE].mean())


def mentee_capacity_gain(model: MentoringModel) -> float:
    # the baseline is the initial capacity unless a course is completed; the pilot's
    # course is for mentors only, so for mentees this is the gain since week 0
    mentees = model.state.role == ROLE_MENTEE
    return float((model.state.capacity - model.state.baseline)[mentees].mean())


def with_incentive(effect: float) -> Scenario:
    # the default amount is the half-effect amount: the target rises by max_effect / 2
    scheme = {"type": "funding", "target": "mentees", "max_effect": 2 * effect}
    data = PILOT.model_dump()
    data["incentives"] = [scheme]
    return Scenario.model_validate(data)


def test_more_incentive_effect_raises_the_engagement_of_targeted_schools():
    a, b = with_incentive(0.0), with_incentive(0.2)
    ea, eb = paired(a, b, mentee_engagement, steps=26)
    # engagement relaxes deterministically toward target + effect: higher in every replicate
    assert np.all(eb > ea)
    gain = assert_increase(ea, eb, "incentive effect 0 -> 0.2: mentee engagement, week 26")
    # the relaxation e + r (target - e) is linear and nothing clips (targets 0.5 and 0.7):
    # the difference follows d' = (1 - r) d + r 0.2 from 0, so after 26 weeks it is
    # 0.2 (1 - (1 - r)^26) at every mentee, 0.187 at r = 0.1
    rate = PILOT.engagement.relax_rate
    assert gain == pytest.approx(0.2 * (1 - (1 - rate) ** 26), rel=1e-9)
    # the schools not targeted (mentors) are untouched
    mentors = lambda m: float(m.state.engagement[m.state.role == ROLE_MENTOR].mean())  # noqa: E731
    ma, mb = paired(a, b, mentors, steps=26, reps=3)
    assert np.array_equal(ma, mb)


def test_incentives_raise_learning_only_through_engagement():
    a, b = with_incentive(0.0), with_incentive(0.2)
    ga, gb = paired(a, b, mentee_capacity_gain, steps=52)
    assert_increase(ga, gb, "incentive effect 0 -> 0.2: mentee capacity gain, week 52")
    # with engagement switched off the same incentive changes nothing but the money paid
    off = {"engagement__enabled": False}
    ga, gb = paired(variant(a, **off), variant(b, **off), mentee_capacity_gain, steps=52, reps=3)
    assert np.array_equal(ga, gb)


# --- mentor load dilutes learning when gamma = 1 -------------------------------------


def gap_closed(model: MentoringModel, initial_capacity: np.ndarray) -> float:
    """Mean share of its initial gap to its mentor each mentee has closed."""
    st = model.state
    mentoring = model.tie_kind == KIND_MENTORING
    mentor, mentee = model.tie_src[mentoring], model.tie_dst[mentoring]
    g0 = initial_capacity[mentor] - initial_capacity[mentee]
    g = st.capacity[mentor] - st.capacity[mentee]
    assert np.all(g0 > 0.1)
    return float(np.mean(1 - g / g0))


def load_scenario_for(k: int, gamma: float) -> Scenario:
    # one country, 10 regions of 20 schools: one mentor per region with k mentees;
    # nothing but mentoring acts on capacity (no peers, proximity, engagement, drift);
    # one advanced school per region (advanced_share 0.05) and capacity sd 0.03 keep every
    # mentor (mean 0.75) above its mentees (mean 0.40), so a mentor never learns from a
    # mentee and its capacity stays fixed; equal schools (18 teachers: the median 18.5,
    # rounded) have staff reach 1
    return Scenario.model_validate(
        {
            "population": {
                "n_schools": 200,
                "countries": ["X"],
                "regions_per_country": 10,
                "capacity_sd": 0.03,
                "advanced_share": 0.05,
                "teachers_sigma": 0.0,
            },
            "network": {
                "structure": "top_down",
                "mentees_per_mentor": k,
                "peer_ties": False,
                "proximity": False,
            },
            "learning": {"gamma": gamma, "reciprocity": 0.0, "drift": 0.0},
            "engagement": {"enabled": False},
        }
    )


def closed_share(sc: Scenario, steps: int, reps: int = REPS) -> np.ndarray:
    out = []
    for r in range(reps):
        model = MentoringModel(sc, rng=replicate_seed(SEED, r))
        c0 = model.state.capacity.copy()
        model.run_for(steps)
        out.append(gap_closed(model, c0))
    return np.array(out)


def test_higher_mentor_load_means_less_learning_per_mentee_when_time_is_split():
    low, high = (
        closed_share(load_scenario_for(2, 1.0), 52),
        closed_share(load_scenario_for(6, 1.0), 52),
    )
    assert_increase(high, low, "gamma = 1, load 6 -> 2: share of gap closed per mentee")
    # control: with gamma = 0 a mentee's expected share of gap closed, 1 - E[(1 - a)^M],
    # does not depend on the load, so the difference is within its two-sided t bound
    low, high = (
        closed_share(load_scenario_for(2, 0.0), 52),
        closed_share(load_scenario_for(6, 0.0), 52),
    )
    d = low - high
    bound = student_t.isf(ALPHA / 2, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
    assert abs(d.mean()) <= bound, (d.mean(), bound)


# --- distance ------------------------------------------------------------------------


def costs(sc: Scenario, reps: int = 5) -> np.ndarray:
    """Final cost by category, replicate x category (COST_CATEGORIES order)."""
    res = simulate(sc, replications=reps, seed=SEED).summary
    return res[[f"cost_{c}" for c in COST_CATEGORIES]].to_numpy()


@pytest.mark.parametrize("structure", ["top_down", "virtual"])
def test_distance_raises_in_person_cost_not_online_cost(structure):
    # proximity ties would change with the region size (fixed radius): off
    base = variant(PILOT, network__structure=structure, network__proximity=False)
    near = costs(variant(base, population__region_size_km=15.0))
    far = costs(variant(base, population__region_size_km=60.0))
    travel, staff = COST_CATEGORIES.index("travel"), COST_CATEGORIES.index("staff_time")
    rest = [i for i in range(len(COST_CATEGORIES)) if i not in (travel, staff)]
    # coordinates scale exactly by 4 (a power of two), the network and every draw are the
    # same, so the comparison is exact, not statistical
    assert np.array_equal(near[:, rest], far[:, rest])  # platform, coordination, ...: equal
    if structure == "top_down":  # in person: travel = 2 * distance * EUR/km per meeting
        assert np.all(near[:, travel] > 0)
        np.testing.assert_allclose(far[:, travel], 4 * near[:, travel], rtol=1e-12)
        assert np.all(far[:, staff] > near[:, staff])  # travel time is staff time
    else:  # online: no travel and no travel time at any distance
        assert np.all(near[:, travel] == 0) and np.all(far[:, travel] == 0)
        assert np.array_equal(near[:, staff], far[:, staff])


# --- adoption ------------------------------------------------------------------------


def final_share(model: MentoringModel) -> float:
    return float(model.state.adopted.mean())


def test_higher_imitation_q_means_faster_adoption_under_the_share_rule():
    a = variant(PILOT, adoption__rule="bass", adoption__q=0.38 / 52)
    b = variant(PILOT, adoption__rule="bass", adoption__q=3 * 0.38 / 52)
    fa, fb = paired(a, b, final_share, steps=52)
    # monotone coupling: same uniform draws, a higher probability for every school, so B's
    # adopters include A's every week (no abandonment): never fewer adopters
    assert np.all(fb >= fa)
    assert_increase(fa, fb, "bass rule, q x 3: adoption share at week 52")


def test_more_exposure_per_meeting_means_faster_adoption_under_the_contact_rule():
    a = variant(PILOT, adoption__exposure=0.05)
    b = variant(PILOT, adoption__exposure=0.2)
    fa, fb = paired(a, b, final_share, steps=52)
    # the same coupling: the same meetings (contacts stream) and adoption draws, a higher
    # probability for every exposed school
    assert np.all(fb >= fa)
    assert_increase(fa, fb, "contact rule, exposure 0.05 -> 0.2: adoption share at week 52")


def capacity_scenario(rule: dict, mean_capacity: float) -> Scenario:
    # no programme, proximity ties only (which meet under the contact rule); random
    # initial adopters so the same schools start adopted whatever their capacity
    return Scenario.model_validate(
        {
            "time": {"steps": 104},
            "population": {
                "n_schools": 400,
                "advanced_share": 0.0,
                "capacity_mean_other": mean_capacity,
            },
            "network": {"structure": "none"},
            "contacts": {"rate_proximity": 0.5},
            "adoption": {
                "p": 0.01,
                "q": 0.3,
                "exposure": 0.5,
                "initial": "share",
                "initial_share": 0.05,
                **rule,
            },
        }
    )


@pytest.mark.parametrize(
    ("rule", "matters"),
    [
        ({"rule": "bass", "theta": 1.0}, True),
        ({"rule": "bass", "theta": 0.0}, False),  # g(c) = c^0 = 1
        ({"rule": "contact"}, True),
        ({"rule": "contact", "readiness_slope": 0.0}, False),  # r(c) = 1/2 for every c
    ],
)
def test_capacity_matters_for_adoption_exactly_when_the_rule_says(rule, matters):
    a, b = capacity_scenario(rule, 0.3), capacity_scenario(rule, 0.6)
    fa, fb = paired(a, b, final_share, steps=104)
    if matters:
        assert_increase(fa, fb, f"{rule}, mean capacity 0.3 -> 0.6: adoption share")
    else:  # the adoption path cannot depend on capacity at all
        assert np.array_equal(fa, fb)


# --- dropouts and the baseline -------------------------------------------------------


def test_dropouts_stop_meetings_and_their_costs():
    # engagement collapses: target 0, half-way each week, out after 2 weeks below 0.25
    quit_fast = variant(
        PILOT,
        engagement__target_compulsory=0.0,
        engagement__relax_rate=0.5,
        engagement__dropout_weeks=2,
        network__proximity=False,
    )
    res = simulate(quit_fast, replications=5, seed=SEED)
    for _, ts in res.timeseries.groupby("replicate"):
        gone = ts.index[ts["active_participants"] == 0]
        assert gone.size, "everyone should have dropped out"
        after = ts.loc[gone[0] :]
        assert ts["dropouts"].iloc[-1] == ts["members"].iloc[-1] == 120
        assert (after["meetings"].iloc[1:] == 0).all()  # no tie of a dropout meets
        for category in ("travel", "staff_time", "coordination", "platform"):
            assert after[f"cost_{category}"].nunique() == 1, category  # booked no more
    # and paired against the default engagement: fewer meetings in every replicate
    meetings = {}
    for name, sc in (("default", variant(PILOT, network__proximity=False)), ("quit", quit_fast)):
        meetings[name] = (
            simulate(sc, replications=5, seed=SEED).summary["meetings_total"].to_numpy()
        )
    assert np.all(meetings["quit"] < meetings["default"])


def test_no_structure_means_no_mentoring_costs():
    # the baseline with a course for mentors and funding for participants: nobody is
    # either, so nothing is paid; proximity ties are informal and cost nothing
    data = variant(PILOT, network__structure="none").model_dump()
    data["incentives"] = [
        {"type": "funding", "target": "participants"},
        {"type": "recognition", "target": "mentors"},
    ]
    res = simulate(Scenario.model_validate(data), replications=3, seed=SEED)
    ts = res.timeseries
    assert (ts["members"] == 0).all()
    assert (ts["cost_total"] == 0).all()
    assert (res.summary["total_cost"] == 0).all()
    # informal proximity ties meet (they are not counted as programme meetings), for free.
    # That they meet: capacity starts at its baseline, so drift alone never moves it and
    # no course runs here; any capacity gain was learned in a proximity meeting
    model = MentoringModel(Scenario.model_validate(data), rng=0)
    assert (model.ties.kind == KIND_PROXIMITY).sum() > 0
    assert (res.summary["capacity_gain"] > 0).all()
    assert (ts["meetings"] == 0).all()
