"""A staged roll-out (``programme.waves``): each wave of regions has its own programme window.

The checks: the window rules by hand on small tie tables; one wave of every region is the
model without waves, bit for bit; a region whose wave starts a year later has no
programme meeting or cost in year 1 and starts in year 2, while its proximity ties meet
throughout; a cluster spanning regions follows its mentor's region; the deterministic
costs of a 2-wave roll-out are the sum of what each wave's regions cost alone; and the
order of regions changes the outcome through proximity spill-over, and only through it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import t as student_t

from mensi_sim import MentoringModel, Scenario, ScenarioError
from mensi_sim.codes import (
    COST_CATEGORIES,
    KIND_COMMUNITY,
    KIND_MENTORING,
    KIND_PEER,
    KIND_PROXIMITY,
    ROLE_MENTEE,
    ROLE_MENTOR,
)
from mensi_sim.dynamics import programme
from mensi_sim.experiments.replicate import programme_years, run_once
from mensi_sim.seeds import replicate_seed

from .support import ties

SEED = 2024
FIRST, SECOND = ["BE-VLG", "HR", "CZ"], ["HU", "IT", "PT"]


def pilot(structure: str = "top_down", **updates) -> Scenario:
    return Scenario().with_updates({"network.structure": structure, **updates})


def staged(sc: Scenario, waves) -> Scenario:
    return sc.with_updates({"programme.waves": waves})


def run(sc: Scenario, weeks: int, replicate: int = 0) -> MentoringModel:
    model = MentoringModel(sc, rng=replicate_seed(SEED, replicate))
    model.run_for(weeks)
    return model


def in_countries(model: MentoringModel, codes: list[str]) -> np.ndarray:
    pop = model.population
    wanted = [pop.country_codes.index(c) for c in codes]
    return np.isin(pop.country, wanted)


# ---------------------------------------------------------------------- the window rules


def test_staged_window_by_hand():
    # schools 0, 1 in wave 0; 2, 3 in wave 1. Cluster 0: mentor 0 -> mentee 2 (a cluster
    # spanning regions: it follows its mentor, wave 0); cluster 1: mentor 3 -> mentee 1
    # (wave 1). A community tie 1-2 (no cluster), a proximity tie 0-3 (not programme).
    t = ties(
        [0, 3, 1, 0],
        [2, 1, 2, 3],
        [KIND_MENTORING, KIND_MENTORING, KIND_COMMUNITY, KIND_PROXIMITY],
        event=[0, 1, -1, -1],
        programme=[True, True, True, False],
    )
    cluster_wave = programme.cluster_waves(
        np.array([0, 3]), np.array([0, 1, 0, 1]), np.array([0, 0, 1, 1])
    )
    assert cluster_wave.tolist() == [0, 1]
    school_wave = programme.school_waves(np.array([0, 1, 0, 1]), cluster_wave, np.zeros(4, int))
    assert school_wave.tolist() == [0, 1, 0, 1]  # each school follows its cluster
    sustained = np.array([True, False])

    def window(phases):
        return programme.staged_window(
            t, phases, cluster_wave, school_wave, sustained, Scenario().programme
        )

    w = window(("running", "before"))  # year 1: wave 0 runs, wave 1 waits
    assert w.open.tolist() == [True, False, False, True]
    assert w.funded.tolist() == [True, False, False, True]
    assert w.scale.tolist() == [1.0, 0.0]
    assert w.school_running.tolist() == [True, False, True, False]
    w = window(("after", "running"))  # year 2: cluster 0 goes on (sustained), unfunded
    share = Scenario().programme.sustained_rate_share
    assert w.open.tolist() == [True, True, False, True]
    assert w.funded.tolist() == [False, True, False, True]
    assert w.scale.tolist() == [share, 1.0]
    w = window(("running", "running"))  # overlapping windows: the community tie opens
    assert w.open.tolist() == [True, True, True, True]


def test_years_of_each_wave_and_of_the_roll_out():
    prog = staged(pilot(), [FIRST, SECOND]).programme
    assert programme.wave_years(prog, 156).tolist() == [1.0, 1.0]
    assert programme.span_years(prog, 156) == 2.0
    # a horizon inside the second wave's window cuts that wave's years, not the first's
    assert programme.wave_years(prog, 78).tolist() == [1.0, 0.5]
    assert programme.span_years(prog, 78) == 1.5
    assert programme.wave_phases(60, prog) == ("after", "running")
    rows = programme.running_rows(prog, np.arange(110))
    assert rows.sum() == 104 and not rows[0] and rows[104] and not rows[105:].any()
    # without waves: the programme's one window, as before
    plain = Scenario().programme
    assert programme.span_years(plain, 156) == programme.years_run(plain, 156) == 1.0


# ------------------------------------------------------------- one wave is no roll-out


@pytest.mark.parametrize("structure", ["hybrid", "bottom_up", "virtual"])
def test_one_wave_of_every_region_is_the_model_without_waves(structure):
    # every rule of the staged path (windows per cluster and school, the sustain draw per
    # wave, courses, incentives and opening per wave) reduces to the scalar one: same
    # time series, summary and group outcomes, bit for bit
    sc = pilot(
        structure,
        **{
            "programme.end_week": 104,
            "opening.enabled": True,
            "opening.start_week": 20,
            "opening.join_rate": 0.02,
            "training.courses": [{"name": "course", "target": "mentors", "start_week": 4}],
            "incentives": [
                {"type": kind, "target": target, "duration_weeks": 104}
                for kind, target in (
                    ("funding", "mentors"),
                    ("recognition", "participants"),
                    ("adoption_reward", "all"),
                )
            ],
        },
    )
    a = run_once(sc, SEED, 1)
    b = run_once(staged(sc, [FIRST + SECOND]), SEED, 1)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    assert a.summary == b.summary
    pd.testing.assert_frame_equal(a.groups, b.groups)
    assert a.summary["cost_incentives"] > 0 and a.timeseries["courses_enrolled"].iloc[-1] > 0


# --------------------------------------------------------- a later wave waits its year


def test_a_later_wave_has_no_programme_in_year_one_and_starts_in_year_two():
    sc = pilot(
        "top_down",
        **{
            "training.courses": [
                {"name": "course", "target": "mentors", "cost_per_participant": 100.0}
            ],
            "incentives": [{"type": "funding", "target": "participants"}],
        },
    )
    sc = staged(sc, [FIRST, SECOND])
    model = MentoringModel(sc, rng=replicate_seed(SEED, 0))
    late = in_countries(model, SECOND)
    proximity = model.ties.kind == KIND_PROXIMITY
    late_proximity = proximity & late[model.ties.src]
    assert late_proximity.any()
    for _ in range(52):
        assert model._open[late_proximity].all()  # informal ties never wait
        model.step()
    st = model.state
    # year 1: not one meeting (a meeting books staff hours), cost or course in the late wave
    assert st.staff_hours[late].sum() == 0.0
    assert st.cost[late].sum() == 0.0
    assert st.staff_hours[~late].sum() > 0 and st.cost[~late].sum() > 0
    early_cost = st.cost[~late].copy()
    coordination = COST_CATEGORIES.index("coordination")
    model.run_for(52)
    st = model.state
    mentors = st.role == ROLE_MENTOR
    # year 2: the late wave meets and is paid for, each of its mentors a full year of
    # coordination (no dropout in the pilot's compulsory top-down programme)
    assert st.staff_hours[late].sum() > 0
    for category in ("coordination", "incentives", "training", "travel"):
        assert st.cost[late, COST_CATEGORIES.index(category)].sum() > 0, category
    rate = sc.costs.coordination_top_down
    assert st.cost[late & mentors, coordination] == pytest.approx(rate, rel=1e-9)
    # while the early wave's funding has ended (its sustained clusters meet unfunded)
    paid = [COST_CATEGORIES.index(c) for c in ("coordination", "incentives", "training")]
    assert np.array_equal(st.cost[~late][:, paid], early_cost[:, paid])


def test_a_cluster_spanning_regions_follows_its_mentor():
    # virtual matching is national: clusters span regions of a country; a wave per region
    # of every country's first two regions vs the last two
    sc = pilot("virtual", **{"network.community": False})
    first = [f"{c}-{k}" for c in sc.population.countries for k in (1, 2)]
    second = [f"{c}-{k}" for c in sc.population.countries for k in (3, 4)]
    model = MentoringModel(staged(sc, [first, second]), rng=replicate_seed(SEED, 0))
    ties_, st, pop = model.ties, model.state, model.population
    labels = np.array([pop.region_label(r) for r in range(pop.n_regions)])
    region_late = np.isin(labels[pop.region], second)
    mentoring = np.flatnonzero(ties_.kind == KIND_MENTORING)
    mentor, mentee = ties_.src[mentoring], ties_.dst[mentoring]
    across = region_late[mentor] != region_late[mentee]
    assert across.any()  # some clusters span the two waves' regions
    model.run_for(52)
    hours = model.state.staff_hours
    late_cluster = region_late[mentor]
    # every mentee of a late mentor waits, wherever it is; a mentee in a late region with
    # an early mentor meets in year 1
    assert (hours[mentee[late_cluster]] == 0).all()
    crossing_early = mentee[~late_cluster & region_late[mentee]]
    assert crossing_early.size and (hours[crossing_early] > 0).any()
    assert (st.role[mentee] == ROLE_MENTEE).all()
    # the peer ties of a late cluster wait with it
    peer = np.flatnonzero(ties_.kind == KIND_PEER)
    late_peer = peer[model._cluster_wave[ties_.event[peer]] == 1]
    assert late_peer.size and not model._open[late_peer].any()


# ---------------------------------------------------------- costs add up over the waves


def deterministic_cash(model: MentoringModel, codes: list[str]) -> float:
    """Coordination and platform cash of the schools of some countries: prices times
    weeks, no random draw in them once no school drops out."""
    cols = [COST_CATEGORIES.index(c) for c in ("coordination", "platform")]
    return float(model.state.cost[in_countries(model, codes)][:, cols].sum())


def test_a_two_wave_roll_out_costs_what_its_waves_cost_alone():
    # designed plan, online in the first three countries and in person in the others (so
    # that platform and coordination both count); engagement off: nobody drops out, and
    # coordination (mentors x rate x weeks) and platform (users x price x weeks) are
    # deterministic
    modes = ["online"] * 12 + ["in_person"] * 12
    sc = pilot("designed", **{"network.plan.regions": modes, "engagement.enabled": False})
    rollout = run(staged(sc, [FIRST, SECOND]), 156)
    alone_first = run(sc.with_updates({"network.plan.regions": modes[:12] + ["none"] * 12}), 156)
    alone_second = run(
        sc.with_updates(
            {
                "network.plan.regions": ["none"] * 12 + modes[12:],
                "programme.start_week": 52,
                "programme.end_week": 104,
            }
        ),
        156,
    )
    first, second = deterministic_cash(alone_first, FIRST), deterministic_cash(alone_second, SECOND)
    assert first > 0 and second > 0
    assert deterministic_cash(rollout, FIRST) == pytest.approx(first, rel=1e-12)
    assert deterministic_cash(rollout, SECOND) == pytest.approx(second, rel=1e-12)
    everyone = FIRST + SECOND
    assert deterministic_cash(rollout, everyone) == pytest.approx(first + second, rel=1e-12)
    # a programme year per region, two years of roll-out: the per-participant-year figures
    # divide by one year a school, the spend per year by two
    staged_sc = staged(sc, [FIRST, SECOND])
    assert programme_years(staged_sc, 156) == 2.0
    assert rollout.participant_years(156) == 1.0


# ------------------------------------------------------ the order acts through spill-over

REPS = 30
ALPHA = 1e-4  # two-sided, for each of the two assertions of the spill-over test
K = 12  # schools per region


def spill_over_scenario(tmp_path: Path, proximity: bool) -> Scenario:
    """Three regions of one country, K schools each, from a roster with fixed attributes:
    A advanced (every school at capacity 0.9 and adopting, no programme of its own); N and
    F alike (a mentor at 0.9 adopting, the others at 0.3, in the same layout), N's schools
    each 3 km from one of A's, F 1,000 km away. Schools of a region are 20 km apart, beyond
    the proximity radius (10 km): the only proximity ties are N's to A's. So without
    proximity ties N and F are exchangeable, and an order and its mirror image (N and F
    swapped) have the same distribution of outcomes."""
    rows = ["id,country,region,x,y,capacity,teachers,disadvantaged"]
    for name, x0, advanced in (("A", 0, True), ("N", 3, False), ("F", 1000, False)):
        for i in range(K):
            cap = 0.9 if advanced or i == 0 else 0.3
            rows.append(f"{name}{i},XX,{name},{x0},{20 * i},{cap},20,0.2")
    roster = tmp_path / "roster.csv"
    roster.write_text("\n".join(rows) + "\n")
    return Scenario.model_validate(
        {
            "population": {"roster": str(roster)},
            "network": {
                "structure": "designed",
                "mentors_per_region": 1,
                "mentees_per_mentor": K - 1,
                "plan": {"regions": ["none", "in_person", "in_person"]},
                "proximity": proximity,
            },
            # A's schools and the two mentors adopt at the start
            "adoption": {"initial": "ids", "initial_ids": [*range(K), K, 2 * K], "exposure": 2.0},
            # strong informal ties: the spill-over from A nearly saturates N by itself
            "contacts": {"rate_proximity": 0.5, "strength_proximity": 0.5},
            "time": {"steps": 53},  # the end of the first wave's year (wave 2 starts at 52)
        }
    )


def order_difference(sc: Scenario) -> tuple[float, float]:
    """Mean and standard error over REPS replicates of the paired difference in the
    adoption share at the horizon: far region first minus near region first."""
    near_first = staged(sc, [["A", "N"], ["F"]])
    far_first = staged(sc, [["A", "F"], ["N"]])
    d = []
    for r in range(REPS):
        shares = [run(s, s.time.steps, r).state.adopted.mean() for s in (far_first, near_first)]
        d.append(shares[0] - shares[1])
    d = np.array(d)
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(REPS))


def test_the_order_of_regions_matters_through_proximity_spill_over_only(tmp_path):
    # bound: the two-sided (1 - ALPHA) Student t quantile with REPS - 1 degrees of freedom
    # times the standard error of the paired mean (t_{29, 0.99995} = 4.5)
    t_bound = student_t.isf(ALPHA / 2, REPS - 1)
    mean, se = order_difference(spill_over_scenario(tmp_path, proximity=False))
    print(f"ROLLOUT no proximity: far-first minus near-first {mean:.4f} (se {se:.4f})")
    # no spill-over: the mirror-image orders are alike (a leak of one region's programme
    # into another, or a window that depended on the wave's place, would show here)
    assert abs(mean) <= t_bound * se
    mean, se = order_difference(spill_over_scenario(tmp_path, proximity=True))
    print(f"ROLLOUT proximity: far-first minus near-first {mean:.4f} (se {se:.4f})")
    # spill-over: the region next to the advanced one catches up through its informal ties
    # anyway, so starting far from it spreads the practice further by the end of year 1
    assert mean > t_bound * se and mean > 0.05  # more than one school of 36 (0.028)


# -------------------------------------------------------------- checks of the waves


def test_waves_name_every_region_once_with_one_line_errors():
    sc = pilot()
    for waves, words in (
        ([["HR"]], "region 'BE-VLG-1' is in no wave"),
        ([["HR", "HR-1"], FIRST[:1] + SECOND], "region 'HR-1' is already in wave 0"),
        ([["XX"], FIRST + SECOND], "'XX' is neither a region"),
        ([[], FIRST + SECOND], "waves.0: an empty wave"),
        ([FIRST, SECOND, ["HR"]], "'HR' is already in wave 0"),
    ):
        with pytest.raises(ValueError, match=words):
            staged(sc, waves)
    short = pilot(**{"time.steps": 52})
    with pytest.raises(ValueError, match=r"waves.1: starts in week 52, at or after the horizon"):
        staged(short, [FIRST, SECOND])
    with pytest.raises(ValueError, match="needs a policy structure"):
        staged(pilot("erdos_renyi"), [FIRST, SECOND])


def test_a_rosters_regions_are_checked_when_its_schools_are_read(tmp_path):
    sc = spill_over_scenario(tmp_path, proximity=False)
    model = MentoringModel(staged(sc, [["A", "XX/N"], ["F"]]), rng=1)  # qualified name
    assert model._region_wave.tolist() == [0] * K + [0] * K + [1] * K
    with pytest.raises(ScenarioError, match="'B' is neither a region"):
        MentoringModel(staged(sc, [["A", "B"], ["F"]]), rng=1)
    with pytest.raises(ScenarioError, match="region 'F' is in no wave"):
        MentoringModel(staged(sc, [["A", "N"]]), rng=1)


# ------------------------------------------------------- opening up on a wave's calendar


def test_a_later_wave_opens_up_at_its_own_start_week():
    # opening up from week 10 of each wave's calendar: wave 0's outside schools may join
    # from week 10, wave 1's from week 62 (10 + 52), each only while its window runs (the
    # old code let wave 1 join from week 52, the first week of its window). 480 schools, so
    # that top-down leaves schools outside; mentors from capacity 0.3 with 8 places
    sc = pilot(
        "top_down",
        **{
            "population.n_schools": 480,
            "opening.enabled": True,
            "opening.start_week": 10,
            "opening.join_rate": 0.2,
            "opening.mentor_min_capacity": 0.3,
            "opening.mentor_limit": 8,
            "programme.waves": [FIRST, SECOND],
        },
    )
    model = MentoringModel(sc, rng=replicate_seed(SEED, 0))
    later = in_countries(model, SECOND)
    joined_at = np.full(model.state.n, -1)
    was = model.state.member.copy()
    for _ in range(90):
        model.step()
        fresh = model.state.member & ~was & (joined_at < 0)
        joined_at[fresh] = model.week - 1  # the week whose step it joined in
        was = model.state.member.copy()
    first = joined_at[~later & (joined_at >= 0)].min(), joined_at[later & (joined_at >= 0)].min()
    assert first[0] == 10  # at a rate of 0.2, some outside school asks in its first week
    assert first[1] == 62
    assert (joined_at[~later & (joined_at >= 0)] < 52).all()  # wave 0's window ends


def test_opening_after_the_windows_end_is_refused_for_a_staged_roll_out():
    # week 60 of a wave's calendar is after every wave's window (weeks 0-51 of its own)
    with pytest.raises(ValueError, match="opening.start_week: 60: .* wave's window"):
        pilot(
            **{
                "opening.enabled": True,
                "opening.start_week": 60,
                "programme.waves": [FIRST, SECOND],
            }
        )
