"""Executors: serial, local process pool and a real local Dask cluster give the same bits."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

from mensi_sim import Results, sweep
from mensi_sim.experiments import SerialExecutor, load_experiment, make_executor
from mensi_sim.experiments.execution import (
    ExecutorError,
    batch_size,
    batches,
    start_method,
)

from .helpers import ENV, REPO, SMALL, write_experiment


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory):
    return load_experiment(write_experiment(tmp_path_factory.mktemp("small"), SMALL))


@pytest.fixture(scope="module")
def serial(small):
    return sweep(small, executor="serial")


def same(a, b) -> None:
    pd.testing.assert_frame_equal(a.summary, b.summary, check_exact=True)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries, check_exact=True)
    cols = ["scenario", "replicate", "point", "seed", "scenario_hash", "status"]
    pd.testing.assert_frame_equal(a.runs[cols], b.runs[cols], check_exact=True)


def test_serial_result_is_sorted_and_complete(serial) -> None:
    s = serial.summary
    assert list(zip(s["scenario"], s["replicate"], strict=True)) == [
        ("slow", 0),
        ("slow", 1),
        ("slow", 2),
        ("fast", 0),
        ("fast", 1),
        ("fast", 2),
    ]
    assert len(serial.timeseries) == 6 * 11  # 10 weeks + the initial state
    assert (serial.runs["status"] == "ok").all()


def test_batching_does_not_change_results(small, serial) -> None:
    same(serial, sweep(small, executor="serial", batch=1))
    same(serial, sweep(small, executor=SerialExecutor(), batch=4))


def test_local_process_pool_is_identical(small, serial) -> None:
    result = sweep(small, executor="local", workers=2, batch=1)
    assert result.manifest["executor"] == "local(processes=2)"
    same(serial, result)


def test_with_another_thread_the_pool_starts_by_forkserver(small, serial) -> None:
    """A fork beside another Python thread (a notebook's, a progress bar's) could copy a
    held lock: then the pool falls back to a forkserver, with the same bits."""
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        assert start_method() == "forkserver"
        result = sweep(small, executor="local", workers=2, batch=1)
    finally:
        stop.set()
        other.join()
    assert result.manifest["executor"] == "local(processes=2)"
    same(serial, result)


# in a fresh process: this one may hold threads of earlier tests (Dask's, say)
FORKED_WORKERS = """
import multiprocessing, signal, warnings
from mensi_sim.experiments.execution import process_pool, start_method

def handler(signum, frame):
    raise SystemExit("the parent's handler ran")

def signals():
    return (
        signal.getsignal(signal.SIGTERM) == signal.SIG_DFL,
        signal.getsignal(signal.SIGINT) == signal.SIG_IGN,
        signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, []),
    )

if __name__ == "__main__":
    signal.signal(signal.SIGTERM, handler)
    print(start_method())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pool = process_pool(2)
    print(len(multiprocessing.active_children()))
    print(sorted({pool.submit(signals).result(timeout=60) for _ in range(8)}))
    pool.shutdown(wait=True)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers fork on Linux only")
def test_forked_workers_start_at_once_without_the_parents_handlers(tmp_path: Path) -> None:
    """Without other threads the pool forks. A forked worker inherits the parent's signal
    handlers: SIGTERM must be the default again (the sweep's terminate must end it),
    SIGINT ignored and not left blocked. Every worker exists once the pool is made (none
    is forked later, when the parent may run a thread), and Python's warning about a
    fork beside native threads (OpenBLAS, jemalloc) does not reach the user."""
    script = tmp_path / "forked.py"
    script.write_text(FORKED_WORKERS, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)], cwd=REPO, env=ENV, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.split("\n")[:3] == ["fork", "2", "[(True, True, False)]"]


def test_local_dask_cluster_is_identical(small, serial) -> None:
    result = sweep(small, executor="dask", workers=2, batch=2)
    assert result.manifest["executor"].startswith("dask-local(workers=2)")
    same(serial, result)


def test_serial_sweep_writes_each_batch_before_the_next(
    small, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The serial executor computes a batch inside its submit. Were every batch submitted
    at once, nothing would be written (and no progress shown, and a Ctrl-C would lose every
    computed run) until the last is done. Each batch must find all earlier ones on disk."""
    from mensi_sim.experiments import runner
    from mensi_sim.experiments.runstore import batch_dirs

    out = tmp_path / "res"
    on_disk: list[int] = []

    run_batch = runner.run_batch

    def counting_batch(tasks):
        on_disk.append(len(batch_dirs(out)))
        return run_batch(tasks)

    monkeypatch.setattr(runner, "run_batch", counting_batch)
    sweep(small, executor="serial", batch=1, out=out)
    assert on_disk == list(range(6))


def test_serial_executor_interface() -> None:
    with SerialExecutor() as ex:
        assert ex.submit(pow, 2, 5).result() == 32
        assert list(ex.map(abs, [-1, -2])) == [1, 2]
        future = ex.submit(int, "x")
        assert isinstance(future.exception(), ValueError)
    with pytest.raises(RuntimeError):
        ex.submit(abs, 1)


def test_unknown_executor_and_unreachable_scheduler(monkeypatch: pytest.MonkeyPatch) -> None:
    from mensi_sim.experiments import execution

    monkeypatch.setattr(execution, "CONNECT_TIMEOUT_S", 1.0)
    with pytest.raises(ExecutorError, match="unknown executor 'gpu'"):
        make_executor("gpu")
    with pytest.raises(ExecutorError, match="cannot reach Dask scheduler"):
        make_executor("tcp://127.0.0.1:9")


def test_batch_size_rule() -> None:
    assert batch_size(10, 2) == 2  # about four tasks per worker
    assert batch_size(10_000, 2) == 16  # capped
    assert batch_size(1, 8) == 1


@pytest.mark.parametrize(
    ("n", "size", "workers", "expected"),
    [
        (200, 16, 2, [14] * 10 + [15] * 4),  # 13 of 16 and one of 8 would idle a worker
        (10, 4, 1, [3, 3, 4]),
        (10, 2, 2, [1, 2, 2, 1, 2, 2]),  # 5 batches rounded up to 6
        (3, 16, 8, [1, 1, 1]),  # never an empty batch
        (0, 4, 2, []),
    ],
)
def test_batches_split_evenly_over_the_workers(n, size, workers, expected) -> None:
    parts = list(batches(list(range(n)), size, workers))
    assert sorted(len(p) for p in parts) == sorted(expected)
    assert [t for p in parts for t in p] == list(range(n))  # every task once, in order
    assert all(len(p) <= size for p in parts)


def test_results_directory_files(small, tmp_path: Path) -> None:
    out = tmp_path / "res"
    result = sweep(small, executor="serial", out=out)
    names = {p.name for p in out.iterdir()}
    assert {
        "runs.parquet",
        "summary.parquet",
        "timeseries.parquet",
        "manifest.json",
        "runs",
    } <= names
    assert result.manifest["experiment_hash"] == small.hash
    assert result.manifest["status"] == "complete"

    back = Results.load(out)
    pd.testing.assert_frame_equal(back.summary, result.summary, check_exact=True)
