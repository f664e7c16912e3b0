"""One writer at a time in a results folder: a lock that names who holds it.

A sweep (and its ``--resume``), ``compare`` and ``sensitivity`` write into a results
folder over a while; two of them at once would both do all the work and delete each
other's files. ``locked(folder)`` takes an exclusive ``flock`` on ``<folder>/.mensi_sim.lock``
for as long as the writing lasts and writes the holder (PID, host, command, time) into
it; a second writer gets a ``ResultsError`` naming the holder, at once (it never waits).
The kernel releases a ``flock`` when its process dies, even by ``kill -9``, so a lock
is never left stale; the file itself is removed by its holder on release.

Written here rather than taken from a library (``filelock``): the message must name
the holder, which ``filelock`` does not record, and the standard library's ``fcntl``
is all it takes. Where ``fcntl`` is missing (Windows), folders are not locked.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from mensi_sim.errors import ResultsError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".mensi_sim.lock"
HOLDER_WAIT_S = 5.0  # at most this long for a new holder to write who it is
# folders this process holds, with how many ``locked`` blocks hold each (a lock is
# re-entrant within a process: ``compare`` holds it and writes tables that take it)
_HELD: dict[Path, int] = {}


def lock_path(folder: Path) -> Path:
    """The lock file of a results folder."""
    return Path(folder) / LOCK_NAME


def _holder_text(path: Path) -> str:
    """Who holds the lock, from its file: ``PID 123 on host h (mensi-sim sweep ..., since t)``."""
    # the holder writes its line right after locking; wait for it, but not for ever (a
    # holder stopped between the two would keep a second writer waiting)
    deadline = time.monotonic() + HOLDER_WAIT_S
    while True:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = None
        if isinstance(data, dict) and "pid" in data:
            command = str(data.get("command", ""))[:80]
            return (
                f"PID {data.get('pid')} on host {data.get('host')} "
                f"({command}, since {data.get('since')})"
            )
        if time.monotonic() >= deadline:
            return "another process (its PID could not be read)"
        time.sleep(0.01)


def holder(folder: Path) -> str | None:
    """Who is writing into ``folder`` now, or None when nobody is."""
    path = lock_path(folder)
    if fcntl is None or Path(folder).resolve() in _HELD or not path.is_file():
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _holder_text(path)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _acquire(folder: Path) -> int | None:
    """The descriptor of the locked lock file (None without fcntl); ResultsError if held."""
    if fcntl is None:
        return None
    path = lock_path(folder)
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise ResultsError(f"{folder}: cannot write into the folder: {reason}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ResultsError(
                f"{folder}: in use by {_holder_text(path)}; wait for it to finish or stop it"
            ) from None
        # the previous holder may have removed the file between our open and our lock:
        # then we hold a lock on a file nobody else sees, so try again on the new one
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    line = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": " ".join(["mensi-sim", *sys.argv[1:]]) if sys.argv else "",
        "since": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    os.ftruncate(fd, 0)
    os.write(fd, (json.dumps(line) + "\n").encode("utf-8"))
    return fd


def _release(folder: Path, fd: int | None) -> None:
    if fd is None:
        return
    try:
        lock_path(folder).unlink(missing_ok=True)  # removed while still held: see _acquire
    except OSError:
        pass
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@contextlib.contextmanager
def locked(folder: str | Path) -> Iterator[None]:
    """Hold the lock of an existing results folder while inside.

    Raises:
        ResultsError: Another process holds it (the message names it), or the folder
            cannot be written.
    """
    folder = Path(folder)
    key = folder.resolve()
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    fd = _acquire(folder)
    _HELD[key] = 1
    try:
        yield
    finally:
        del _HELD[key]
        _release(folder, fd)
