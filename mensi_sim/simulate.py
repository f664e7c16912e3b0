"""The two ways to make Results: ``simulate`` (replicates of one scenario, in this
process) and ``sweep`` (an experiment, on any executor, resumable).

Both return a ``mensi_sim.results.Results``; ``SimulationResult`` is its old name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from mensi_sim.errors import ResultsError
from mensi_sim.experiments.limits import runs_problem
from mensi_sim.experiments.replicate import RunOutput, failed_run, run_once
from mensi_sim.experiments.runner import Progress, SweepOptions, run_experiment
from mensi_sim.experiments.spec import Experiment, load_experiment
from mensi_sim.networks.size import check_network_size
from mensi_sim.results.progress import reporting
from mensi_sim.results.results import Results
from mensi_sim.scenario.schema import Scenario
from mensi_sim.seeds import MAX_SEED

SimulationResult = Results  # the name simulate()'s result had before Results

__all__ = [
    "RunOutput",
    "SimulationResult",
    "SweepOptions",
    "failed_run",
    "run_once",
    "simulate",
    "sweep",
]


def simulate(
    scenario: Scenario,
    replications: int = 10,
    seed: int = 0,
    *,
    steps: int | None = None,
    progress: bool | Callable[[int, int], None] | None = None,
    command_line: str | Sequence[str] | None = None,
) -> Results:
    """Run ``replications`` replicates of a scenario and collect tidy results.

    Args:
        scenario: A validated Scenario (see ``load_scenario``).
        replications: Number of replicates (>= 1).
        seed: Root seed; replicate r uses ``replicate_seed(seed, r)``, so the same seed
            gives bit-identical results.
        steps: Weeks to simulate (default: ``scenario.time.steps``).
        progress: ``True``: a progress bar (in a terminal or in Jupyter); a callable: called
            as ``progress(done, total)`` after each replicate.
        command_line: Recorded in the manifest (default: sys.argv).

    Returns:
        Results with ``timeseries``, ``summary`` and ``runs``; ``.save(folder)`` writes
        them with their manifest.
    """
    if replications < 1:
        raise ValueError(f"replications: {replications} < 1")
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed: {seed} outside 0 <= seed <= 2^63 - 1")
    check_network_size(scenario)
    problem = runs_problem([scenario], replications)
    if problem is not None:
        raise ResultsError(f"replications: {problem}")
    outputs = []
    with reporting(progress, scenario.name, "replicates", replications) as report:
        for r in range(replications):
            outputs.append(run_once(scenario, seed, r, steps))
            if report is not None:
                report(r + 1, replications)
    groups = [o.groups for o in outputs if o.groups is not None]
    return Results(
        timeseries=pd.concat([o.timeseries for o in outputs], ignore_index=True),
        summary=pd.DataFrame([o.summary for o in outputs]),
        runs=pd.DataFrame([o.run for o in outputs]),
        group_summary=pd.concat(groups, ignore_index=True) if groups else None,
        scenario=scenario,
        seed=seed,
        command_line=command_line,
    )


def sweep(
    experiment: Experiment | str | Path,
    options: SweepOptions | None = None,
    *,
    progress: bool | Progress | None = None,
    command_line: str | Sequence[str] | None = None,
    steps: int | None = None,
    **changes: Any,
) -> Results:
    """Run an experiment: every scenario x replicate, resumable; its Results.

    Args:
        experiment: An Experiment or the path of an experiment file.
        options: How to run (``SweepOptions``; default: the experiment file's settings).
        progress: ``True``: a progress bar (in a terminal or in Jupyter); a callable: called
            as ``progress(done, total, failed)`` after each batch of runs.
        command_line: Recorded in the manifest (default: sys.argv).
        steps: Weeks to simulate, overriding the experiment's (as ``sweep --steps``).
        **changes: Fields of ``SweepOptions`` to set, e.g. ``executor="serial"``,
            ``out="results/structures"``, ``replications=20``.

    Returns:
        Results (in ``out`` when given); failed runs are in ``.runs`` and ``.failures``,
        they do not raise.

    Raises:
        ResultsError: ``out`` exists and is not resumable by this experiment.
        ExecutorError: The executor cannot be started.
    """
    exp = experiment if isinstance(experiment, Experiment) else load_experiment(experiment)
    if steps is not None:
        exp = exp.with_changes(steps=steps)
    with reporting(progress, exp.name, "runs") as report:
        output = run_experiment(exp, options, progress=report, command_line=command_line, **changes)
    return Results.from_sweep(output)
