"""Workers of a process pool die with the sweep that started them.

A ``ProcessPoolExecutor`` worker waits for its next task on a queue whose writing end it
holds itself, so when the sweep is killed (``kill -9``, or a SIGTERM without cleanup) the
worker waits for ever (and, started by a forkserver, keeps the forkserver and the resource
tracker alive with it).
``watch_parent`` is the pool's initializer: each worker ignores Ctrl-C (the sweep
handles it and stops its workers) and starts a daemon thread that ends the worker as
soon as the sweep's process is gone. On Linux the thread blocks on a pidfd of the sweep
(readable when it exits: no polling, no confusion with a later process of the same PID);
elsewhere it checks every half second. Once the workers are gone, a forkserver and the
resource tracker see their pipes close and exit by themselves.
"""

from __future__ import annotations

import logging
import os
import select
import signal
import threading
import time

POLL_S = 0.5  # where pidfd_open is missing


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is gone for our purpose
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


def _wait_for_exit(pid: int) -> None:
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):
        fd = None
    if fd is not None:
        select.select([fd], [], [])
    else:
        while _alive(pid):
            time.sleep(POLL_S)
    os._exit(1)  # the sweep is gone: nobody will read what this worker computes


def watch_parent(pid: int) -> None:
    """Initializer of a pool worker: ignore SIGINT, and exit when process ``pid`` exits.

    A worker forked from the sweep itself (``execution.start_method``) starts with the
    sweep's signal handlers and with SIGINT blocked (``execution.process_pool``): SIGTERM
    gets its default back (the sweep's ``terminate`` of a worker must end it, not run
    the sweep's handler in it) and SIGINT, once ignored, is unblocked.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    threading.Thread(
        target=_wait_for_exit, args=(pid,), name="mensi-sweep-watch", daemon=True
    ).start()


def dask_setup(worker: object) -> None:
    """Dask preload of a worker of the sweep's own LocalCluster: ignore Ctrl-C.

    A terminal's Ctrl-C reaches every process of the foreground group; the sweep handles
    it and closes its cluster, but a Dask worker process left to the signal would stop
    by itself first and print asyncio's KeyboardInterrupt traceback and the heartbeat
    errors of its nanny. ``DaskExecutor`` passes this module as the workers' ``preload``
    (distributed imports it in each worker process and calls this with the worker).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def quiet_worker_logs() -> None:
    """Run on each worker of a local Dask cluster just before it is ended mid-task."""
    logging.getLogger("distributed").setLevel(logging.CRITICAL)
