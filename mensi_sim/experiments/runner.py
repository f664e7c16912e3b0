"""Running an experiment: every (scenario, replicate), resumable, on any executor.

``run_experiment`` runs the missing runs of an experiment in batches on an
executor, writes each finished batch atomically under ``<out>/runs/``, and
consolidates the results directory (runs, summary, timeseries, manifest).
Replicate r of every scenario uses ``replicate_seed(root_seed, r)`` (common random
numbers), so scenario comparisons are paired.
"""

from __future__ import annotations

import json
import shlex
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from mensi_sim.errors import ResultsError
from mensi_sim.experiments import runstore
from mensi_sim.experiments.adaptive import AdaptiveStatus, adaptive_round
from mensi_sim.experiments.design import get_parameter
from mensi_sim.experiments.execution import (
    RunDone,
    RunTask,
    batch_size,
    batches,
    make_executor,
    run_batch,
)
from mensi_sim.experiments.spec import Experiment, load_experiment
from mensi_sim.results.manifest import MANIFEST_FORMAT, git_state, package_versions

# Called as progress(done, total, failed) after every finished batch.
Progress = Callable[[int, int, int], None]


@dataclass
class ExperimentResult:
    """The consolidated results of an experiment.

    Attributes:
        experiment: The experiment that ran.
        runs: One row per run: scenario, replicate, point, parameters, seed, status,
            error (with traceback), duration.
        summary: One row per successful (scenario, replicate), a column per outcome.
        timeseries: One row per (scenario, replicate, step).
        manifest: What the manifest.json of the results directory holds.
        out: The results directory (None when run without one).
        adaptive: Per scenario, where the adaptive rule stopped (empty without it).
    """

    experiment: Experiment
    runs: pd.DataFrame
    summary: pd.DataFrame
    timeseries: pd.DataFrame
    manifest: dict[str, Any]
    out: Path | None = None
    adaptive: dict[str, AdaptiveStatus] = field(default_factory=dict)

    @property
    def failures(self) -> pd.DataFrame:
        """The run records of the runs that failed."""
        if self.runs.empty:
            return self.runs
        return self.runs[self.runs["status"] != "ok"]

    def headline(self, outcomes: tuple[str, ...] | None = None) -> pd.DataFrame:
        """Mean and 95% CI of the outcomes of interest per scenario (long format)."""
        from mensi_sim.stats import describe_outcomes

        outcomes = tuple(outcomes or self.experiment.spec.outcomes)
        if self.summary.empty:
            return pd.DataFrame(columns=["scenario", "outcome", "mean", "ci_low", "ci_high", "n"])
        return describe_outcomes(self.summary, outcomes)


def _json_value(value: Any) -> Any:
    """Overrides as JSON: pydantic models and tuples become plain structures."""
    return json.loads(json.dumps(value, default=str))


