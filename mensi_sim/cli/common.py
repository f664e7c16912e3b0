"""What every command of the command line shares: one-line errors, consoles, progress
bars, tables and the default results folder. Only the command modules import this.

Numbers are written by ``mensi_sim.formats.fmt`` (re-exported here as ``fmt``).
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from mensi_sim.cli.guard import (
    EXIT_INTERNAL,
    Interrupted,
    error_line,
    internal_error,
    interrupted_message,
    interrupts,
    printable,
    report_and_exit,
    split_debug,
)
from mensi_sim.cli.tables import whole_when_piped
from mensi_sim.errors import MensiError
from mensi_sim.formats import fmt

__all__ = [
    "EXIT_BAD_INPUT",
    "at_the_horizon",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "ExecutorOption",
    "WorkersOption",
    "EXIT_INTERNAL",
    "OneLineErrorGroup",
    "command_line",
    "default_out",
    "error_line",
    "fail",
    "fmt",
    "last_line",
    "naming",
    "one_line",
    "progress_bar",
    "simple_table",
    "stderr_console",
    "stdout_console",
    "user_errors",
]

EXIT_FAILED = 1  # validate: some file is invalid; run/sweep: some runs failed
EXIT_BAD_INPUT = 2  # bad input: nothing was written
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as a shell reports it)
RESULTS_ROOT = Path("results")


def one_line(message: object) -> str:
    """A message with its whitespace (newlines included) collapsed to single spaces."""
    return " ".join(str(message).split())


def describe_os_error(exc: OSError) -> str:
    """``<file>: <reason>`` for an OSError, without errno noise."""
    if exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc)


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    """Print ``error: message`` as one line on stderr (``guard.error_line``: printable, cut
    to a sane length); return the Exit to raise."""
    typer.echo(f"error: {error_line(message)}", err=True)
    return typer.Exit(code)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn the errors a user can cause into one line on stderr and exit code 2."""
    try:
        yield
    except MensiError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(describe_os_error(exc)) from None


class PlainConsole(Console):
    """A rich Console that shows control characters in what it prints as escapes
    (``guard.printable``): a name holding ANSI escapes cannot repaint the terminal."""

    def render_str(self, text: str, **options: Any) -> Any:  # noqa: D102 - rich's
        return super().render_str(printable(text), **options)


def stdout_console(width: int | None = None) -> Console:
    """Console on the current stdout: plain text (no colour, no markup) unless a TTY.

    When stdout is a file or a pipe and COLUMNS is unset, every table is printed whole, a
    row per line however wide (``tables.whole_when_piped``: a table read by another program
    keeps its rows); in a terminal, or with COLUMNS, a table wider than the width is printed
    in parts of columns. ``width`` is no longer used (a piped table has no width to fit); it
    is accepted for the commands that still pass it.
    """
    del width
    return whole_when_piped(PlainConsole(highlight=False, soft_wrap=False, markup=False))


def at_the_horizon(res: Any) -> str:
    """``at the horizon (week 156)``: when the ``final_*`` outcomes and the cumulative costs
    of results ``res`` are read (``display.reading_weeks``; without a time series, ``at the
    horizon`` alone)."""
    from mensi_sim.results.display import reading_weeks

    week = reading_weeks(res.timeseries).horizon
    return f"at the horizon ({week})" if week else "at the horizon"


def stderr_console() -> Console:
    """Console on stderr for progress bars and warnings (no markup: names are printed as is)."""
    return PlainConsole(stderr=True, highlight=False, markup=False)


def command_line(ctx: typer.Context) -> list[str]:
    """The command as typed, from the arguments the group's ``main`` saw."""
    obj = ctx.find_root().obj
    argv = obj.get("argv") if isinstance(obj, dict) else None
    return ["mensi-sim", *(argv if argv is not None else sys.argv[1:])]


def folder_name(name: str) -> str:
    """A scenario name made safe as one folder name: anything but letters, digits, '.',
    '_' and '-' becomes '_' (so '../x' or 'a/b' cannot leave or nest under results/)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name).strip(".")
    return safe or "scenario"


def default_out(name: str) -> Path:
    """``results/<name>-<YYYYmmdd-HHMMSS>``; a suffix -2, -3 ... if that exists already."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = RESULTS_ROOT / f"{folder_name(name)}-{stamp}"
    out, k = base, 1
    while out.exists():
        k += 1
        out = base.with_name(f"{base.name}-{k}")
    return out


def last_line(text: object) -> str:
    """The last non-empty line of a text (of a traceback: the exception and its message)."""
    lines = [line for line in str(text).splitlines() if line.strip()]
    return one_line(lines[-1]) if lines else ""


def naming(path: Path, exc: Exception) -> str:
    """The error's message, starting with the file it concerns."""
    message = one_line(exc)
    return message if message.startswith(str(path)) else f"{path}: {message}"


