"""To a file or a pipe (COLUMNS unset) every command prints each table whole, a row per line
however wide (``cli.common.stdout_console`` through ``tables.whole_when_piped``): ``run`` and
``scenarios`` as ``sweep`` and ``compare`` already did. Through the real command in a
subprocess whose stdout is a pipe."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support import REPO, TINY_SCENARIO, write_scenario

from mensi_sim import load_scenario
from mensi_sim.metrics import SUMMARY_OUTCOMES
from mensi_sim.outcomes import format_of
from mensi_sim.results.display import ReadingWeeks

SCENARIOS = REPO / "scenarios"


def _piped(*args: str | Path, cwd: Path) -> str:
    """The command's stdout, read from a pipe, with COLUMNS (and LINES) unset."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    done = subprocess.run(
        [sys.executable, "-m", "mensi_sim.cli", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,  # stdout is a pipe: no terminal
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_scenarios_piped_keeps_each_row_on_one_line(tmp_path: Path) -> None:
    out = _piped("scenarios", "--dir", SCENARIOS, cwd=tmp_path)
    lines = out.splitlines()
    files = sorted(SCENARIOS.glob("*.toml"))
    for path in files:
        rows = [line for line in lines if line.startswith(f" {path.name} ")]
        assert len(rows) == 1, path.name
        assert rows[0].rstrip().endswith(load_scenario(path).description), rows[0]
    # a header, its rule and a row per file: no row continues on a line of its own
    assert len(lines) == 1 + 2 + len(files)
    assert max(len(line.rstrip()) for line in lines) > 120  # wider than the old 120


def test_run_piped_prints_its_table_whole(tmp_path: Path) -> None:
    scenario = write_scenario(tmp_path, TINY_SCENARIO)
    out = _piped("run", scenario, "-r", "2", "--out", tmp_path / "out", cwd=tmp_path)
    assert "wider than" not in out
    week = ReadingWeeks(horizon="week 6", programme_end="week 6")
    lines = out.splitlines()
    for outcome in SUMMARY_OUTCOMES:  # each label with its mean and interval on one line
        label = week.label(format_of(outcome).label)
        row = next((line for line in lines if line.startswith(f" {label} ")), None)
        assert row is not None and (" to " in row or "not reached" in row), (label, out)
