"""Running an experiment: every (scenario, replicate), resumable, on any executor.

``run_experiment`` runs the missing runs of an experiment in batches on an
executor, writes each finished batch atomically under ``<out>/runs/``, and
consolidates the results directory (runs, summary, timeseries, manifest).
Replicate r of every scenario uses ``replicate_seed(root_seed, r)`` (common random
numbers), so scenario comparisons are paired. How to run is one ``SweepOptions``
object; ``mensi_sim.sweep`` wraps the ``SweepOutput`` in a ``Results``.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from mensi_sim.errors import ResultsError
from mensi_sim.experiments import batch_record, folder_lock, marker, runstore
from mensi_sim.experiments.adaptive import (
    MIN_START,
    AdaptiveStatus,
    adaptive_round,
    paired_round,
)
from mensi_sim.experiments.design import parameter_table
from mensi_sim.experiments.execution import (
    ExecutorHandle,
    RunDone,
    RunTask,
    batch_size,
    batches,
    make_executor,
    run_batch,
    submit_batches,
)
from mensi_sim.experiments.limits import runs_problem
from mensi_sim.experiments.manifest import build_sweep_manifest, now_utc
from mensi_sim.experiments.marker import OWN_HIDDEN
from mensi_sim.experiments.spec import Experiment, ExperimentSpec, load_experiment
from mensi_sim.networks.size import check_network_size

# Called as progress(done, total, failed) after every finished batch.
Progress = Callable[[int, int, int], None]

DEFAULT_ADAPTIVE_OUTCOME = "final_adoption_share"
DEFAULT_MAX_REPLICATIONS = 1000


@dataclass(frozen=True)
class SweepOptions:
    """How to run an experiment; a field left at None takes the experiment file's value.

    Attributes:
        executor: ``"serial"``, ``"local"``, ``"dask"``, ``"tcp://host:port"``, a
            ``concurrent.futures.Executor`` (not shut down here), or an ``ExecutorHandle``
            of ``execution.make_executor`` (shut down here when it owns its executor).
            Default: the file's.
        workers: Processes (local, dask); default: the machine's cores.
        batch: Runs per task (default: about four tasks per worker, at most 16).
        replications: Replicates per scenario (default: the file's).
        precision: Adaptive replications: target 95% CI half-width of ``outcome``'s paired
            difference from the baseline (of its mean in a sample design; default: the
            file's ``[adaptive]`` table, if any).
        outcome: Outcome of the adaptive rule (default: final_adoption_share).
        max_replications: Cap of the adaptive rule (default 1000).
        out: Results directory. Without it the runs go to a temporary folder that is
            removed afterwards (nothing is kept on disk).
        resume: Continue a sweep in ``out``: only missing or failed runs are run.
        overwrite: Replace the results directory ``out`` (one with a manifest.json, never
            another folder): it is removed once the executor has started, then the sweep
            is written there as usual.
    """

    executor: str | Executor | ExecutorHandle | None = None
    workers: int | None = None
    batch: int | None = None
    replications: int | None = None
    precision: float | None = None
    outcome: str | None = None
    max_replications: int | None = None
    out: str | Path | None = None
    resume: bool = False
    overwrite: bool = False

    def resolved(self, spec: ExperimentSpec) -> SweepOptions:
        """These options with every default filled in from the experiment file.

        ``replications`` becomes the first round's replicates: with adaptive
        replications at least ``adaptive.MIN_START`` (10) and at most the cap.
        """
        adaptive = spec.adaptive
        precision = self.precision
        if precision is None and adaptive is not None:
            precision = adaptive.precision
        outcome = self.outcome or (adaptive.outcome if adaptive else DEFAULT_ADAPTIVE_OUTCOME)
        cap = self.max_replications or (
            adaptive.max_replications if adaptive else DEFAULT_MAX_REPLICATIONS
        )
        n0 = self.replications or spec.replications
        if precision is not None:
            n0 = min(max(n0, MIN_START), cap)
        return dataclasses.replace(
            self,
            executor=self.executor if self.executor is not None else spec.executor,
            replications=n0,
            precision=precision,
            outcome=outcome,
            max_replications=cap,
        )


@dataclass(frozen=True)
class SweepOutput:
    """What the runner hands up to ``mensi_sim.results.Results`` (a record, no methods).

    Attributes:
        experiment: The experiment that ran.
        tables: ``runs``, ``summary`` and ``timeseries``, consolidated and in design order.
        manifest: What the manifest.json of the results directory holds.
        out: The results directory (None when run without one).
        adaptive: Per scenario, where the adaptive rule stopped (empty without it).
        notes: What a resume found and did about it (damaged batch folders redone).
    """

    experiment: Experiment
    tables: dict[str, pd.DataFrame]
    manifest: dict[str, Any]
    out: Path | None = None
    adaptive: dict[str, AdaptiveStatus] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _frames(done: list[RunDone], experiment: Experiment) -> dict[str, pd.DataFrame]:
    """The three frames of one finished batch."""
    runs = []
    for d in done:
        record = dict(d.run)
        record = {
            "scenario": record.pop("scenario"),
            "replicate": record.pop("replicate"),
            "point": experiment.points[d.point].index,
            **record,
        }
        runs.append(record)
    summaries = [d.summary for d in done if d.summary is not None]
    series = [d.timeseries for d in done if d.timeseries is not None]
    groups = [d.groups for d in done if d.groups is not None]
    return {
        "runs": pd.DataFrame(runs),
        "summary": pd.DataFrame(summaries),
        "timeseries": pd.concat(series, ignore_index=True) if series else pd.DataFrame(),
        runstore.GROUP_TABLE: pd.concat(groups, ignore_index=True) if groups else pd.DataFrame(),
    }


def with_parameters(runs: pd.DataFrame, experiment: Experiment) -> pd.DataFrame:
    """The run records with a typed column per parameter of the design after ``point``
    (``design.parameter_table``); a batch written before there were such columns (one
    JSON text ``parameters``) gets them too, from its design point."""
    if runs.empty or "point" not in runs.columns:
        return runs
    table = parameter_table(experiment.points)
    names = [c for c in table.columns if c != "point"]
    clash = set(names) & (set(runs.columns) - {"parameters", *names})
    table = table.rename(columns={n: f"parameters.{n}" for n in clash})
    runs = runs.drop(columns=[c for c in ("parameters", *names) if c in runs.columns])
    at = list(runs.columns).index("point") + 1
    merged = runs.merge(table, on="point", how="left", validate="many_to_one")
    added = [c for c in table.columns if c != "point"]
    order = [*runs.columns[:at], *added, *runs.columns[at:]]
    return merged[order]


def _check_replaceable(out: Path) -> None:
    """``--overwrite`` replaces only a folder mensi_sim wrote, holding nothing else, that
    no other process is writing (the same rules as ``run --overwrite``)."""
    problem = marker.replace_problem(out)
    if problem is not None:
        raise ResultsError(f"{out}: {problem}")
    writer = folder_lock.holder(out)
    if writer is not None:
        raise ResultsError(f"{out}: not overwriting: in use by {writer}")


def prepare_out(out: Path, experiment: Experiment, resume: bool, overwrite: bool = False) -> None:
    """Check that a sweep may write to ``out``; one-line ResultsError otherwise."""
    if out.exists() and not out.is_dir():
        raise ResultsError(f"{out}: exists and is not a directory")
    if resume and overwrite:
        raise ResultsError(
            f"{out}: --resume continues the sweep there, --overwrite replaces it: give one"
        )
    if not out.exists() or not any(p.name not in OWN_HIDDEN for p in out.iterdir()):
        return
    manifest = runstore.read_manifest(out)
    if overwrite:
        _check_replaceable(out)
        return
    if not resume:
        raise ResultsError(
            f"{out}: directory exists and is not empty (use --resume to continue the sweep "
            "there, --overwrite to replace it, or another --out)"
        )
    if manifest is None or manifest.get("kind") != "experiment":
        raise ResultsError(f"{out}: cannot resume: not a sweep's results directory")
    if manifest.get("experiment_hash") != experiment.hash:
        raise ResultsError(
            f"{out}: cannot resume: made by a different experiment "
            f"({manifest.get('experiment')!r}, hash {manifest.get('experiment_hash')}; "
            f"this is {experiment.name!r}, hash {experiment.hash})"
        )


def check_sizes(exp: Experiment, replications: int) -> None:
    """Refuse, before anything runs, a sweep whose runs or tables would not fit in memory."""
    for point in exp.points:
        check_network_size(point.scenario)
    problem = runs_problem([p.scenario for p in exp.points], replications)
    if problem is not None:
        raise ResultsError(f"replications: {problem}")


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
    options: SweepOptions | None = None,
    *,
    progress: Progress | None = None,
    command_line: str | Sequence[str] | None = None,
    **changes: Any,
) -> SweepOutput:
    """Run an experiment and return its consolidated tables.

    Args:
        experiment: An Experiment or the path of an experiment file.
        options: How to run (``SweepOptions``; default: the file's settings).
        progress: Called as ``progress(done, total, failed)`` after each batch.
        command_line: Recorded in the manifest (default: sys.argv).
        **changes: Fields of ``SweepOptions`` to set, e.g. ``executor="serial"``.

    Returns:
        SweepOutput; failed runs are in its ``runs`` table (status "failed"), they do
        not raise.

    Raises:
        TypeError: A keyword that is not a field of ``SweepOptions``.
        ValueError: A precision that is not a finite number > 0.
        ResultsError: ``out`` exists and is not resumable by this experiment, or another
            process is writing there (the message names it).
        ExecutorError: The executor cannot be started.
    """
    exp = experiment if isinstance(experiment, Experiment) else load_experiment(experiment)
    opts = dataclasses.replace(options or SweepOptions(), **changes).resolved(exp.spec)
    if opts.precision is not None and not 0 < opts.precision < math.inf:
        raise ValueError(f"precision: must be a finite number > 0, got {opts.precision}")
    check_sizes(exp, int(opts.replications))
    with tempfile.TemporaryDirectory(prefix="mensi-sweep-") as scratch:
        target_dir = Path(opts.out) if opts.out is not None else Path(scratch) / "results"
        prepare_out(target_dir, exp, opts.resume, opts.overwrite)
        return _run(
            exp,
            opts,
            target_dir,
            keep=opts.out is not None,
            progress=progress,
            command_line=command_line,
        )


#: what only the end of a sweep imports: the t quantiles of its summary's intervals
#: (``mensi_sim.stats.t_quantile``; 0.3 s)
IMPORTED_AFTER_RUNS = ("scipy.special",)


def import_meanwhile(modules: Sequence[str]) -> threading.Thread:
    """Import ``modules`` on a thread of their own, for later; the thread, started.

    While a process pool computes (or its forkserver imports the simulator, about a
    second), this process mostly waits: what the sweep imports only at its end is
    imported then, instead of after the last run. Started once the pool's workers are
    forked (``execution.process_pool``); join the thread before this process forks
    again (``execution.start_method`` does not fork beside a thread). A failure is
    left for the import at the end.
    """

    def load() -> None:
        for module in modules:
            try:
                importlib.import_module(module)
            except Exception:  # noqa: BLE001, S112 - the import where it is used reports it
                continue

    thread = threading.Thread(target=load, name="mensi-imports", daemon=True)
    thread.start()
    return thread


def _run(
    exp: Experiment,
    opts: SweepOptions,
    out: Path,
    *,
    keep: bool,
    progress: Progress | None,
    command_line: str | Sequence[str] | None,
) -> SweepOutput:
    """A sweep on its executor, in its folder, holding the folder's lock.

    The executor is made first (an unreachable scheduler leaves no results folder
    behind) and stopped at the end; on an interrupt or an error its queued runs are
    cancelled and its workers terminated (``ExecutorHandle.abort``).
    """
    handle = make_executor(opts.executor, opts.workers)
    if handle.forks_workers:
        import_meanwhile(IMPORTED_AFTER_RUNS)
    try:
        if opts.overwrite and out.exists():  # checked by prepare_out: ours, and idle
            shutil.rmtree(out)
        out.mkdir(parents=True, exist_ok=True)
        with folder_lock.locked(out):
            prepare_out(out, exp, opts.resume)  # again: another writer may have been first
            return _sweep(
                exp, opts, out, handle, keep=keep, progress=progress, command_line=command_line
            )
    except BaseException:
        handle.abort()
        raise
    finally:
        if handle.owned:
            handle.executor.shutdown(wait=True)


def _sweep(
    exp: Experiment,
    opts: SweepOptions,
    out: Path,
    handle: ExecutorHandle,
    *,
    keep: bool,
    progress: Progress | None,
    command_line: str | Sequence[str] | None,
) -> SweepOutput:
    """The rounds of runs of a sweep, with ``opts`` resolved (``SweepOptions.resolved``).

    Only batch folders that pass ``batch_record.batch_problem`` are trusted; the others
    are removed first and their runs done again.
    """
    precision, outcome, cap = opts.precision, str(opts.outcome), int(opts.max_replications)
    names = [p.name for p in exp.points]
    order = {n: i for i, n in enumerate(names)}
    # the precision of the comparison: paired differences from the baseline, whenever named
    # scenarios are compared (not a sample design or a PSA, not a single scenario)
    paired = len(names) > 1 and not exp.samples and not exp.options
    targets = {n: int(opts.replications) for n in names}
    runstore.remove_leftovers(out)
    notes = runstore.drop_damaged(out)
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
    runstore.atomic_json(manifest, out / runstore.MANIFEST_NAME)
    marker.write_marker(out, [runstore.MANIFEST_NAME, runstore.RUNS_DIR])
    status: dict[str, AdaptiveStatus] = {}
    written: dict[str, dict[str, pd.DataFrame]] = {}  # the batch folders written here
    n_done = n_failed = 0
    while True:
        todo = [
            RunTask(
                exp.points[order[n]].index,
                exp.points[order[n]].scenario,
                exp.points[order[n]].seed(exp.spec.root_seed),
                r,
            )
            for n in names
            for r in range(targets[n])
            if (n, r) not in ok
        ]
        total = n_done + len(todo)
        if progress is not None:
            progress(n_done, total, n_failed)
        size = opts.batch or batch_size(len(todo), handle.workers)
        waiting = batches(todo, size, handle.workers)
        pending: set[Future] = set()
        submit_batches(handle, run_batch, waiting, pending)
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                results: list[RunDone] = future.result()
                frames = _frames(results, exp)
                written[runstore.write_batch(out, frames).name] = frames
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
            submit_batches(handle, run_batch, waiting, pending)  # once the finished are kept
        if precision is None:
            break
        if paired:
            by_replicate = {
                n: {r: values[(n, r)] for r in range(targets[n]) if (n, r) in values} for n in names
            }
            new_targets, status = paired_round(by_replicate, targets, precision, cap, exp.baseline)
        else:
            per_scenario = {
                n: [values[(n, r)] for r in range(targets[n]) if (n, r) in values] for n in names
            }
            new_targets, status = adaptive_round(per_scenario, targets, precision, cap)
        if new_targets == targets:
            break
        targets = new_targets
    tables = runstore.consolidate(out, order, written)
    tables["runs"] = with_parameters(tables["runs"], exp)
    # keep only the runs the final targets ask for (a resumed sweep may hold more)
    for name, frame in tables.items():
        if not frame.empty:
            wanted = frame["replicate"].to_numpy() < frame["scenario"].map(targets).to_numpy()
            if not wanted.all():
                tables[name] = frame[wanted].reset_index(drop=True)
    batch_record.check_consolidated(tables, out)
    runs = tables["runs"]
    n_fail = int((runs["status"] != "ok").sum()) if not runs.empty else 0
    extra: dict[str, Any] = {
        "completed_utc": now_utc(),
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
            "target": f"paired difference from {exp.baseline}" if paired else "each mean",
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
        runstore.atomic_json(manifest, out / runstore.MANIFEST_NAME)
        marker.write_marker(out, [f"{name}.parquet" for name in tables])  # group table too
    return SweepOutput(
        experiment=exp,
        tables=tables,
        manifest=manifest,
        out=out if keep else None,
        adaptive=status,
        notes=notes,
    )
