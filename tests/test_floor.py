"""The benchmark's floor kernel (benchmarks/floor.py) computes exactly what MentoringModel does.

The floor ratio of benchmarks/results.md (time per step of the model over that of a lean
numpy kernel of the same rules) only means something if the kernel computes the same
thing: here both run from the same world and random streams, and every recorded metric
of every week and the final state of every school must be equal, bit for bit.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from support import REPO

from mensi_sim import MentoringModel, load_scenario

if str(REPO) not in sys.path:  # plain `pytest` (python -m pytest puts the root on the path)
    sys.path.insert(0, str(REPO))

from benchmarks.floor import FloorKernel  # noqa: E402
from benchmarks.measure import size_scenario  # noqa: E402

PILOT = load_scenario(REPO / "scenarios" / "mensi_pilot.toml")

CASES = {
    # 156 weeks: the course, the programme's end, clusters that go on at half rate
    "pilot, three years": (PILOT, 156),
    # schools losing interest: dropouts close ties and the plan is rebuilt mid-run
    "pilot with dropouts": (
        PILOT.with_updates({"engagement.target_compulsory": 0.15, "time.steps": 60}),
        60,
    ),
    "top_down, 3,000 schools, proximity": (size_scenario(3000, "top_down", 60), 60),
    "virtual, 3,000 schools, community": (size_scenario(3000, "virtual", 60), 60),
}
STATE = ("capacity", "baseline", "adopted", "engagement", "active", "weeks_below", "staff_hours")


@pytest.mark.parametrize("case", list(CASES))
def test_floor_gives_the_model_s_results_bit_for_bit(case):
    scenario, weeks = CASES[case]
    model = MentoringModel(scenario, rng=11)
    floor = FloorKernel(model)
    model.run_for(weeks)
    floor.run_for(weeks)
    np.testing.assert_array_equal(floor.timeseries(), np.vstack(model._records))
    for name in STATE:
        np.testing.assert_array_equal(getattr(floor, name), getattr(model.state, name), name)
    np.testing.assert_array_equal(floor.cost.T, model.state.cost)
    assert floor.dropouts == model._dropouts
    if "dropouts" in case:
        assert model._dropouts > 0  # the case exercises what it says


def test_floor_matches_only_when_it_can_tell_the_runs_apart():
    # the comparison has power: a floor started from another seed's model differs
    a = MentoringModel(PILOT, rng=1)
    b = MentoringModel(PILOT, rng=2)
    floor = FloorKernel(b)
    a.run_for(20)
    floor.run_for(20)
    assert not np.array_equal(floor.timeseries(), np.vstack(a._records))


@pytest.mark.parametrize(
    ("updates", "refused"),
    [
        ({"opening.enabled": True, "opening.start_week": 10}, "opening up"),
        ({"adoption.rule": "bass"}, "contact rule"),
        (
            {"incentives": [{"type": "funding", "target": "mentors", "amount": 1000.0}]},
            "incentive",
        ),
    ],
)
def test_floor_refuses_the_rules_it_does_not_implement(updates, refused):
    with pytest.raises(ValueError, match=refused):
        FloorKernel(MentoringModel(PILOT.with_updates(updates), rng=0))


def test_either_sort_of_the_gini_gives_the_same_runs(monkeypatch):
    # metrics.SIMD_SORT picks np.sort (vectorised CPUs) or the 16-bit buckets; the model and
    # the floor (metrics.sort_into both) follow it, and both paths must give the same runs
    # bit for bit, so that the results do not depend on the machine (3,000 schools: above
    # the buckets' minimum)
    from mensi_sim import metrics

    scenario, weeks = size_scenario(3000, "top_down", 30), 30
    runs = {}
    for simd in (True, False):
        monkeypatch.setattr(metrics, "SIMD_SORT", simd)
        model = MentoringModel(scenario, rng=11)
        floor = FloorKernel(model)
        model.run_for(weeks)
        floor.run_for(weeks)
        np.testing.assert_array_equal(floor.timeseries(), np.vstack(model._records))
        runs[simd] = np.vstack(model._records)
    np.testing.assert_array_equal(runs[True], runs[False])
