"""How much memory this machine gives us, and the words for refusing what would not fit.

A valid scenario can still ask for more than any machine has (a ring lattice of two
million schools with degree 10,000 is 10^10 ties, several terabytes); a valid experiment
for more runs than could ever be held (``--replications`` 10^23). The estimates live
with what they estimate (``networks.size``, ``experiments.limits``); this module says
how much memory there is (the physical memory, or the control group's limit when the
process runs in a container, whichever is smaller) and writes the refusal: the estimate,
the limit, and what to change.
"""

from __future__ import annotations

import os
from pathlib import Path

#: share of the machine's memory one run, design or table may take
MEMORY_FRACTION = 0.8
_CGROUP_LIMITS = (
    Path("/sys/fs/cgroup/memory.max"),  # cgroup v2
    Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"),  # cgroup v1
)


def machine_memory() -> int:
    """Bytes of memory this process can use: physical memory, or the cgroup's limit."""
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not on a POSIX system
        total = 16 * 2**30
    for path in _CGROUP_LIMITS:
        try:
            text = path.read_text().strip()
        except OSError:
            continue
        if text.isdigit() and 0 < int(text) < total:
            total = int(text)
    return int(total)


def memory_limit() -> int:
    """Bytes one run, one design or one set of result tables may take."""
    return int(machine_memory() * MEMORY_FRACTION)


def size_text(n_bytes: float) -> str:
    """Bytes in the unit that reads best: ``812 MiB``, ``74.5 GiB``, ``2.3e+06 TiB``."""
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if n_bytes >= scale:
            value = n_bytes / scale
            return f"{value:.3g} {unit}" if value < 1e6 else f"{value:.2g} {unit}"
    return f"{n_bytes / 2**10:.3g} KiB"


def too_big(what: str, n_bytes: float, advice: str) -> str | None:
    """The refusal of ``what`` when its estimated ``n_bytes`` exceed ``memory_limit()``."""
    limit = memory_limit()
    if n_bytes <= limit:
        return None
    return (
        f"{what} needs about {size_text(n_bytes)} of memory, more than the "
        f"{size_text(limit)} this machine allows ({MEMORY_FRACTION:.0%} of "
        f"{size_text(machine_memory())}); {advice}"
    )
