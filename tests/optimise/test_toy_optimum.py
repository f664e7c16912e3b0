"""A toy problem with a known optimum: which schools of a small network should mentor.

Ten (or eight) schools in one region; the lever is one yes/no per school (the mentor set),
at most two mentors. The objective function is the simulator on common random numbers: for
a fixed root seed and number of replicates it is a deterministic function of the mentor set,
so the optimum can be found by enumerating every allowed set (56 or 37 of them) on the same
replicates. The optimiser has to find it while trying a fraction of the 2^n sets.

Seed record (measured, so that nobody mistakes one seed for a guarantee): with population
16 and 12 generations, the single-objective search found the enumerated best set at
search seeds 0, 1, 2 and 4 and missed it at seed 3 (world seed 12); the two-objective
search found the whole enumerated front (11 sets) at seeds 0-2 and all but one set at
seeds 3 and 4 (world seed 7, before the per-country streams of ae174bb).

The world: the top of this landscape is nearly flat, so the single-objective test uses the
world (root seed) whose best set is clearest among seeds 1-12 under the current random
streams: seed 12, best 2.6 % above the second (seeds 1-11: 0.2-2.4 %). At seed 7, where the
best was 0.6 % above the second, the search found it at search seed 2 only of 0-4.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mensi_sim.analysis.optimise import optimise
from mensi_sim.analysis.optimise_evaluate import SEARCH, EvaluationStore, Evaluator
from mensi_sim.analysis.optimise_front import front_of
from mensi_sim.analysis.optimise_levers import candidate_scenario
from mensi_sim.analysis.optimise_spec import design_from_dict
from mensi_sim.experiments.execution import make_executor

from .support import toy_base

REPLICATES = 4
SEED = 7  # the two-objective world
BEST_SEED = 12  # the single-objective world (module docstring)


def toy_design(n: int, objectives: dict[str, str], root_seed: int = SEED):
    spec = {
        "name": "toy",
        "root_seed": root_seed,
        "levers": {"m": {"kind": "mentors", "candidates": list(range(n))}},
        "objectives": objectives,
        "constraints": {"max_mentors": 2},
        "search": {
            "population": 16,
            "generations": 12,
            "replications": REPLICATES,
            "max_replications": REPLICATES,
            "seed": 0,
        },
        "holdout": {"replications": 2, "max_designs": 1, "compare": ["top_down"]},
    }
    return design_from_dict(spec, toy_base(n))


def enumerated_front(design, n: int, objectives: dict[str, str]) -> set[str]:
    """Every mentor set of at most two schools on the search's replicates; its front."""
    scenarios = {}
    for k in (0, 1, 2):
        for chosen in itertools.combinations(range(n), k):
            sc = candidate_scenario(design, {f"m.{i}": i in chosen for i in range(n)})
            scenarios[sc.name] = sc
    evaluator = Evaluator(EvaluationStore(None), make_executor("serial"))
    summary = evaluator.evaluate(SEARCH, design.spec.root_seed, scenarios, range(REPLICATES))
    means = summary.groupby("scenario")[list(objectives)].mean()
    sign = np.array([-1.0 if s == "max" else 1.0 for s in objectives.values()])
    front = front_of(means.to_numpy() * sign, np.zeros((len(means), 0)))
    return {means.index[i] for i in front}


@pytest.mark.slow
def test_the_optimiser_finds_the_best_mentor_set_found_by_enumeration():
    objectives = {"capacity_gain": "max"}
    design = toy_design(10, objectives, BEST_SEED)
    best = enumerated_front(design, 10, objectives)
    assert len(best) == 1  # one best set of 56
    result = optimise(design, executor="serial")
    found = set(result.candidates.loc[result.candidates["front"], "candidate"])
    assert found == best
    tried = len(result.candidates)
    assert tried < 2**10 / 4  # it tried under a quarter of the sets
    winner = result.candidates.set_index("candidate").loc[next(iter(best))]
    assert winner["mentors"] == 2 and bool(winner["feasible"])


@pytest.mark.slow
def test_the_optimiser_finds_the_whole_enumerated_front_of_two_objectives():
    objectives = {"capacity_gain": "max", "total_cash": "min"}
    design = toy_design(8, objectives)
    front = enumerated_front(design, 8, objectives)
    assert len(front) > 5  # a real trade-off: several sets of one and two mentors
    result = optimise(design, executor="serial")
    found = set(result.candidates.loc[result.candidates["front"], "candidate"])
    assert found == front
