"""One structure per country (``network.structure_by_country``).

- Each country's schools are organised by its own structure and only by it: roles,
  clusters and ties stay inside the country, top-down mentors are its regions' most
  capable schools, virtual clusters meet online.
- The same world: the schools are the ones of any other scenario with the seed.
- Naming every country with the structure it would have anyway changes nothing (top_down
  without a community: the builder works region by region in both cases).
- Each country's structure brings its participation and coordination price; staff time is
  valued at each country's hour rate.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mensi_sim import MentoringModel, load_scenario, simulate
from mensi_sim.codes import COST_CATEGORIES, KIND_PROXIMITY, MODE_ONLINE, ROLE_MENTOR, ROLE_NONE
from mensi_sim.errors import ScenarioError
from mensi_sim.scenario.loader import scenario_from_dict

REPO = Path(__file__).resolve().parents[1]
PILOT = load_scenario(REPO / "scenarios" / "mensi_pilot.toml").with_updates({"time.steps": 60})
MIXED = {"IT": "top_down", "HU": "virtual", "PT": "bottom_up", "HR": "none", "CZ": "none",
         "BE-VLG": "none"}  # fmt: skip


def mixed(**updates):
    return PILOT.with_updates(
        {"network.structure_by_country": MIXED, "network.virtual_mentors_per_country": 2,
         "network.virtual_mentees_per_mentor": 4, **updates}
    )  # fmt: skip


def test_each_country_is_organised_by_its_own_structure():
    model = MentoringModel(mixed(), rng=3)
    pop, st, ties = model.population, model.state, model.ties
    code = np.asarray(pop.country_codes)[pop.country]
    formal = ties.kind != KIND_PROXIMITY
    assert (code[ties.src[formal]] == code[ties.dst[formal]]).all()
    for none in ("HR", "CZ", "BE-VLG"):
        assert (st.role[code == none] == ROLE_NONE).all()
    it = code == "IT"
    for region in np.unique(pop.region[it]):
        schools = np.flatnonzero(pop.region == region)
        mentor = schools[st.role[schools] == ROLE_MENTOR]
        assert mentor.tolist() == [schools[np.argmax(pop.capacity[schools])]]
    hu_ties = formal & (code[ties.src] == "HU")
    assert hu_ties.any() and (ties.mode[hu_ties] == MODE_ONLINE).all()
    assert (st.role[code == "HU"] == ROLE_MENTOR).sum() == 2
    clusters = st.cluster[st.cluster >= 0]
    for c in np.unique(clusters):
        assert np.unique(code[st.cluster == c]).size == 1
    # the same schools as any scenario of the seed
    plain = MentoringModel(PILOT, rng=3)
    for name in ("capacity", "x", "teachers", "disadvantaged", "motivation"):
        np.testing.assert_array_equal(getattr(pop, name), getattr(plain.population, name))


def test_naming_every_country_with_the_same_structure_changes_nothing():
    sc = PILOT.with_updates({"network.structure": "top_down"})
    named = sc.with_updates(
        {"network.structure_by_country": dict.fromkeys(sc.population.countries, "top_down")}
    )
    a, b = simulate(sc, replications=2, seed=5), simulate(named, replications=2, seed=5)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    pd.testing.assert_frame_equal(a.group_summary, b.group_summary)


def test_each_country_pays_its_structures_prices():
    sc = mixed(**{"opening.enabled": False})
    res = simulate(sc, replications=1, seed=2)
    model = res.model()
    model.run_for(sc.time.steps)
    pop, st = model.population, model.state
    code = np.asarray(pop.country_codes)[pop.country]
    coordination = st.cost[:, COST_CATEGORIES.index("coordination")]
    weeks = sc.programme.end_week  # the programme runs weeks 0-51 within the 60
    for country, field in (("IT", "coordination_top_down"), ("HU", "coordination_virtual"),
                           ("PT", "coordination_bottom_up")):  # fmt: skip
        mentors = (code == country) & (st.role == ROLE_MENTOR)
        rate = getattr(sc.costs, field) / 52
        np.testing.assert_allclose(coordination[mentors], rate * weeks, rtol=1e-12)
    assert coordination[np.isin(code, ["HR", "CZ", "BE-VLG"])].sum() == 0
    # compulsory where the country's structure assigns schools, voluntary under bottom_up
    assigned = model._assigned
    assert assigned[(code == "IT") & (st.role != ROLE_NONE)].all()
    assert not assigned[code == "PT"].any()
    # staff time at each country's hour rate
    hours, time_cost = st.staff_hours, st.cost[:, COST_CATEGORIES.index("staff_time")]
    for country in ("IT", "HU", "PT"):
        inside = (code == country) & (hours > 0)
        np.testing.assert_allclose(
            time_cost[inside] / hours[inside], sc.costs.hour_rate(country), rtol=1e-12
        )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"network.structure_by_country": {"FR": "top_down"}}, "'FR' is not a country"),
        ({"network.structure_by_country": {"IT": "complete"}}, "is not a policy structure"),
        (
            {"network.structure": "complete", "network.structure_by_country": {"IT": "top_down"}},
            "needs a policy structure",
        ),
    ],
)
def test_bad_structures_by_country_are_one_line(changes, message):
    data = PILOT.model_dump()
    for path, value in changes.items():
        data["network"][path.split(".")[1]] = value
    with pytest.raises(ScenarioError, match=message):
        scenario_from_dict(data, "s.toml")


def test_coordination_rates_per_school_are_the_rows_of_their_country():
    from mensi_sim.dynamics import costs
    from mensi_sim.networks import country_structures

    sc = mixed()
    model = MentoringModel(sc, rng=3)
    rates = np.array(
        [
            costs.rate_pair(costs.coordination_rate(s, sc.costs))
            for s in country_structures(sc, model.population)
        ]
    )
    expected = rates[model.population.country]  # the rows by fancy indexing, as before
    got = model._coordination_rate
    assert got.dtype == expected.dtype and got.shape == expected.shape
    assert got.flags.c_contiguous and got.tobytes() == expected.tobytes()
    assert np.unique(rates, axis=0).shape[0] > 1  # the countries' prices differ


def test_a_country_keeps_its_world_when_another_country_changes_its_structure():
    # HU and PT change their structure (HU before IT in country order, so IT's cluster ids
    # move); IT keeps top_down. Each country's structure is built from its own generator
    # and its clusters meet and go on (the programme ends at week 52) on their own
    # country's numbers, so IT's schools meet, learn and adopt exactly alike in both arms.
    # Proximity ties are off: across a border they carry a real spill-over from the other
    # country's programme (and share the informal stream), which is not noise.
    one = mixed(**{"network.proximity": False, "programme.sustain_prob": 0.5})
    other = one.with_updates(
        {"network.structure_by_country": {**MIXED, "HU": "top_down", "PT": "virtual"}}
    )
    a, b = MentoringModel(one, rng=3), MentoringModel(other, rng=3)
    code = np.asarray(a.population.country_codes)[a.population.country]
    it = code == "IT"
    assert a._n_clusters != b._n_clusters  # the other countries' clusters did change
    np.testing.assert_array_equal(a.state.role[it], b.state.role[it])
    mentors = np.flatnonzero(it & (a.state.role == ROLE_MENTOR))
    held_a, held_b = [], []
    for _ in range(60):
        a.step()
        b.step()
        np.testing.assert_array_equal(a.state.capacity[it], b.state.capacity[it])
        np.testing.assert_array_equal(a.state.adopted[it], b.state.adopted[it])
        held_a.append(a._sustained[a.state.cluster[mentors]])
        held_b.append(b._sustained[b.state.cluster[mentors]])
    np.testing.assert_array_equal(held_a, held_b)
    assert not np.array_equal(a.state.capacity[it], a.population.capacity[it])  # they learnt
    assert 0 < held_a[-1].sum() < mentors.size  # some of IT's clusters go on, not all
    # and the other countries' schools did not keep their paths: the arms differ there
    hu = code == "HU"
    assert not np.array_equal(a.state.capacity[hu], b.state.capacity[hu])