def _frames(done: list[RunDone], experiment: Experiment) -> dict[str, pd.DataFrame]:
    """The three frames of one finished batch."""
    runs = []
    for d in done:
        point = experiment.points[d.point]
        params = json.dumps(_json_value(point.overrides), sort_keys=True)
        record = dict(d.run)
        record = {
            "scenario": record.pop("scenario"),
            "replicate": record.pop("replicate"),
            "point": point.index,
            "parameters": params,
            **record,
        }
        runs.append(record)
    summaries = [d.summary for d in done if d.summary is not None]
    series = [d.timeseries for d in done if d.timeseries is not None]
    return {
        "runs": pd.DataFrame(runs),
        "summary": pd.DataFrame(summaries),
        "timeseries": pd.concat(series, ignore_index=True) if series else pd.DataFrame(),
    }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def build_sweep_manifest(
    experiment: Experiment,
    *,
    executor: str,
    command_line: str | list[str] | None,
    status: str,
    replications: dict[str, int],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The manifest.json of a sweep (the keys of results.manifest plus the experiment's)."""
    if command_line is None:
        command_line = [sys.argv[0], *sys.argv[1:]]
    if not isinstance(command_line, str):
        command_line = shlex.join(str(a) for a in command_line)
    git = git_state()
    spec = experiment.spec
    return {
        "format": MANIFEST_FORMAT,
        "kind": "experiment",
        "experiment": spec.name,
        "experiment_hash": experiment.hash,
        "source_path": experiment.source_path,
        "scenario": experiment.base.name,
        # the base scenario in full: with each scenario's overrides below, every run's
        # parameters can be rebuilt from the manifest alone
        "base_parameters": experiment.base.model_dump(mode="json", exclude={"source_path"}),
        "root_seed": spec.root_seed,
        "replications": spec.replications,
        "replications_per_scenario": replications,
        "steps": experiment.steps,
        "outcomes": list(spec.outcomes),
        "baseline": spec.baseline,
        "budget": spec.budget.model_dump() if spec.budget else None,
        "scenarios": [
            {
                "name": p.name,
                "point": p.index,
                "scenario_hash": _scenario_hash(p),
                "overrides": _json_value(p.overrides),
                "sample": list(p.sample) if p.sample else None,
                "structure": p.scenario.network.structure,
                "group": _json_value(get_parameter(p.scenario, spec.budget.group_by))
                if spec.budget
                else None,
            }
            for p in experiment.points
        ],
        "versions": package_versions(),
        "git_commit": git["commit"],
        "git_dirty": git["dirty"],
        "command_line": command_line,
        "executor": executor,
        "status": status,
        "created_utc": _now(),
        "experiment_spec": spec.model_dump(mode="json"),
        **(extra or {}),
    }


def _scenario_hash(point: Any) -> str:
    from mensi_sim.scenario.loader import scenario_hash

    return scenario_hash(point.scenario)


def prepare_out(out: Path, experiment: Experiment, resume: bool) -> None:
    """Check that a sweep may write to ``out``; one-line ResultsError otherwise."""
    if out.exists() and not out.is_dir():
        raise ResultsError(f"{out}: exists and is not a directory")
    if not out.exists() or not any(out.iterdir()):
        return
    manifest = runstore.read_manifest(out)
    if not resume:
        raise ResultsError(
            f"{out}: directory exists and is not empty (use --resume to continue the sweep "
            "there, or another --out)"
        )
    if manifest is None or manifest.get("kind") != "experiment":
        raise ResultsError(f"{out}: cannot resume: not a sweep's results directory")
    if manifest.get("experiment_hash") != experiment.hash:
        raise ResultsError(
            f"{out}: cannot resume: made by a different experiment "
            f"({manifest.get('experiment')!r}, hash {manifest.get('experiment_hash')}; "
            f"this is {experiment.name!r}, hash {experiment.hash})"
        )


def _outcome_values(out: Path, outcome: str) -> dict[tuple[str, int], float]:
    """The outcome of every successful run on disk (for the adaptive rule)."""
    frame = runstore.read_summaries(out, ["scenario", "replicate", outcome])
    if frame.empty:
        return {}
    frame = frame.drop_duplicates(runstore.KEY, keep="last")
    return {
        (s, int(r)): float(v)
        for s, r, v in zip(frame["scenario"], frame["replicate"], frame[outcome], strict=True)
    }


def run_experiment(
    experiment: Experiment | str | Path,
    executor: str | Executor | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    *,
    workers: int | None = None,
    batch: int | None = None,
    replications: int | None = None,
    precision: float | None = None,
    outcome: str | None = None,
    max_replications: int | None = None,
    progress: Progress | None = None,
    command_line: str | list[str] | None = None,
) -> ExperimentResult:
    """Run an experiment and return its consolidated results.

    Args:
        experiment: An Experiment or the path of an experiment file.
        executor: ``"serial"``, ``"local"``, ``"dask"``, ``"tcp://host:port"``, or a
            ``concurrent.futures.Executor`` (not shut down here). Default: the file's.
        out: Results directory. Without it the runs go to a temporary folder that
            is removed afterwards (nothing is kept on disk).
        resume: Continue a sweep in ``out``: only missing or failed runs are run.
        workers: Processes (local, dask); default: the machine's cores.
        batch: Runs per task (default: about four tasks per worker, at most 16).
        replications: Replicates per scenario (default: the file's).
        precision: Adaptive replications: target 95% CI half-width of ``outcome``
            (default: the file's ``[adaptive]`` table, if any).
        outcome: Outcome of the adaptive rule (default: final_adoption_share).
        max_replications: Cap of the adaptive rule (default 1000).
        progress: Called as ``progress(done, total, failed)`` after each batch.
        command_line: Recorded in the manifest (default: sys.argv).

    Returns:
        ExperimentResult; failed runs are in ``.runs`` (status "failed") and in
        ``.failures``, they do not raise.

    Raises:
        ResultsError: ``out`` exists and is not resumable by this experiment.
        ExecutorError: The executor cannot be started.
    """
    exp = experiment if isinstance(experiment, Experiment) else load_experiment(experiment)
    spec = exp.spec
    adaptive = spec.adaptive
    if precision is None and adaptive is not None:
        precision = adaptive.precision
    outcome = outcome or (adaptive.outcome if adaptive else "final_adoption_share")
    cap = max_replications or (adaptive.max_replications if adaptive else 1000)
    n0 = replications or spec.replications
    if precision is not None:
        n0 = min(max(n0, 2), cap)
    with tempfile.TemporaryDirectory(prefix="mensi-sweep-") as scratch:
        target_dir = Path(out) if out is not None else Path(scratch) / "results"
        prepare_out(target_dir, exp, resume)
        return _run(
            exp,
            executor if executor is not None else spec.executor,
            target_dir,
            keep=out is not None,
            workers=workers,
            batch=batch,
            n0=n0,
            precision=precision,
            outcome=outcome,
            cap=cap,
            progress=progress,
            command_line=command_line,
        )


def _run(
    exp: Experiment,
    executor: str | Executor,
    out: Path,
    *,
    keep: bool,
    workers: int | None,
    batch: int | None,
    n0: int,
    precision: float | None,
    outcome: str,
    cap: int,
    progress: Progress | None,
    command_line: str | list[str] | None,
) -> ExperimentResult:
    names = [p.name for p in exp.points]
    order = {n: i for i, n in enumerate(names)}
    targets = {n: n0 for n in names}
    # connect first: an unreachable scheduler must leave no results folder behind
    handle = make_executor(executor, workers)
    out.mkdir(parents=True, exist_ok=True)
    runstore.remove_leftovers(out)
    done_runs = runstore.winning_runs(runstore.read_runs(out))
    ok = set()
    failed = set()
    for s, r, st in zip(
        done_runs["scenario"], done_runs["replicate"], done_runs["status"], strict=True
    ):
        (ok if st == "ok" else failed).add((s, int(r)))
    values = _outcome_values(out, outcome) if precision is not None else {}
    manifest = build_sweep_manifest(
        exp,
        executor=handle.description,
        command_line=command_line,
        status="running",
        replications=targets,
    )
    runstore.atomic_json(manifest, out / "manifest.json")
    status: dict[str, AdaptiveStatus] = {}
    n_done = n_failed = 0
    try:
        while True:
            todo = [
                RunTask(
                    exp.points[order[n]].index, exp.points[order[n]].scenario, exp.spec.root_seed, r
                )
                for n in names
                for r in range(targets[n])
                if (n, r) not in ok
            ]
            total = n_done + len(todo)
            if progress is not None:
                progress(n_done, total, n_failed)
            size = batch or batch_size(len(todo), handle.workers)
            pending: set[Future] = {
                handle.executor.submit(run_batch, chunk) for chunk in batches(todo, size)
            }
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    results: list[RunDone] = future.result()
                    runstore.write_batch(out, _frames(results, exp))
                    for d in results:
                        key = (exp.points[d.point].name, d.replicate)
                        n_done += 1
                        if d.run["status"] == "ok":
                            ok.add(key)
                            failed.discard(key)
                            if d.summary is not None and outcome in d.summary:
                                values[key] = float(d.summary[outcome])
                        else:
                            failed.add(key)
                            n_failed += 1
                    if progress is not None:
                        progress(n_done, total, n_failed)
            if precision is None:
                break
            per_scenario = {
                n: [values[(n, r)] for r in range(targets[n]) if (n, r) in values] for n in names
            }
            new_targets, status = adaptive_round(per_scenario, targets, precision, cap)
            if new_targets == targets:
                break
            targets = new_targets
    finally:
        if handle.owned:
            handle.executor.shutdown(wait=True)
    tables = runstore.consolidate(out, order)
    # keep only the runs the final targets ask for (a resumed sweep may hold more)
    for name, frame in tables.items():
        if not frame.empty:
            mask = [
                r < targets[s] for s, r in zip(frame["scenario"], frame["replicate"], strict=True)
            ]
            tables[name] = frame[mask].reset_index(drop=True)
    runs = tables["runs"]
    n_fail = int((runs["status"] != "ok").sum()) if not runs.empty else 0
    extra: dict[str, Any] = {
        "completed_utc": _now(),
        "n_runs": len(runs),
        "n_failed": n_fail,
        "failed_runs": [
            f"{s}/{r}"
            for s, r in runs.loc[runs["status"] != "ok", ["scenario", "replicate"]].itertuples(
                index=False
            )
        ]
        if n_fail
        else [],
    }
    if precision is not None:
        extra["adaptive"] = {
            "precision": precision,
            "outcome": outcome,
            "max_replications": cap,
            "scenarios": {
                n: {
                    "replications": s.replications,
                    "half_width": s.half_width if s.half_width != float("inf") else None,
                    "reached": s.reached,
                }
                for n, s in status.items()
            },
        }
    manifest = build_sweep_manifest(
        exp,
        executor=handle.description,
        command_line=command_line,
        status="complete" if not n_fail else "complete with failed runs",
        replications=targets,
        extra=extra,
    )
    manifest["created_utc"] = runstore.read_manifest(out).get(
        "created_utc", manifest["created_utc"]
    )
    if keep:
        runstore.write_tables(out, tables)
        runstore.atomic_json(manifest, out / "manifest.json")
    return ExperimentResult(
        experiment=exp,
        runs=tables["runs"],
        summary=tables["summary"],
        timeseries=tables["timeseries"],
        manifest=manifest,
        out=out if keep else None,
        adaptive=status,
    )
