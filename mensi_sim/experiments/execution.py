"""Executors: where the runs of a sweep run, behind one concurrent.futures interface.

Every executor has ``submit``, ``map``, ``shutdown`` and is a context manager:

- ``serial``: in this process, one task after the other (a completed Future per submit);
- ``local``: a ``ProcessPoolExecutor`` sized to the machine (``process_pool``), its
  workers forked from this process when it runs no other Python thread (Linux), else
  started by a ``forkserver`` (``spawn`` where that is missing), from
  ``multiprocessing.get_context`` -- the global start method is never changed; its
  workers die with the sweep, even after ``kill -9`` (``worker_guard``), and are
  terminated on an interrupt (``ExecutorHandle.abort``);
- ``dask``: a local ``dask.distributed`` cluster (processes, one worker per core,
  one thread each), started here and closed on shutdown;
- ``tcp://host:port``: an existing Dask scheduler.

Runs are sent in batches (``run_batch``) to amortise the per-task overhead. What a
run computes depends only on (scenario, root seed, replicate), never on the
executor, the batch or the worker, so results are identical on every executor.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from mensi_sim import interrupts
from mensi_sim.errors import MensiError
from mensi_sim.experiments.dask_address import probe_scheduler
from mensi_sim.experiments.worker_guard import quiet_worker_logs, watch_parent
from mensi_sim.scenario.schema import Scenario

CONNECT_TIMEOUT_S = 10.0  # waiting for a Dask scheduler given by address


class ExecutorError(MensiError):
    """An executor cannot be started (unknown name, unreachable Dask scheduler)."""


def available_cores() -> int:
    """CPU cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class SerialExecutor(Executor):
    """Runs each submitted call at once, in this process; returns a completed Future."""

    def __init__(self) -> None:
        self._shutdown = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        if self._shutdown:
            raise RuntimeError("cannot submit after shutdown")
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - handed to the caller via the Future
            future.set_exception(exc)  # (Ctrl-C, KeyboardInterrupt, is not: it stops the sweep)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._shutdown = True


class DaskExecutor(Executor):
    """A concurrent.futures view of a dask.distributed Client (and of its LocalCluster)."""

    def __init__(self, address: str | None = None, n_workers: int | None = None) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise ExecutorError(
                f"dask executor: dask.distributed is not installed ({exc})"
            ) from None
        self.cluster = None
        if address is None:
            self.n_workers = n_workers or available_cores()
            self.cluster = LocalCluster(
                n_workers=self.n_workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
                # each worker process ignores Ctrl-C: the sweep stops its cluster itself
                preload=["mensi_sim.experiments.worker_guard"],
            )
            self.client = Client(self.cluster)
        else:
            try:
                problem = probe_scheduler(address, CONNECT_TIMEOUT_S)
            except ValueError as exc:
                raise ExecutorError(f"--executor: {exc}") from None
            if problem is not None:
                raise ExecutorError(f"cannot reach Dask scheduler {address}: {problem}")
            try:
                self.client = Client(address, timeout=CONNECT_TIMEOUT_S)
            except Exception as exc:  # noqa: BLE001 - Client raises many types (TLS: TypeError)
                msg = " ".join(str(exc).split())
                hint = ""
                if address.startswith("tls://"):
                    hint = (
                        " (tls:// needs Dask's TLS settings: distributed.comm.tls.* in its config)"
                    )
                raise ExecutorError(
                    f"cannot reach Dask scheduler {address}: {type(exc).__name__}: {msg}{hint}"
                ) from None
            self.n_workers = max(1, sum(self.client.nthreads().values()))
        self._executor = self.client.get_executor(pure=False)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        return self._executor.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        try:
            self._executor.shutdown(wait=wait)
        finally:
            if self.cluster is not None and cancel_futures:
                self._quiet_workers()
            self.client.close()
            if self.cluster is not None:
                self.cluster.close()

    def _quiet_workers(self) -> None:
        """Before a local cluster is ended mid-task (an interrupt, an error): its workers'
        teardown messages (heartbeats to a scheduler that is closing) tell the user nothing."""
        try:
            self.client.run(quiet_worker_logs)
        except Exception:  # noqa: BLE001 - best effort on the way out; the close follows
            pass


#: what a pool worker imports before its first run (the simulator, its runner)
WORKER_MODULES = (
    "mensi_sim.model",
    "mensi_sim.experiments.replicate",
    "mensi_sim.experiments.execution",
)


