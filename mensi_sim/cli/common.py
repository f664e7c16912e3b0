"""What every command of the command line shares: one-line errors, consoles, the default
results folder and number formats. Only the command modules import this."""

from __future__ import annotations

import contextlib
import math
import os
import re
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

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
