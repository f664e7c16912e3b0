"""What every command of the command line shares: one-line errors, consoles, the default
results folder, number formats and the figure options. Only the command modules import this."""

from __future__ import annotations

import contextlib
import math
import os
import re
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console

from mensi_sim.errors import MensiError

EXIT_FAILED = 1  # validate: some file is invalid; run/sweep: some runs failed
EXIT_BAD_INPUT = 2  # bad input: nothing was written
RESULTS_ROOT = Path("results")
PLAIN_WIDTH = 120  # characters per line of tables when stdout is not a terminal


def one_line(message: object) -> str:
    """A message with its whitespace (newlines included) collapsed to single spaces."""
    return " ".join(str(message).split())


def describe_os_error(exc: OSError) -> str:
    """``<file>: <reason>`` for an OSError, without errno noise."""
    if exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc)


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    """Print ``error: message`` as one line on stderr; return the Exit to raise."""
    typer.echo(f"error: {one_line(message)}", err=True)
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


def stdout_console(width: int | None = None) -> Console:
    """Console on the current stdout: plain text (no colour, no markup) unless a TTY.

    When stdout is a file or a pipe and COLUMNS is unset, tables are laid out ``width``
    (default PLAIN_WIDTH) characters wide rather than rich's 80.
    """
    console = Console(highlight=False, soft_wrap=False, markup=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = width or PLAIN_WIDTH
    return console


def stderr_console() -> Console:
    """Console on stderr for progress bars and warnings (no markup: names are printed as is)."""
    return Console(stderr=True, highlight=False, markup=False)


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


def fmt(value: Any, kind: str) -> str:
    """A number for a table: percent (pct), percentage points (dpct), 1 or 3 decimals
    (num1, num3) or euros (eur); n/a for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return "n/a"
    if kind == "pct":
        return f"{100 * value:.1f}%"
    if kind == "dpct":
        return f"{100 * value:+.1f}pp"
    if kind == "num1":
        return f"{value:.1f}"
    if kind == "num3":
        return f"{value:.3f}"
    if kind == "eur":
        return f"{'-' if value < 0 else ''}€{abs(value):,.0f}"
    return f"{value:g}"


# ---- figures for a paper: --dpi and --size on every command that writes plots ----------
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
