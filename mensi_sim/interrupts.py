"""Interrupts held back for a moment: Ctrl-C and SIGTERM during a step that must not be
cut short.

The command line turns SIGINT and SIGTERM into an exception (``cli.guard``). Raised while
a process pool forks a worker, it leaves a worker the pool does not know yet: the sweep
cannot stop it, exits, and the worker, still starting, prints a traceback when the pool's
semaphore it was to inherit is gone. Inside ``held()``, a handler that calls ``hold``
first only notes the signal; on leaving, the signal is sent again, so the handler acts
as usual, once every worker is known.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

_depth = 0
_pending: list[int] = []


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
