"""Interrupts held back for a moment: Ctrl-C and SIGTERM during a step that must not be
cut short.

The command line turns SIGINT and SIGTERM into an exception (``cli.guard``). Raised while
a process pool forks a worker, it leaves a worker the pool does not know yet: the sweep
cannot stop it, exits, and the worker, still starting, prints a traceback when the pool's
semaphore it was to inherit is gone. Inside ``held()``, a handler that calls ``hold``
first only notes the signal; on leaving, the signal is sent again, so the handler acts
as usual, once every worker is known.

An exception raised by a signal handler is lost when the signal lands while Python runs
a garbage-collector callback or a ``__del__`` (it prints "Exception ignored in ..." and
goes on; seen with Dask's GC diagnostics: a Ctrl-C the sweep never heard). A handler
that raises calls ``raising`` first; the loops that wait for runs call
``raise_again_if_lost`` between batches, which sends the signal again if its exception
was lost (an exception that propagates ends the command, so nothing calls it then).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

_depth = 0
_pending: list[int] = []
_raised: list[int] = []  # signals whose exception was raised and may have been swallowed


def hold(signum: int) -> bool:
    """For a signal handler: True when the signal is noted for later (inside ``held``)."""
    if _depth and threading.current_thread() is threading.main_thread():
        _pending.append(signum)
        return True
    return False


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back while inside; the first one noted is sent on leaving."""
    global _depth
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if not _depth and _pending:
            signum = _pending[0]
            _pending.clear()
            signal.raise_signal(signum)


def raising(signum: int) -> None:
    """For a signal handler, just before it raises: note that it did (``raise_again_if_lost``)."""
    _raised.append(signum)


def raise_again_if_lost() -> None:
    """Send again a signal whose handler raised but whose exception never arrived (it was
    swallowed, as Python swallows any exception raised in a garbage-collector callback)."""
    if _raised and threading.current_thread() is threading.main_thread():
        signum = _raised[-1]
        _raised.clear()
        signal.raise_signal(signum)


def forget_raised() -> None:
    """When a handler that raises is uninstalled: its signals were heard."""
    _raised.clear()
