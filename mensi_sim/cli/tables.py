"""Tables that fit the terminal: ``FitTable`` splits its columns into parts rather than
wrapping a cell.

A sweep's table of eight outcomes, each ``mean [low, high]``, is some 180 characters
wide; rich would squeeze it into an 80-column terminal by wrapping every interval over
two or three lines. A ``FitTable`` never wraps a cell: when it is wider than the space
it is printed in, it prints itself as several tables, each with the first column (the
scenario) and as many further columns as fit, and says so in one line. Printed to a
file or a pipe (no terminal, COLUMNS unset) by a console made by ``whole_when_piped``
(``common.stdout_console``: every command), it is one table, a row per line however wide,
as the README says: a table read by another program keeps its rows whole.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

#: the width of a console on a file or a pipe (``whole_when_piped``): wider than any table,
#: so none is split into parts
UNLIMITED_WIDTH = 10_000


def whole_when_piped(console: Console) -> Console:
    """``console``, laid out ``UNLIMITED_WIDTH`` wide when it prints to a file or a pipe and
    COLUMNS is unset: every table is then one table (in a terminal, or with COLUMNS, a
    table wider than the width is printed in parts)."""
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = UNLIMITED_WIDTH
    return console


class FitTable(Table):
    """A rich Table whose cells never wrap; too wide, it is printed in parts of columns."""

    def _part(self, columns: list[int]) -> Table:
        part = Table(
            box=self.box,
            show_edge=self.show_edge,
            header_style=self.header_style,
            padding=self.padding,
        )
        for i in columns:
            col = self.columns[i]
            part.add_column(col.header, justify=col.justify, no_wrap=True)
        for row in zip(*(list(self.columns[i].cells) for i in columns), strict=True):
            part.add_row(*row)
        return part

    def _width(self, console: Console, options: ConsoleOptions, columns: list[int]) -> int:
        wide = options.update(width=UNLIMITED_WIDTH)
        return Measurement.get(console, wide, self._part(columns)).maximum

    def parts(self, console: Console, options: ConsoleOptions) -> list[list[int]]:
        """The columns of each part: the first column, then as many as fit the width."""
        width = options.max_width
        groups: list[list[int]] = []
        current = [0]
        for i in range(1, len(self.columns)):
            if len(current) > 1 and self._width(console, options, [*current, i]) > width:
                groups.append(current)
                current = [0]
            current.append(i)
        groups.append(current)
        return groups

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        everything = list(range(len(self.columns)))
        if len(everything) < 3 or self._width(console, options, everything) <= options.max_width:
            yield self._part(everything)
            return
        groups = self.parts(console, options)
        yield from _with_note(
            [self._part(g) for g in groups],
            f"(wider than {options.max_width} columns: in {len(groups)} parts, each starting "
            f"with the {self.columns[0].header} column)",
        )


def _with_note(tables: list[Table], note: str) -> Iterator[Table | Text]:
    yield Text(note, style="dim")
    yield from tables
