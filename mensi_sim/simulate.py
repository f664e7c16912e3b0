"""`simulate`: replicate runs of one scenario, as tidy DataFrames."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from mensi_sim.metrics import SUMMARY_OUTCOMES, run_summary
from mensi_sim.model import MentoringModel
from mensi_sim.scenario.loader import scenario_hash
from mensi_sim.scenario.schema import WEEKS_PER_YEAR, Scenario
from mensi_sim.seeds import replicate_seed
from mensi_sim.stats import describe_outcomes


@dataclass(frozen=True)
class RunOutput:
    """What one run returns: its time series, its summary row and its run record."""

    timeseries: pd.DataFrame
    summary: dict
    run: dict


def programme_years(scenario: Scenario, steps: int) -> float:
    """Years the programme ran within the first ``steps`` weeks."""
    prog = scenario.programme
    return max(0, min(prog.end_week, steps) - prog.start_week) / WEEKS_PER_YEAR


def run_once(
    scenario: Scenario, root_seed: int, replicate: int, steps: int | None = None
) -> RunOutput:
    """One run: a pure function of (scenario, root seed, replicate index).

    The run's random streams come from ``replicate_seed(root_seed, replicate)``.
    """
    steps = scenario.time.steps if steps is None else steps
    started = time.perf_counter()
    model = MentoringModel(scenario, rng=replicate_seed(root_seed, replicate))
    model.run_for(steps)
    ts = model.timeseries()
    ident = {"scenario": scenario.name, "replicate": replicate}
    ts.insert(0, "replicate", replicate)
    ts.insert(0, "scenario", scenario.name)
    summary = {
        **ident,
        "seed": root_seed,
        **run_summary(ts, model.population.n, programme_years(scenario, steps)),
    }
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
    return RunOutput(ts, summary, run)


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


@dataclass(frozen=True)
class SimulationResult:
    """Results of replicate runs of a scenario.

    Attributes:
        scenario: The scenario simulated.
        seed: The root seed; replicate r used ``replicate_seed(seed, r)``.
        timeseries: One row per (scenario, replicate, step), a column per metric.
        summary: One row per (scenario, replicate), a column per outcome.
        runs: One row per run: seed, scenario hash, status, error, duration.
    """

    scenario: Scenario
    seed: int
    timeseries: pd.DataFrame
    summary: pd.DataFrame
    runs: pd.DataFrame

    def headline(self, level: float = 0.95) -> pd.DataFrame:
        """Mean and confidence interval of the headline outcomes over replicates."""
        return describe_outcomes(self.summary, SUMMARY_OUTCOMES, level=level)

    def plot(self):  # noqa: ANN201 - matplotlib Figure, imported lazily
        """Adoption and cost over time (a matplotlib Figure)."""
        from mensi_sim.plotting import plot_adoption_and_cost

        return plot_adoption_and_cost(self.timeseries)


def simulate(
    scenario: Scenario,
    replications: int = 10,
    seed: int = 0,
    *,
    steps: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SimulationResult:
    """Run ``replications`` replicates of a scenario and collect tidy results.

    Args:
        scenario: A validated Scenario (see ``load_scenario``).
        replications: Number of replicates (>= 1).
        seed: Root seed; the same seed gives bit-identical results.
        steps: Weeks to simulate (default: ``scenario.time.steps``).
        progress: Called as ``progress(done, total)`` after each replicate.
    """
    if replications < 1:
        raise ValueError(f"replications: {replications} < 1")
    outputs = []
    for r in range(replications):
        outputs.append(run_once(scenario, seed, r, steps))
        if progress is not None:
            progress(r + 1, replications)
    return SimulationResult(
        scenario=scenario,
        seed=seed,
        timeseries=pd.concat([o.timeseries for o in outputs], ignore_index=True),
        summary=pd.DataFrame([o.summary for o in outputs]),
        runs=pd.DataFrame([o.run for o in outputs]),
    )
