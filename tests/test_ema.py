"""mensi_sim under the real EMA Workbench 3 (issue 12): ``mensi_sim.ema`` makes an EMA model
of a scenario or an experiment; EMA's ``perform_experiments`` runs it and PRIM finds the
box of the uncertainty that drives the outcome.

The PRIM check rests on a mechanism with a known direction: the innovation coefficient
``adoption.p`` is the weekly probability that a school adopts on its own, so over 52
weeks a p near 0.01 makes about 1 - (1 - 0.01)^52 = 41% of the non-adopters adopt and a p
near 0.0002 about 1%, while the travel cost per km is bookkeeping that no rule of the
step reads (docs/ODD.md: costs are booked, never fed back). Runs with adoption above the
upper quartile must then sit at high p, and PRIM's box must bound p from below and leave
the travel cost free (seeded: the sample and the runs are the same on every machine).
"""

from __future__ import annotations

import ema_workbench as ema  # the ema extra, in the test extra: `make test` installs it
import numpy as np
import pytest
from ema_workbench import perform_experiments
from ema_workbench.analysis import prim

from mensi_sim.ema import POLICY, default_uncertainties, ema_model, ema_policies
from mensi_sim.errors import ScenarioError
from mensi_sim.experiments import load_experiment, run_once
from mensi_sim.scenario import load_scenario
from mensi_sim.scenario.schema import policy_structures

UNCERTAIN = {"adoption.p": [0.0002, 0.01], "costs.travel_per_km": [0.1, 0.6]}


def test_the_model_speaks_emas_vocabulary() -> None:
    model = ema_model("mensi_pilot", replications=3, constants={"time.steps": 20})
    assert isinstance(model, ema.ReplicatorModel) and model.name == "mensi_pilot"
    assert set(model.uncertainties.keys()) == set(default_uncertainties())
    assert isinstance(model.uncertainties["adoption.exposure"], ema.RealParameter)
    lever = model.levers["network.structure"]
    assert isinstance(lever, ema.CategoricalParameter)
    assert list(lever.categories.keys()) == list(policy_structures())  # the registry's
    assert model.constants["time.steps"].value == 20
    kinds = {o.name: o.kind for o in model.outcomes}
    assert kinds["final_adoption_share"] == ema.ScalarOutcome.MAXIMIZE
    assert kinds["total_cost"] == ema.ScalarOutcome.MINIMIZE
    one = ema_model("mensi_pilot", uncertainties={"network.mentees_per_mentor": [1, 4]})
    assert isinstance(one, ema.Model)
    assert isinstance(one.uncertainties["network.mentees_per_mentor"], ema.IntegerParameter)
    with pytest.raises(ScenarioError, match="unknown parameter 'adoption.q2'"):
        ema_model("mensi_pilot", uncertainties={"adoption.q2": [0, 1]})
    with pytest.raises(ScenarioError, match="adoption.p"):
        ema_model("mensi_pilot", uncertainties={"adoption.p": [0.0, 3.0]})  # p <= 1


def test_perform_experiments_and_a_prim_box() -> None:
    model = ema_model(
        "mensi_pilot",
        uncertainties=UNCERTAIN,
        levers={},
        constants={"time.steps": 52, "network.structure": "top_down"},
        outcomes=["final_adoption_share", "total_cost"],
        replications=2,
        seed=5,
    )
    experiments, outcomes = perform_experiments(
        model, scenarios=50, uncertainty_sampling_kwargs={"rng": 11}
    )
    assert len(experiments) == 50 and outcomes["final_adoption_share"].shape == (50,)

    # a row of EMA's table is mensi_sim's own runs with those values: replicates 0 and 1
    # of root seed 5 (common random numbers), averaged
    row = experiments.iloc[7]
    sc = load_scenario("mensi_pilot").with_updates(
        {
            "adoption.p": float(row["adoption.p"]),
            "costs.travel_per_km": float(row["costs.travel_per_km"]),
            "time.steps": 52,
            "network.structure": "top_down",
        }
    )
    own = np.mean([run_once(sc, 5, r).summary["final_adoption_share"] for r in range(2)])
    assert outcomes["final_adoption_share"][7] == own

    x = experiments[list(model.uncertainties.keys())]
    adoption = outcomes["final_adoption_share"]
    y = adoption > np.quantile(adoption, 0.75)
    box = prim.Prim(x, y, peel_alpha=0.1).find_box()
    limits = box.box_lim  # the chosen box: one row of low, one of high per parameter
    p_low, p_high = limits["adoption.p"]
    travel_low, travel_high = limits["costs.travel_per_km"]
    assert p_low > 0.006  # high adoption needs a high innovation coefficient
    assert p_high == pytest.approx(x["adoption.p"].max())
    spread = x["costs.travel_per_km"].max() - x["costs.travel_per_km"].min()
    assert travel_high - travel_low > 0.9 * spread  # what nothing reads stays free
    assert box.density > 0.75 and box.coverage > 0.5  # base rate is 0.25


def test_an_experiment_gives_its_levers_policies_and_design() -> None:
    exp = load_experiment("incentives").with_changes(steps=4, replications=2)
    model = ema_model(exp)
    assert model.name == "incentives"
    assert list(model.levers.keys()) == ["network.structure", POLICY]
    assert list(model.levers[POLICY].categories.keys())[:2] == ["none", "funding"]
    policies = ema_policies(exp)
    assert [p.name for p in policies] == [p.name for p in exp.points]  # 25, design order
    assert policies[6]["network.structure"] == "top_down" and policies[6][POLICY] == "funding"
    experiments, outcomes = perform_experiments(model, policies=policies[5:7], scenarios=2)
    assert list(experiments["named_policy"]) == ["none", "none", "funding", "funding"]
    funded = experiments["named_policy"] == "funding"
    assert (outcomes["cost_incentives"][funded] > 0).all()
    assert (outcomes["cost_incentives"][~funded] == 0).all()
    # an experiment's lever of two numbers is two options, not a range
    grid = exp.with_changes(factors={"grid": {"learning.rate": [0.1, 0.3]}}, baseline=None)
    rate = ema_model(grid).levers["learning.rate"]
    assert isinstance(rate, ema.CategoricalParameter)
    assert [c.value for c in rate.categories] == [0.1, 0.3]
    # the sensitivity experiment: its structures are the policies, the ranking parameters
    # (its [uncertainty.priors], uniform) the uncertainties
    sens = ema_model("sensitivity", steps=4, replications=1)
    assert set(sens.uncertainties.keys()) == set(default_uncertainties())
    assert "contacts.rate_online" in default_uncertainties()
    shipped = ["none", "top_down", "bottom_up", "virtual", "hybrid"]
    assert [p[POLICY] for p in ema_policies("sensitivity")] == shipped
