"""The two ways to make Results: ``simulate`` (replicates of one scenario, in this
process) and ``sweep`` (an experiment, on any executor, resumable).

Both return a ``mensi_sim.results.Results``; ``SimulationResult`` is its old name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from mensi_sim.experiments.replicate import RunOutput, failed_run, run_once
from mensi_sim.experiments.runner import Progress, SweepOptions, run_experiment
from mensi_sim.experiments.spec import Experiment
from mensi_sim.results.results import Results
from mensi_sim.scenario.schema import Scenario

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
    progress: Callable[[int, int], None] | None = None,
    command_line: str | Sequence[str] | None = None,
) -> Results:
    """Run ``replications`` replicates of a scenario and collect tidy results.

    Args:
        scenario: A validated Scenario (see ``load_scenario``).
        replications: Number of replicates (>= 1).
        seed: Root seed; replicate r uses ``replicate_seed(seed, r)``, so the same seed
            gives bit-identical results.
        steps: Weeks to simulate (default: ``scenario.time.steps``).
        progress: Called as ``progress(done, total)`` after each replicate.
        command_line: Recorded in the manifest (default: sys.argv).

    Returns:
        Results with ``timeseries``, ``summary`` and ``runs``; ``.save(folder)`` writes
        them with their manifest.
    """
    if replications < 1:
        raise ValueError(f"replications: {replications} < 1")
    outputs = []
    for r in range(replications):
        outputs.append(run_once(scenario, seed, r, steps))
        if progress is not None:
            progress(r + 1, replications)
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
    progress: Progress | None = None,
    command_line: str | Sequence[str] | None = None,
    **changes: Any,
) -> Results:
    """Run an experiment: every scenario x replicate, resumable; its Results.

    Args:
        experiment: An Experiment or the path of an experiment file.
        options: How to run (``SweepOptions``; default: the experiment file's settings).
        progress: Called as ``progress(done, total, failed)`` after each batch of runs.
        command_line: Recorded in the manifest (default: sys.argv).
        **changes: Fields of ``SweepOptions`` to set, e.g. ``executor="serial"``,
            ``out="results/structures"``, ``replications=20``.

    Returns:
        Results (in ``out`` when given); failed runs are in ``.runs`` and ``.failures``,
        they do not raise.

    Raises:
        ResultsError: ``out`` exists and is not resumable by this experiment.
        ExecutorError: The executor cannot be started.
    """
    output = run_experiment(
        experiment, options, progress=progress, command_line=command_line, **changes
    )
    return Results.from_sweep(output)
