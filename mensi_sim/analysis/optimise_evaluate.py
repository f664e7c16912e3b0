"""Evaluating candidate designs: runs on common random numbers, on any executor, all recorded.

Replicate r of every candidate (and of every shipped structure it is compared with) uses
``replicate_seed(root_seed, r)``: the same schools and the same draws wherever designs do
not differ, so differences between candidates are paired. The runs go to the executors of
``mensi_sim.experiments.execution`` (serial, local process pool, Dask) in batches, and each
finished batch is written atomically (``runstore.write_batch``) under
``<out>/<phase>/runs/``, where ``phase`` is ``search`` (the search's replicates) or
``holdout`` (fresh seeds for the out-of-sample re-evaluation) or ``robustness`` (the
front on a PSA draw set, each draw under its own root seed). A run already on disk is
never run again, so an interrupted optimisation resumes where it stopped.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from pathlib import Path

import pandas as pd

from mensi_sim.experiments import runstore
from mensi_sim.experiments.execution import (
    ExecutorHandle,
    RunDone,
    RunTask,
    batch_size,
    batches,
    run_batch,
    submit_batches,
)
from mensi_sim.scenario.schema import Scenario

SEARCH, HOLDOUT, ROBUSTNESS = "search", "holdout", "robustness"
PHASES = (SEARCH, HOLDOUT, ROBUSTNESS)

# Called as progress(phase, done, total) after every finished batch.
Progress = Callable[[str, int, int], None]


def run_summaries(tasks: Sequence[RunTask]) -> list[RunDone]:
    """``run_batch`` without the time series (an optimisation keeps summaries only, and
    sending 156 weekly rows per run back from a worker would cost more than the run)."""
    return [dataclasses.replace(d, timeseries=None) for d in run_batch(tasks)]


@dataclasses.dataclass
class EvaluationStore:
    """The summary row of every finished run, by (phase, scenario name, replicate).

    ``out`` None keeps everything in memory (nothing written).
    """

    out: Path | None
    rows: dict[tuple[str, str, int], dict] = dataclasses.field(default_factory=dict)
    failed: dict[tuple[str, str, int], str] = dataclasses.field(default_factory=dict)

    def folder(self, phase: str) -> Path:
        assert self.out is not None
        return self.out / phase

    def load(self) -> EvaluationStore:
        """Read the batches already on disk (a resumed optimisation)."""
        if self.out is None:
            return self
        for phase in PHASES:
            folder = self.folder(phase)
            if not folder.is_dir():
                continue
            runstore.remove_leftovers(folder)
            summaries = runstore.read_summaries(folder)
            if not summaries.empty:
                summaries = summaries.drop(columns="batch").drop_duplicates(
                    runstore.KEY, keep="last"
                )
                for row in summaries.to_dict("records"):
                    self.rows[(phase, row["scenario"], int(row["replicate"]))] = row
            runs = runstore.winning_runs(runstore.read_runs(folder))
            for s, r, st, err in zip(
                runs.get("scenario", []),
                runs.get("replicate", []),
                runs.get("status", []),
                runs.get("error", [""] * len(runs)),
                strict=True,
            ):
                if st != "ok" and (phase, s, int(r)) not in self.rows:
                    self.failed[(phase, s, int(r))] = str(err)
        return self

    def write(self, phase: str, done: list[RunDone], names: list[str]) -> None:
        """Keep one finished batch and write it atomically (when there is an ``out``)."""
        runs, summaries = [], []
        for d in done:
            key = (phase, names[d.point], d.replicate)
            if d.summary is not None:
                self.rows[key] = d.summary
                self.failed.pop(key, None)
                summaries.append(d.summary)
            else:
                self.failed[key] = str(d.run.get("error", ""))
            runs.append({**d.run, "point": d.point})
        if self.out is not None:
            frames = {"runs": pd.DataFrame(runs), "summary": pd.DataFrame(summaries)}
            folder = self.folder(phase)
            folder.mkdir(parents=True, exist_ok=True)
            runstore.write_batch(folder, frames)

    def summary(self, phase: str) -> pd.DataFrame:
        """Every summary row of a phase, sorted by (scenario, replicate)."""
        rows = [row for (p, _, _), row in self.rows.items() if p == phase]
        if not rows:
            return pd.DataFrame()
        frame = pd.DataFrame(rows)
        return frame.sort_values(runstore.KEY, kind="mergesort").reset_index(drop=True)


@dataclasses.dataclass
class Evaluator:
    """Runs what the store lacks on one executor and hands back summary rows.

    Attributes:
        store: Where finished runs are kept.
        handle: The executor (``experiments.execution.make_executor``).
        batch: Runs per task (default: ``execution.batch_size``).
        progress: Called after each finished batch.
    """

    store: EvaluationStore
    handle: ExecutorHandle
    batch: int | None = None
    progress: Progress | None = None
    runs_done: int = 0

    def evaluate(
        self,
        phase: str,
        root_seed: int | Mapping[str, int],
        scenarios: dict[str, Scenario],
        replicates: Sequence[int],
    ) -> pd.DataFrame:
        """The summary rows of every (scenario, replicate) asked for, running the missing.

        ``root_seed`` is one for every scenario, or one per scenario name (the draws of a
        PSA: draw d of every design under draw d's own root seed).

        A run that failed is retried once per call; if it fails again its row is absent
        (the caller treats a design without all its replicates as infeasible).
        """
        names = list(scenarios)
        seeds = root_seed if isinstance(root_seed, Mapping) else dict.fromkeys(names, root_seed)
        todo = [
            RunTask(i, scenarios[name], seeds[name], r)
            for i, name in enumerate(names)
            for r in replicates
            if (phase, name, r) not in self.store.rows
        ]
        total, done = len(todo), 0
        if todo:
            size = self.batch or batch_size(len(todo), self.handle.workers)
            waiting = batches(todo, size, self.handle.workers)
            pending: set[Future] = set()
            if self.progress is not None:
                self.progress(phase, 0, total)
            submit_batches(self.handle, run_summaries, waiting, pending)
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    results: list[RunDone] = future.result()
                    self.store.write(phase, results, names)
                    done += len(results)
                    self.runs_done += len(results)
                    if self.progress is not None:
                        self.progress(phase, done, total)
                submit_batches(self.handle, run_summaries, waiting, pending)
        rows = [
            self.store.rows[(phase, name, r)]
            for name in names
            for r in replicates
            if (phase, name, r) in self.store.rows
        ]
        return pd.DataFrame(rows)


def parameters_json(updates: dict) -> str:
    """A candidate's values as one JSON string (a column of the candidates table)."""
    return json.dumps(updates, sort_keys=True, default=str)
