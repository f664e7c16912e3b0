"""Calibration of the learning rate lambda against its stated target.

Target (docs/ODD.md): under top_down defaults a mentee closes about a quarter of its
initial capacity gap to its mentor in one school year (52 weeks).
"""

from __future__ import annotations

import numpy as np

from mensi_sim.codes import KIND_MENTORING
from mensi_sim.model import MentoringModel
from mensi_sim.scenario.schema import WEEKS_PER_YEAR, Scenario
from mensi_sim.seeds import replicate_seed

GAP_CLOSURE_TARGET = 0.25


def mentee_gap_closure(scenario: Scenario, replications: int = 20, seed: int = 0) -> np.ndarray:
    """Per replicate: the mean share of its initial gap to its mentor that a mentee closes
    in one school year, ``(c_j(52) - c_j(0)) / (c_i(0) - c_j(0))`` over mentees with a gap
    above 0.05 (smaller gaps make the ratio noisy)."""
    closures = []
    for r in range(replications):
        model = MentoringModel(scenario, rng=replicate_seed(seed, r))
        mentoring = model.tie_kind == KIND_MENTORING
        mentor, mentee = model.tie_src[mentoring], model.tie_dst[mentoring]
        start = model.state.capacity.copy()
        model.run_for(WEEKS_PER_YEAR)
        gap = start[mentor] - start[mentee]
        keep = gap > 0.05
        closures.append(np.mean((model.state.capacity[mentee] - start[mentee])[keep] / gap[keep]))
    return np.array(closures)


def calibrate_learning_rate(
    scenario: Scenario,
    target: float = GAP_CLOSURE_TARGET,
    replications: int = 20,
    seed: int = 0,
    tolerance: float = 0.005,
) -> float:
    """The learning rate at which ``mentee_gap_closure`` has mean ``target`` (bisection).

    The same seeds are used at every trial rate (common random numbers), so the
    closure is monotone in the rate and bisection is well defined.
    """
    low, high = 0.0, 1.0
    while high - low > tolerance:
        mid = (low + high) / 2
        trial = scenario.with_updates({"learning.rate": mid})
        if mentee_gap_closure(trial, replications, seed).mean() < target:
            low = mid
        else:
            high = mid
    return round((low + high) / 2, 3)
