"""The guard at the top of the command line: whatever happens, no traceback reaches the user.

- ``error_line``: every ``error:`` line is one line, at most ``MAX_ERROR_CHARS`` long,
  with control characters (ANSI escapes, NUL, bidirectional overrides) shown as escapes,
  so a hostile name can neither flood nor repaint the terminal.
- ``interrupts``: Ctrl-C (SIGINT) and SIGTERM raise ``Interrupted`` in the main thread,
  so the ``finally`` blocks of the results machinery run (workers stopped, temporary
  files removed) before the command ends with ``interrupted; ...`` and exit code 128 +
  the signal number.
- ``internal_error``: an exception nobody expected becomes ``error: internal error:
  <type>: <message>; run with --debug for the traceback`` and exit code 3. ``--debug``
  (anywhere on the command line) or ``MENSI_SIM_DEBUG=1`` shows the traceback instead.

Tests assert that no expected bad input reaches ``internal_error``: it is the net under
the net, never the way a known mistake is reported.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import typer

from mensi_sim import interrupts as held_signals

EXIT_INTERNAL = 3
MAX_ERROR_CHARS = 400
DEBUG_FLAG = "--debug"
DEBUG_ENV = "MENSI_SIM_DEBUG"
RESUMABLE_COMMANDS = ("sweep", "sensitivity")

# C0 controls but tab and newline, DEL, C1 controls, and the bidirectional embeddings,
# overrides and isolates that can make a line read differently from what it holds
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class Interrupted(BaseException):
    """Ctrl-C or SIGTERM: not an ``Exception``, so no ``except Exception`` swallows it."""

    def __init__(self, signum: int, message: str | None = None) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.message = message  # what the command says of it (None: interrupted_message)

    @classmethod
    def saying(cls, stop: BaseException, message: str) -> Interrupted:
        """``stop`` (an ``Interrupted``, or Python's ``KeyboardInterrupt``: SIGINT) with
        the command's own one line about what is kept."""
        return cls(getattr(stop, "signum", signal.SIGINT), message)


def printable(text: object) -> str:
    """``text`` with every control character written as an escape (``\\x1b``, ``\\u202e``)."""

    def escape(match: re.Match[str]) -> str:
        code = ord(match.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _UNPRINTABLE.sub(escape, str(text))


def clip(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    """``text`` cut to about ``limit`` characters: its start and its end, the middle elided."""
    if len(text) <= limit:
        return text
    tail = limit // 4
    head = limit - tail - 40
    return f"{text[:head]} ... ({len(text) - head - tail:,} characters cut) ... {text[-tail:]}"


def error_line(message: object) -> str:
    """A message as one printable line of at most about MAX_ERROR_CHARS characters."""
    return clip(" ".join(printable(" ".join(str(message).split())).split()))


def split_debug(argv: Sequence[str]) -> tuple[list[str], bool]:
    """The arguments without ``--debug`` (before a ``--``), and whether it was there."""
    args = list(argv)
    end = args.index("--") if "--" in args else len(args)
    debug = DEBUG_FLAG in args[:end]
    kept = [a for a in args[:end] if a != DEBUG_FLAG] + args[end:]
    return kept, debug or os.environ.get(DEBUG_ENV, "") not in ("", "0")


@contextlib.contextmanager
def interrupts() -> Iterator[None]:
    """SIGINT and SIGTERM raise ``Interrupted`` while inside (main thread only); the
    handlers before are restored on leaving.

    Where Python drops the exception (a signal landing in a ``__del__`` or a garbage
    collector callback: Dask has both), it would print "Exception ignored in ..." and a
    traceback; an ``Interrupted`` is dropped quietly instead, since the sweep sends the
    signal again before its next batch (``mensi_sim.interrupts.raise_again_if_lost``).
    Any other such exception is printed as before."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        if not held_signals.hold(signum):  # sent again at the end of a held step
            held_signals.raising(signum)  # sent again if a library swallows the exception
            raise Interrupted(signum)

    unraisable_before = sys.unraisablehook

    def quiet_when_interrupted(unraisable: Any) -> None:
        if not isinstance(unraisable.exc_value, Interrupted):
            unraisable_before(unraisable)

    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s in before:
        signal.signal(s, handler)
    sys.unraisablehook = quiet_when_interrupted
    try:
        yield
    finally:
        for s, h in before.items():
            signal.signal(s, h)
        sys.unraisablehook = unraisable_before
        held_signals.forget_raised()


def interrupted_message(argv: Sequence[str]) -> str:
    """What to say after an interrupt: how to continue where that is possible."""
    command = next((a for a in argv if not a.startswith("-")), "")
    if command in RESUMABLE_COMMANDS:
        return "interrupted; continue with --resume"
    return "interrupted"


def internal_error(exc: BaseException) -> str:
    """The one line of an unexpected exception."""
    message = " ".join(str(exc).split()) or "(no message)"
    return f"internal error: {type(exc).__name__}: {message}; run with --debug for the traceback"


def report_and_exit(line: str, code: int) -> None:
    """Print ``error: <line>`` on stderr and end the process with ``code``."""
    try:
        typer.echo(f"error: {error_line(line)}", err=True)
    finally:
        if _pool_threads_alive():
            _exit_now(code)
        sys.exit(code)


def _pool_threads_alive() -> bool:
    """Whether a process pool's manager thread is still running (an interrupted sweep)."""
    from concurrent.futures import process

    return any(t.is_alive() for t in list(getattr(process, "_threads_wakeups", {})))


def _exit_now(code: int) -> None:
    """End the process without the interpreter's exit handlers. After an interrupted sweep
    has stopped its pool (``ExecutorHandle.abort``: queued runs cancelled, workers
    terminated), concurrent.futures' exit handler still joins the pool's manager thread,
    which can wait for ever on a result pipe whose workers are gone (seen once in this
    session's full test runs: a SIGTERM'd sweep hung at exit, no worker left). Everything a
    sweep keeps is already on disk (each batch atomically), so nothing is lost.

    One exit handler is run first: multiprocessing's finalizers of exit priority >= 0,
    which unlink the pool's named semaphores (``SemLock._cleanup``) and close its queues.
    Skipped, the resource tracker (a process that outlives this one) finds them at its end
    and prints "There appear to be N leaked semaphore objects" after our one line (seen in
    CI). These finalizers wait for nothing; the ones that join threads have priority < 0.
    multiprocessing has no public call for it: ``_run_finalizers(0)`` is what its own exit
    handler (``util._exit_function``) calls first."""
    with contextlib.suppress(Exception):
        from multiprocessing import util

        # first, as its exit handler does: a queue's feeder thread that meets a closed
        # pipe now stays quiet (``util.is_exiting``) instead of printing a traceback
        util._exiting = True
        util._run_finalizers(0)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)
