"""A fair, causal model: the programme's effect comes from what the programme pays for.

The checks of issue 9, each on the real model (MentoringModel, simulate):

- Same world: with every programme meeting switched off (cluster meetings, community
  exchanges) and no learning or course, every structure's adoption path equals the
  ``none`` world's exactly, replicate by replicate, and so does the initial capacity.
- Capacity reaches adoption: a programme whose learning doubles the capacity gain
  shows a larger adoption gain (an exact monotone coupling and a paired t bound).
- Costs: the 120-school top-down pilot costs, per participating school and programme
  year, what real programmes cost (the range of docs/ASSUMPTIONS.md section 8).
- A programme with an end: after it, no coordination, incentive, platform or travel
  cost is booked, and the outcome at the horizon is reported beside the one at the end.
- Mechanisms through the path the ODD describes: meeting frequency, incentive amount,
  school size.
- Registries and streams (issue 10): a toy structure registered in one call runs end
  to end; enabling a course changes no contact draw.

Paired comparisons use the same seeds in both arms (common random numbers) and assert
``mean(d) > t_{R-1, 1-alpha} sd(d) / sqrt(R)``, alpha = 1e-4 (as tests/test_mechanisms.py).
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from scipy.stats import t as student_t

from mensi_sim import MentoringModel, Scenario, load_scenario, simulate
from mensi_sim.codes import (
    CASH_CATEGORIES,
    COST_CATEGORIES,
    KIND_MENTORING,
    ROLE_MENTEE,
    ROLE_MENTOR,
)
from mensi_sim.plausibility import DOCUMENTED_RANGE
from mensi_sim.registry import STRUCTURES, Structure
from mensi_sim.seeds import replicate_seed

REPO = Path(__file__).resolve().parents[1]
PILOT = load_scenario(REPO / "scenarios" / "mensi_pilot.toml")
POLICY = ("top_down", "bottom_up", "virtual", "hybrid")
ALPHA = 1e-4
SEED = 909


def assert_increase(a: np.ndarray, b: np.ndarray, what: str) -> float:
    """B > A clearly: the paired mean difference exceeds its one-sided (1 - ALPHA) t bound."""
    d = np.asarray(b, float) - np.asarray(a, float)
    bound = student_t.isf(ALPHA, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
    print(f"MECHANISM {what}: mean paired difference {d.mean():.4g}, bound {bound:.3g}")
    assert d.mean() > bound, (what, d.mean(), bound)
    return float(d.mean())


def placebo(structure: str) -> Scenario:
    """The pilot with ties that never meet: no cluster meeting, no peer or community
    exchange, no course. Learning stays on: the proximity ties, not the programme's, meet
    and teach as in every world, so a programme that leaked into them (its members'
    compulsion or a mentor's load lowering what they bring to their neighbours) would show."""
    data = PILOT.with_updates(
        {
            "network.structure": structure,
            "contacts.rate_in_person": 0.0,
            "contacts.rate_online": 0.0,
            "contacts.rate_community": 0.0,
            "contacts.rate_peer": 0.0,
        }
    ).model_dump()
    data["training"] = {"courses": []}
    return Scenario.model_validate(data)


# ---- same world ---------------------------------------------------------------------------

#: the outcomes a programme could move: every one must be the baseline's, week by week
PLACEBO_PATHS = ("adoption_share", "mean_capacity", "equity_gap", "capacity_gini")


def test_a_placebo_programme_has_exactly_zero_effect_in_every_replicate():
    reps = 12
    none = simulate(placebo("none"), replications=reps, seed=SEED)
    assert (none.summary["capacity_gain"] != 0).all()  # proximity ties do teach here
    for structure in POLICY:
        arm = simulate(placebo(structure), replications=reps, seed=SEED)
        for outcome in ("final_adoption_share", "capacity_gain", "final_mean_capacity"):
            d = arm.summary[outcome] - none.summary[outcome]
            assert (d == 0).all(), (structure, outcome)  # exactly, not within a tolerance
        for path in PLACEBO_PATHS:  # the whole path, week by week, not just its end
            assert arm.timeseries[path].equals(none.timeseries[path]), (structure, path)
        assert (arm.summary["members_final"] > 0).all()  # it was a programme, on paper


def test_a_placebo_programme_leaves_its_members_informal_engagement_as_it_was():
    """The path the placebo closes: compulsion (top-down's members start at 0.6 and tend
    to 0.5, volunteers 0.85 and 0.7) and a mentor's load (0.03 per mentee) lower what a
    member brings to the programme, not what it brings to its proximity ties, which stays
    what it is without the programme, bit for bit; the programme engagement does differ."""
    none = MentoringModel(placebo("none"), rng=replicate_seed(SEED, 0))
    top = MentoringModel(placebo("top_down"), rng=replicate_seed(SEED, 0))
    members = top.state.member
    for _ in range(60):
        none.step()
        top.step()
        np.testing.assert_array_equal(top._informal_engagement, none.state.engagement)
    assert (top.state.engagement[members] < none.state.engagement[members]).all()


def test_every_structure_starts_from_the_same_schools():
    for r in range(3):
        worlds = {
            s: MentoringModel(
                PILOT.with_updates({"network.structure": s}), rng=replicate_seed(1, r)
            )
            for s in ("none", *POLICY)
        }
        none = worlds.pop("none")
        for structure, model in worlds.items():
            for name in ("capacity", "adopted", "threshold"):
                assert np.array_equal(getattr(model.state, name), getattr(none.state, name)), (
                    structure,
                    name,
                )
            np.testing.assert_array_equal(model.population.motivation, none.population.motivation)
            # top-down mentors are chosen for their capacity: the most capable of their
            # region, with the capacity they have in every world
            if structure in ("top_down", "hybrid"):
                cap, region = model.state.capacity, model.population.region
                for m in np.flatnonzero(model.state.role == ROLE_MENTOR):
                    assert cap[m] == cap[region == region[m]].max()


# ---- capacity reaches adoption ------------------------------------------------------------


def test_learning_that_doubles_the_capacity_gain_gives_a_larger_adoption_gain():
    """Derivation. Arm B is the top-down pilot (lambda = 0.541); arm A the same programme
    whose meetings teach less (lambda = 0.25), same seeds: B's capacity gain is about
    twice A's. The meetings are the same (the contacts stream; no tie's activity depends
    on capacity) and so are the adoption numbers (the adoption stream). A school's update
    c + sum_e a_e (c_e - c), a_e proportional to lambda, is increasing in c, in its
    teachers' c_e and in lambda while sum_e a_e < 1 (here about 0.4); drift, courses and
    clipping are increasing in c too; so capacity in B is at least A's for every school
    and week. The adoption probability
    1 - exp(-r(c)(p + beta E)) rises with c and with E, and E rises with the set of
    adopters, so B's adopters include A's every week (no abandonment): the adoption gain
    is never smaller, and larger on average (the paired t bound)."""
    top = PILOT.with_updates({"network.structure": "top_down"})
    reps = 20
    none = simulate(top.with_updates({"network.structure": "none"}), replications=reps, seed=SEED)
    a = simulate(top.with_updates({"learning.rate": 0.25}), replications=reps, seed=SEED)
    b = simulate(top, replications=reps, seed=SEED)
    gain_a, gain_b = a.summary["capacity_gain"], b.summary["capacity_gain"]
    ratio = gain_b.mean() / gain_a.mean()
    print(f"MECHANISM capacity gain x{ratio:.2f} with lambda 0.25 -> 0.541")
    # the premise, B learns more, and at most in proportion to lambda: every gain and the
    # teacher's learning back are proportional to lambda for given gaps, while drift
    # (larger the more was learned), clipping at 1 and gaps closing faster only take away
    assert 1.0 < ratio <= top.learning.rate / 0.25
    pivot = lambda res: res.timeseries.pivot(  # noqa: E731
        index="step", columns="replicate", values="adoption_share"
    ).to_numpy()
    assert np.all(pivot(b) >= pivot(a))  # the coupling, week by week, replicate by replicate
    effect_a = a.summary["final_adoption_share"] - none.summary["final_adoption_share"]
    effect_b = b.summary["final_adoption_share"] - none.summary["final_adoption_share"]
    assert_increase(effect_a, effect_b, "capacity gain x2: adoption gain over none")


# ---- costs a ministry recognises ------------------------------------------------------------

# docs/ASSUMPTIONS.md section 8: per participating school and programme year
# the documented range per participating school and programme year (ASSUMPTIONS 8.5):
# cash EUR 200-2,500, staff time 20-150 hours (about 3 to 20 staff days), total 1,000-6,000
CASH_RANGE, STAFF_HOURS_RANGE, TOTAL_RANGE = (
    DOCUMENTED_RANGE[k][:2]
    for k in (
        "cash_per_participant_year",
        "staff_hours_per_participant_year",
        "cost_per_participant_year",
    )
)


def test_the_top_down_pilot_costs_what_real_programmes_cost():
    res = simulate(PILOT, replications=10, seed=SEED)
    s = res.summary
    cash = s["cash_per_participant_year"].mean()
    hours = s["staff_hours_per_participant_year"].mean()
    total = s["cost_per_participant_year"].mean()
    print(
        f"COSTS top-down pilot per school-year: cash EUR {cash:.0f}, {hours:.0f} staff hours, "
        f"total EUR {total:.0f}"
    )
    assert CASH_RANGE[0] <= cash <= CASH_RANGE[1]
    assert STAFF_HOURS_RANGE[0] <= hours <= STAFF_HOURS_RANGE[1]
    assert TOTAL_RANGE[0] <= total <= TOTAL_RANGE[1]
    # the whole programme year for 120 schools costs far less than MenSI's whole EU grant
    assert s["total_cash"].mean() < 999_944 / 4
    # cash and staff time are separate columns, and add up to the total
    np.testing.assert_allclose(s["total_cash"] + s["total_staff_time"], s["total_cost"])
    np.testing.assert_allclose(
        s["total_cash"], s[[f"cost_{c}" for c in CASH_CATEGORIES]].sum(axis=1)
    )


def test_staff_time_is_valued_at_the_country_hour_rate():
    sc = PILOT.with_updates({"costs.staff_hour_rate_by_country": {}, "costs.staff_hour_rate": 10.0})
    flat = MentoringModel(sc, rng=3)
    flat.run_for(20)
    rated = MentoringModel(PILOT, rng=3)
    rated.run_for(20)
    assert np.array_equal(flat.state.staff_hours, rated.state.staff_hours)  # the same hours
    staff = flat.state.cost[:, 1]
    assert staff == pytest.approx(10.0 * flat.state.staff_hours)
    codes = rated.population.country_codes
    for i in np.flatnonzero(rated.state.staff_hours > 0)[:20]:
        rate = PILOT.costs.hour_rate(codes[rated.population.country[i]])
        assert rated.state.cost[i, 1] == pytest.approx(rate * rated.state.staff_hours[i])


# ---- a programme with an end ---------------------------------------------------------------


def test_after_the_programme_nothing_paid_is_booked_and_the_horizon_is_reported():
    data = PILOT.model_dump()
    data["incentives"] = [{"type": "funding", "target": "participants"}]
    data["network"]["structure"] = "hybrid"  # coordination, platform and travel
    sc = Scenario.model_validate(data)
    res = simulate(sc, replications=4, seed=SEED)
    end = sc.programme.end_week
    for _, ts in res.timeseries.groupby("replicate"):
        after = ts[ts["step"] >= end]
        for category in ("coordination", "incentives", "platform", "travel", "training"):
            assert after[f"cost_{category}"].nunique() == 1, category  # nothing more booked
            assert ts[f"cost_{category}"].iloc[end] > 0 or category == "training", category
        # sustained clusters go on meeting unfunded: staff time only
        assert after["meetings"].sum() > 0
        assert after["cost_staff_time"].iloc[-1] > after["cost_staff_time"].iloc[0]
    s = res.summary
    assert (s["end_adoption_share"] <= s["final_adoption_share"]).all()  # no abandonment
    assert len(res.timeseries) == 4 * (sc.time.steps + 1)


def test_no_cluster_goes_on_when_sustain_prob_is_zero():
    sc = PILOT.with_updates({"programme.sustain_prob": 0.0})
    res = simulate(sc, replications=2, seed=SEED)
    after = res.timeseries[res.timeseries["step"] > sc.programme.end_week]
    assert (after["meetings"] == 0).all()
    assert after.groupby("replicate")["cost_total"].nunique().eq(1).all()


# ---- mechanisms through the ODD's path ------------------------------------------------------


def _mentee_engagement(model: MentoringModel) -> float:
    return float(model.state.engagement[model.state.role == ROLE_MENTEE].mean())


def _paired_models(a: Scenario, b: Scenario, steps: int, reps: int):
    for r in range(reps):
        ma = MentoringModel(a, rng=replicate_seed(SEED, r))
        mb = MentoringModel(b, rng=replicate_seed(SEED, r))
        ma.run_for(steps)
        mb.run_for(steps)
        yield ma, mb


def test_a_larger_incentive_payment_is_worth_more_engagement_learning_and_adoption():
    def funded(amount: float) -> Scenario:
        data = PILOT.model_dump()
        data["incentives"] = [{"type": "funding", "target": "participants", "amount": amount}]
        return Scenario.model_validate(data)

    small, large = funded(500.0), funded(6000.0)
    eng, gain, cost = [], [], []
    for ma, mb in _paired_models(small, large, steps=52, reps=15):
        eng.append((_mentee_engagement(ma), _mentee_engagement(mb)))
        gain.append((ma.state.capacity.mean(), mb.state.capacity.mean()))
        cost.append([m.state.cost[:, COST_CATEGORIES.index("incentives")].sum() for m in (ma, mb)])
    eng, gain, cost = map(np.array, (eng, gain, cost))
    assert np.all(eng[:, 1] > eng[:, 0])  # the dose raises the engagement target
    assert_increase(gain[:, 0], gain[:, 1], "funding EUR 500 -> 6,000: mean capacity, week 52")
    assert np.all(cost[:, 1] == pytest.approx(12 * cost[:, 0]))  # and it costs 12 times more
    a = simulate(small, replications=40, seed=SEED).summary["final_adoption_share"]
    b = simulate(large, replications=40, seed=SEED).summary["final_adoption_share"]
    assert_increase(a, b, "funding EUR 500 -> 6,000: adoption at the horizon")


def test_more_frequent_cluster_meetings_mean_more_learning_adoption_and_staff_time():
    a = PILOT.with_updates({"contacts.rate_in_person": 2 / 36})
    b = PILOT.with_updates({"contacts.rate_in_person": 8 / 36})
    ra, rb = simulate(a, replications=20, seed=SEED), simulate(b, replications=20, seed=SEED)
    for outcome in ("capacity_gain", "final_adoption_share", "total_staff_time", "meetings_total"):
        assert_increase(ra.summary[outcome], rb.summary[outcome], f"meetings x4: {outcome}")


def test_a_large_school_sends_more_delegates_and_is_reached_less_per_meeting():
    big = PILOT.with_updates({"population.teachers_median": 90.0, "population.teachers_sigma": 0.0})
    few = big.with_updates({"contacts.max_delegates": 2})
    many = big.with_updates({"contacts.max_delegates": 6})
    gains, hours = [], []
    for ma, mb in _paired_models(few, many, steps=52, reps=15):
        mentees = ma.state.role == ROLE_MENTEE
        gains.append([(m.state.capacity - m.population.capacity)[mentees].mean() for m in (ma, mb)])
        hours.append([m.state.staff_hours.sum() for m in (ma, mb)])
    gains, hours = np.array(gains), np.array(hours)
    assert np.all(hours[:, 1] > hours[:, 0])  # 6 delegates a meeting instead of 2
    assert_increase(gains[:, 0], gains[:, 1], "90-teacher schools, 2 -> 6 delegates: mentee gain")


def test_a_larger_school_is_reached_less_per_meeting_and_costs_more_staff_time():
    """School size end to end, at the default delegates (ODD 7.1, 7.2): a 25-teacher
    school sends 2 delegates (25 / teachers_per_delegate 15, rounded up), who stand for
    all of its staff (reach 1); a 90-teacher school sends the maximum of 4, who stand for
    4 * 15 / 90 = 0.67 of it. So the large schools' mentees gain less from the same
    meetings, and every meeting costs more staff hours."""
    small = PILOT.with_updates(
        {"population.teachers_median": 25.0, "population.teachers_sigma": 0.0}
    )
    large = small.with_updates({"population.teachers_median": 90.0})
    gains, hours = [], []
    for ma, mb in _paired_models(small, large, steps=52, reps=15):
        assert (ma._reach == 1.0).all() and (mb._reach < 1.0).all()
        mentees = ma.state.role == ROLE_MENTEE
        gains.append([(m.state.capacity - m.population.capacity)[mentees].mean() for m in (ma, mb)])
        hours.append([m.state.staff_hours.sum() for m in (ma, mb)])
    gains, hours = np.array(gains), np.array(hours)
    assert np.all(hours[:, 1] > hours[:, 0])  # more delegates at every meeting
    assert_increase(gains[:, 1], gains[:, 0], "25 instead of 90 teachers: mentee gain")


# ---- registries and random streams (issue 10) -------------------------------------------------


def pairs(population, net, contacts, community, rng) -> nx.Graph:
    """A toy structure: school 2i mentors school 2i + 1, online, in cluster i."""
    graph = nx.Graph()
    graph.add_nodes_from(range(population.n), role="none", cluster=-1)
    for i in range(population.n // 2):
        graph.nodes[2 * i].update(role="mentor", cluster=i)
        graph.nodes[2 * i + 1].update(role="mentee", cluster=i)
        graph.add_edge(
            2 * i, 2 * i + 1, kind="mentoring", mode="online", strength=contacts.strength_online
        )
    return graph


def test_a_structure_registered_in_one_call_runs_end_to_end():
    STRUCTURES.register(
        Structure(
            name="toy_pairs",
            family="policy",
            builder=pairs,
            programme=True,
            participation="voluntary",
            community=False,
            modes=("online",),
            coordination="coordination_virtual",
            description="school 2i mentors school 2i + 1",
        )
    )
    try:
        sc = PILOT.with_updates({"network.structure": "toy_pairs", "time.steps": 60})
        model = MentoringModel(sc, rng=1)
        mentoring = model.ties.kind == KIND_MENTORING
        assert mentoring.sum() == 60 and (model.ties.event[mentoring] >= 0).all()
        res = simulate(sc, replications=2, seed=1)
        assert (res.summary["cost_coordination"] > 0).all()  # its named coordination price
        assert (res.summary["meetings_total"] > 0).all()
    finally:
        STRUCTURES.unregister("toy_pairs")
    with pytest.raises(ValueError, match="toy_pairs"):
        PILOT.with_updates({"network.structure": "toy_pairs"})


def test_a_registry_entry_cannot_forget_a_field():
    with pytest.raises(ValueError, match="coordination"):
        STRUCTURES.register(
            Structure(
                name="forgetful",
                family="policy",
                builder=pairs,
                programme=True,
                participation="voluntary",
                community=False,
                modes=("online",),
                description="no coordination price said",
            )
        )
    assert "forgetful" not in STRUCTURES


def test_enabling_a_course_changes_no_contact_draw():
    data = PILOT.model_dump()
    data["training"] = {"courses": []}
    without = Scenario.model_validate(data)
    a, b = MentoringModel(without, rng=4), MentoringModel(PILOT, rng=4)
    meetings_a, meetings_b = [], []
    for _ in range(52):
        a.step()
        b.step()
        meetings_a.append(a._meetings)
        meetings_b.append(b._meetings)
    assert meetings_a == meetings_b
    states = [
        [g.bit_generator.state for g in model.country_streams["contacts"]] for model in (a, b)
    ]
    assert states[0] == states[1]
    # every country's contacts generator drew (its clusters met in term weeks)
    fresh = MentoringModel(without, rng=4).country_streams["contacts"]
    assert all(g.bit_generator.state != s for g, s in zip(fresh, states[0], strict=True))
    assert a.streams["training"].bit_generator.state != b.streams["training"].bit_generator.state
    assert not np.array_equal(a.state.capacity, b.state.capacity)  # the course did act