def start_method() -> str:
    """How a local pool starts its workers: ``fork`` on Linux when this process runs no
    Python thread but its main one, else ``forkserver`` (``spawn`` where that is missing).

    A fork copies this process with the simulator imported: the workers are up in
    milliseconds, where a forkserver first imports it all itself (about 1 s, the largest
    part of a small sweep's fixed cost). A fork is unsafe while another thread may hold a
    lock the copy would then wait for for ever: a notebook's, a progress bar's or a Dask
    client's thread means forkserver. The only other threads here are native ones of
    OpenBLAS and of Arrow's allocator (jemalloc), which make themselves safe across a
    fork (``pthread_atfork``). Not on macOS, whose system libraries are not fork-safe
    (Python itself spawns there).
    """
    methods = multiprocessing.get_all_start_methods()
    if sys.platform.startswith("linux") and "fork" in methods and threading.active_count() == 1:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def process_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """A process pool sized to the machine, its workers started as ``start_method`` says.

    A pool that forks starts all its workers here and now (later, this process may run
    a thread of its own), with SIGINT blocked until each has set it to be ignored
    (``worker_guard.watch_parent``): a Ctrl-C to the terminal's process group in between
    would run this process's handler in the copy. Python warns of any fork while native
    threads exist (DeprecationWarning "multi-threaded, use of fork() may lead to
    deadlocks"); for the fork-safe ones above it is not shown.
    """
    method = start_method()
    context = multiprocessing.get_context(method)
    if method == "fork":
        for module in WORKER_MODULES:  # the workers inherit them imported
            __import__(module)
        return forked_pool(workers or available_cores())
    if method == "forkserver":
        # the server imports the simulator once; each worker forks from it with mesa,
        # numpy and pandas already loaded (about 2 s saved per worker). This adds to
        # the forkserver's preload list only; the start method is not changed.
        context.set_forkserver_preload(list(WORKER_MODULES))
    return ProcessPoolExecutor(
        max_workers=workers or available_cores(),
        mp_context=context,
        initializer=watch_parent,  # workers die with this process, even after kill -9
        initargs=(os.getpid(),),
    )


def forked_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes forked from this one, all of them now, that die with
    it (``watch_parent``); only where ``start_method`` says ``fork``. The workers inherit
    this process's memory: what it has imported and loaded, closures included."""
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=watch_parent,
        initargs=(os.getpid(),),
    )
    _fork_workers(pool)
    return pool


def _fork_workers(pool: ProcessPoolExecutor) -> None:
    """Start every worker of a pool that forks (it forks them all at its first submit)."""
    with interrupts.held(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "This process .* is multi-threaded", DeprecationWarning)
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            pool.submit(int)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


@dataclass
class ExecutorHandle:
    """An executor with what the manifest says about it and whether we must shut it down."""

    executor: Executor
    description: str
    workers: int
    owned: bool

    @property
    def forks_workers(self) -> bool:
        """Whether a submit may start a worker process (a process pool starts them on
        demand): such a submit is held from interrupts (``interrupts.held``)."""
        return isinstance(self.executor, ProcessPoolExecutor)

    @property
    def in_flight(self) -> int:
        """Batches to keep submitted at once. Two per worker keep every worker busy while
        the finished ones are written; the serial executor computes a batch inside its
        submit, so one at a time: each is written, counted in the progress and open to
        Ctrl-C before the next starts."""
        if isinstance(self.executor, SerialExecutor):
            return 1
        return 2 * max(1, self.workers)

    def abort(self) -> None:
        """Stop at once (an interrupt, an error): queued runs are cancelled and the worker
        processes of a process pool are terminated rather than waited for. Only for an
        executor made here (``owned``)."""
        if not self.owned:
            return
        ex = self.executor
        terminate = getattr(ex, "terminate_workers", None)  # Python >= 3.14
        if isinstance(ex, ProcessPoolExecutor) and terminate is not None:
            terminate()  # pragma: no cover
            return
        if isinstance(ex, ProcessPoolExecutor):
            # before 3.14 concurrent.futures has no public way to end busy workers, and
            # without it the interpreter's exit waits for every batch under way; shutdown
            # forgets them, so they are taken first
            workers = list((getattr(ex, "_processes", None) or {}).values())
            ex.shutdown(wait=False, cancel_futures=True)
            for process in workers:
                process.terminate()
            for process in workers:
                process.join(timeout=5)
        else:
            ex.shutdown(wait=False, cancel_futures=True)


