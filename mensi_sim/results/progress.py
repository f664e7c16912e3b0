"""The progress bar of ``simulate(..., progress=True)`` and ``sweep(..., progress=True)``.

rich draws it: in a terminal on stderr, in Jupyter as a live output under the cell
(rich uses ipywidgets there). Asked for, it is always drawn and stays when done,
showing what was run and how long it took; the command line draws the same bar
(``cli.common.progress_bar``), hidden when stderr is not a terminal and gone when done.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["progress_bar", "reporting"]


@contextlib.contextmanager
def progress_bar(
    description: str,
    unit: str,
    total: int | None = None,
    *,
    console: Console | None = None,
    transient: bool = False,
    disable: bool = False,
    fields: str = "{task.fields[note]}",
) -> Iterator[Callable]:
    """A bar counting ``unit`` (replicates, runs): done, elapsed, time left; yields
    ``report(done, total, failed=0)``.

    Args:
        description: Shown first (the scenario or experiment).
        unit: What is counted.
        total: How many, if known (``report`` may change it).
        console: Where to draw (default: stderr, or the notebook's output in Jupyter).
        transient: Remove the bar when done (the command line does).
        disable: Draw nothing (the command line when stderr is not a terminal).
        fields: Text after the unit, a rich template over the task's fields ``note``
            (", 3 failed" when runs failed) and ``failed``.
    """
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
        TextColumn("{task.description}", style="bold", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit + fields, markup=False),
        TimeElapsedColumn(),
        TextColumn("elapsed,"),
        TimeRemainingColumn(),
        TextColumn("left"),
    )
    console = console or Console(stderr=True, highlight=False)
    with Progress(*columns, console=console, transient=transient, disable=disable) as bar:
        task = bar.add_task(description, total=total, failed=0, note="")

        def report(done: int, total: int, failed: int = 0) -> None:
            note = f", {failed} failed" if failed else ""
            bar.update(task, completed=done, total=total, failed=failed, note=note)
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
