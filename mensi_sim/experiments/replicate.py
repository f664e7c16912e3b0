"""One replicate of a scenario: its model, its run, and the records a run leaves.

``replicate_model`` is the one entry point that builds the model of a recorded run:
``run_once`` (every run of ``simulate`` and of a sweep) and the network pictures of
a results directory build their model through it, so replicate r under root seed S
is the same schools, ties and draws wherever it is built.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from mensi_sim.dynamics import programme
from mensi_sim.metrics import run_summary
from mensi_sim.scenario.loader import scenario_hash
from mensi_sim.scenario.schema import Scenario
from mensi_sim.seeds import replicate_seed

if TYPE_CHECKING:
    from mensi_sim.model import MentoringModel


def replicate_model(scenario: Scenario, root_seed: int, replicate: int = 0) -> MentoringModel:
    """The model of replicate ``replicate`` under ``root_seed``, at week 0.

    Its random streams come from ``replicate_seed(root_seed, replicate)``. The model
    (and Mesa) is imported here, on first use: a sweep's own process never builds one.
    """
    from mensi_sim.model import MentoringModel

    return MentoringModel(scenario, rng=replicate_seed(root_seed, replicate))


@dataclass(frozen=True)
class RunOutput:
    """What one run returns: its time series, its summary row, its run record and its
    outcomes by country, region and disadvantage band (``mensi_sim.groups``)."""

    timeseries: pd.DataFrame
    summary: dict
    run: dict
    groups: pd.DataFrame | None = None


def programme_years(scenario: Scenario, steps: int) -> float:
    """Years the programme ran within the first ``steps`` weeks (under a staged roll-out:
    from the first wave's start to the last wave's end, ``programme.span_years``)."""
    return programme.span_years(scenario.programme, steps)


def run_once(
    scenario: Scenario, root_seed: int, replicate: int, steps: int | None = None
) -> RunOutput:
    """One run: a pure function of (scenario, root seed, replicate index).

    The run's random streams come from ``replicate_seed(root_seed, replicate)``.
    """
    steps = scenario.time.steps if steps is None else steps
    started = time.perf_counter()
    model = replicate_model(scenario, root_seed, replicate)
    model.run_for(steps)
    ident = {"scenario": scenario.name, "replicate": replicate}
    ts = model.timeseries(leading=ident)
    summary = {
        **ident,
        "seed": root_seed,
        **run_summary(ts, model.population.n, model.participant_years(steps)),
    }
    groups = model.group_outcomes(leading=ident)
    run = {
        **ident,
        "seed": root_seed,
        "scenario_hash": scenario_hash(scenario),
        "status": "ok",
        "error": "",
        "duration_s": time.perf_counter() - started,
        "n_schools": model.population.n,
        "steps": steps,
        "structure": scenario.network.structure,
    }
    return RunOutput(ts, summary, run, groups)


def failed_run(
    scenario: Scenario,
    root_seed: int,
    replicate: int,
    steps: int | None,
    error: BaseException,
    duration_s: float,
) -> dict:
    """The run record of a run that raised: its error line and traceback."""
    return {
        "scenario": scenario.name,
        "replicate": replicate,
        "seed": root_seed,
        "scenario_hash": scenario_hash(scenario),
        "status": "failed",
        "error": "".join(traceback.format_exception(error)).strip(),
        "duration_s": duration_s,
        "n_schools": scenario.population.n_schools,
        "steps": scenario.time.steps if steps is None else steps,
        "structure": scenario.network.structure,
    }
