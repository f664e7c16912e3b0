"""A numeric regression baseline (as Starsim's regression/pars_v*.json): the shipped
scenarios at fixed seeds must give the outcomes in tests/regression/baseline.json.

A change of the model's numbers is sometimes the point of a commit; then regenerate the
baseline on purpose with ``scripts/update-regression`` and say why in the commit message.
Any other change fails here. Counts must match exactly; real numbers to a relative 1e-9,
which admits a different order of floating-point additions (about 1e-15 relative) and
nothing that changes a rule, a parameter or a random draw.
"""

from __future__ import annotations

import json

import pytest
from regression.cases import BASELINE, CASES, compute

EXACT = {"meetings_total", "members_final", "dropouts"}


@pytest.fixture(scope="module")
def now() -> dict:
    return compute()


def test_the_baseline_covers_every_case():
    stored = json.loads(BASELINE.read_text())
    assert set(stored) == set(CASES)


@pytest.mark.parametrize("case", list(CASES))
def test_shipped_scenarios_give_the_stored_outcomes(case, now):
    stored = json.loads(BASELINE.read_text())[case]
    for outcome, values in stored.items():
        if outcome in EXACT:
            assert now[case][outcome] == values, (case, outcome)
        else:
            assert now[case][outcome] == pytest.approx(values, rel=1e-9, abs=1e-12), (
                case,
                outcome,
                "intended? regenerate with scripts/update-regression",
            )


def test_the_tolerance_catches_a_small_change_of_a_parameter():
    # learning.rate 0.541 -> 0.542 must not pass for the stored pilot outcomes
    from regression.cases import REPO

    from mensi_sim import load_scenario, simulate

    stored = json.loads(BASELINE.read_text())["mensi_pilot"]
    sc = load_scenario(REPO / "scenarios" / "mensi_pilot.toml").with_updates(
        {"learning.rate": 0.554}
    )
    changed = simulate(sc, replications=2, seed=0).summary["capacity_gain"].tolist()
    assert changed != pytest.approx(stored["capacity_gain"], rel=1e-9, abs=1e-12)