def make_executor(
    spec: str | Executor | ExecutorHandle, workers: int | None = None
) -> ExecutorHandle:
    """An executor from its name (serial, local, dask), a scheduler address, or an instance
    (an ``ExecutorHandle`` made earlier, ``started_first``, is returned as it is)."""
    if isinstance(spec, ExecutorHandle):
        return spec
    if isinstance(spec, Executor):
        n = getattr(spec, "_max_workers", None) or getattr(spec, "n_workers", None) or 1
        return ExecutorHandle(spec, type(spec).__name__, int(n), owned=False)
    if spec == "serial":
        return ExecutorHandle(SerialExecutor(), "serial", 1, owned=True)
    if spec == "local":
        n = workers or available_cores()
        return ExecutorHandle(process_pool(n), f"local(processes={n})", n, owned=True)
    if spec == "dask":
        ex = DaskExecutor(n_workers=workers)
        return ExecutorHandle(ex, f"dask-local(workers={ex.n_workers})", ex.n_workers, True)
    if spec.startswith(("tcp://", "tls://")):
        ex = DaskExecutor(address=spec)
        return ExecutorHandle(ex, f"dask({spec}, threads={ex.n_workers})", ex.n_workers, True)
    raise ExecutorError(
        f"unknown executor {spec!r} (allowed: serial, local, dask, tcp://host:port)"
    )


@contextlib.contextmanager
def started_first(
    spec: str | Executor | ExecutorHandle, workers: int | None = None
) -> Iterator[str | Executor | ExecutorHandle]:
    """``spec``, with a ``local`` pool made already: for a caller about to start a thread
    (a progress bar) before the sweep makes its executor, so that the pool still forks
    its workers (``start_method``). The sweep takes the pool over and shuts it down; one
    it never took (an error or a Ctrl-C first) is stopped here."""
    if spec != "local":
        yield spec
        return
    handle = make_executor(spec, workers)
    try:
        yield handle
    except BaseException:
        handle.abort()
        raise
    finally:
        handle.executor.shutdown(wait=True)


@dataclass(frozen=True)
class RunTask:
    """One run to do: design point, its scenario, root seed and replicate index."""

    point: int
    scenario: Scenario
    root_seed: int
    replicate: int


@dataclass(frozen=True)
class RunDone:
    """What came back from one run: its outputs, or the failed-run record."""

    point: int
    replicate: int
    timeseries: Any  # pandas DataFrame, or None when the run failed
    summary: dict | None
    run: dict
    groups: Any = None  # pandas DataFrame of the run's group outcomes, or None


def run_task(task: RunTask) -> RunDone:
    """Do one run; an exception becomes a failed-run record (replicate.failed_run)."""
    from mensi_sim.experiments.replicate import failed_run, run_once

    started = time.perf_counter()
    try:
        out = run_once(task.scenario, task.root_seed, task.replicate)
    except Exception as exc:  # noqa: BLE001 - recorded in runs.parquet, the sweep goes on
        record = failed_run(
            task.scenario,
            task.root_seed,
            task.replicate,
            None,
            exc,
            time.perf_counter() - started,
        )
        return RunDone(task.point, task.replicate, None, None, record)
    return RunDone(task.point, task.replicate, out.timeseries, out.summary, out.run, out.groups)


def run_batch(tasks: Sequence[RunTask]) -> list[RunDone]:
    """Do several runs in one task (the unit sent to a worker)."""
    return [run_task(t) for t in tasks]


def batches(tasks: Sequence[RunTask], size: int, workers: int = 1) -> Iterator[list[RunTask]]:
    """Consecutive batches of at most ``size`` tasks, their number a multiple of
    ``workers`` (where there are enough tasks) and their sizes differing by at most one,
    so that the last round of batches ends at about the same time on every worker: 200
    runs at size 16 on 2 workers are 14 batches of 14 or 15 (13 of 16 and one of 8 would
    leave a worker idle at the end)."""
    n = len(tasks)
    count = -(-n // max(1, size))
    w = max(1, workers)
    count = min(n, -(-count // w) * w)
    for i in range(count):
        yield list(tasks[i * n // count : (i + 1) * n // count])


def submit_batches(
    handle: ExecutorHandle,
    fn: Callable[[list[RunTask]], Any],
    waiting: Iterator[list[RunTask]],
    pending: set[Future],
) -> None:
    """Submit ``fn(batch)`` for batches from ``waiting`` until ``handle.in_flight`` are
    pending (call again as they finish). A process pool may fork a worker at a submit:
    that is held from interrupts, so that none starts unknown to the pool (``interrupts``).
    A Ctrl-C whose exception a library swallowed is raised again first."""
    interrupts.raise_again_if_lost()
    hold = interrupts.held() if handle.forks_workers else contextlib.nullcontext()
    with hold:
        for chunk in itertools.islice(waiting, max(0, handle.in_flight - len(pending))):
            pending.add(handle.executor.submit(fn, chunk))


def batch_size(n_tasks: int, workers: int, cap: int = 16) -> int:
    """Runs per task: about four tasks per worker, at most ``cap`` runs per task.

    A pilot run takes about 30-40 ms; a batch of up to 16 keeps the per-task
    overhead (pickling, scheduling, one file write) small while the progress bar
    and the per-batch files still move often.
    """
    return max(1, min(cap, -(-n_tasks // (4 * max(1, workers)))))
