"""The progress bar of ``simulate(..., progress=True)`` and ``sweep(..., progress=True)``.

rich draws it: in a terminal on stderr, in Jupyter as a live output under the cell
(rich uses ipywidgets there). The command line has its own bar (``cli.common``), hidden
when stderr is not a terminal; this one is asked for, so it is always drawn, and it
stays when done, showing what was run and how long it took.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

__all__ = ["progress_bar", "reporting"]


@contextlib.contextmanager
def progress_bar(description: str, unit: str, total: int | None = None) -> Iterator[Callable]:
    """A bar counting ``unit`` (replicates, runs); yields ``report(done, total, failed=0)``."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit + "{task.fields[note]}", markup=False),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True, highlight=False)) as bar:
        task = bar.add_task(description, total=total, note="")

        def report(done: int, total: int, failed: int = 0) -> None:
            note = f", {failed} failed" if failed else ""
            bar.update(task, completed=done, total=total, note=note)
            if done >= total:
                bar.refresh()  # the last state is drawn, however quick the work was

        yield report


@contextlib.contextmanager
def reporting(
    progress: bool | Callable | None, description: str, unit: str, total: int | None = None
) -> Iterator[Callable | None]:
    """What a ``progress`` argument asks for: ``True`` a bar, a callable itself, else None."""
    if progress is True:
        with progress_bar(description, unit, total) as report:
            yield report
    else:
        yield progress or None