def simple_table(*columns: str) -> Table:
    """A table with a rule under the header; the first column left, the others right.

    No cell wraps (an interval stays on one line); a table wider than the terminal is
    printed in parts of columns, each with the first one (``cli.tables.FitTable``).
    """
    from mensi_sim.cli.tables import FitTable

    table = FitTable(box=box.SIMPLE_HEAD, show_edge=False, header_style="bold")
    for i, c in enumerate(columns):
        table.add_column(c, justify="left" if i == 0 else "right", no_wrap=True)
    return table


@contextlib.contextmanager
def progress_bar(
    err: Console, description: str, unit: str, fields: str = "", total: int | None = None
) -> Iterator[Callable[..., None]]:
    """A rich progress bar on stderr (done, elapsed, time left); hidden when not a terminal.

    Yields ``report(done, total, failed=0)``. ``unit`` names what is counted
    ("replicates", "runs"); ``fields`` is more text after it (e.g. the failures). The bar
    is ``results.progress.progress_bar``'s, gone when done.
    """
    from mensi_sim.results.progress import progress_bar as bar

    options = {"fields": fields} if fields else {}
    with bar(
        description,
        unit,
        total,
        console=err,
        transient=True,
        disable=not err.is_terminal,
        **options,
    ) as report:
        yield report


def _click_exception(name: str) -> type[Exception] | None:
    """A click exception class as the installed typer uses it (typer >= 0.22 vendors click)."""
    base = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
    return getattr(sys.modules[base.__module__], name, None)


_ClickException = _click_exception("ClickException")
_NoArgsIsHelpError = _click_exception("NoArgsIsHelpError")


class OneLineErrorGroup(TyperGroup):
    """Typer's group, except that usage errors are one line ``error: ...`` on stderr."""

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        argv, debug = split_debug(str(a) for a in (sys.argv[1:] if args is None else args))
        obj = extra.setdefault("obj", {})
        if isinstance(obj, dict):
            obj.setdefault("argv", argv)
        try:
            with interrupts():
                rv = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except Interrupted as stop:
            report_and_exit(stop.message or interrupted_message(argv), 128 + stop.signum)
        except _ClickException as exc:  # type: ignore[misc]
            if _NoArgsIsHelpError is not None and isinstance(exc, _NoArgsIsHelpError):
                # the help text (typer's rich help has printed itself already)
                if text := exc.format_message().strip():
                    typer.echo(text)
                sys.exit(0)
            ctx = getattr(exc, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            typer.echo(f"error: {error_line(exc.format_message())}{hint}", err=True)
            sys.exit(exc.exit_code)
        except typer.Abort:
            typer.echo("error: aborted", err=True)
            sys.exit(1)
        except Exception as exc:  # the guard at the top: see mensi_sim.cli.guard
            if debug:
                raise
            report_and_exit(internal_error(exc), EXIT_INTERNAL)
        sys.exit(rv if isinstance(rv, int) else 0)


# ---- figures for a paper: --dpi and --size on every command that writes plots ----------
# the executor and worker options of the commands that run many runs (sensitivity, calibrate)
ExecutorOption = Annotated[
    str | None,
    typer.Option(
        "--executor",
        "-e",
        help="serial, local, dask or tcp://host:port (default: the file's).",
        show_default=False,
    ),
]
WorkersOption = Annotated[int | None, typer.Option(min=1, help="Worker processes.")]

DpiOption = Annotated[
    float | None,
    typer.Option(
        "--dpi",
        min=10,
        max=1200,
        help="Resolution of PNG figures, dots per inch (default 100; 300 for print).",
        show_default=False,
    ),
]
SizeOption = Annotated[
    str | None,
    typer.Option(
        "--size",
        help="Size of every figure, WIDTHxHEIGHT in inches, e.g. 7x3.5 (default: each "
        "figure's own). SVG text stays editable text.",
        show_default=False,
    ),
]
MAX_FIGURE_PIXELS = 20_000  # per side of a raster figure
_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*[xX×]\s*(\d+(?:\.\d*)?|\.\d+)\s*$")


def figure_options(dpi: float | None, size: str | None) -> dict[str, Any]:
    """``{"dpi": ..., "size": (width, height)}`` from ``--dpi`` and ``--size``.

    Raises:
        typer.Exit: A one-line error (exit 2) for a size that is not WIDTHxHEIGHT between
            1 and 50 inches, or a figure of more than MAX_FIGURE_PIXELS on a side.
    """
    inches = None
    if size is not None:
        match = _SIZE.match(size)
        if match is None:
            raise fail(f"--size: expected WIDTHxHEIGHT in inches, e.g. 7x3.5, got {size!r}")
        inches = (float(match[1]), float(match[2]))
        if not all(1.0 <= v <= 50.0 for v in inches):
            raise fail(f"--size: each side must be 1 to 50 inches, got {size!r}")
        side = max(inches) * (dpi or 100.0)
        if side > MAX_FIGURE_PIXELS:
            raise fail(
                f"--size {size} at --dpi {dpi or 100:g} is {side:,.0f} pixels on a side; "
                f"at most {MAX_FIGURE_PIXELS:,}"
            )
    return {"dpi": dpi, "size": inches}
