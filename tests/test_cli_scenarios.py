"""Every shipped scenario runs end to end through the command line (short and small)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import REPO
from typer.testing import CliRunner

from mensi_sim.cli import app
from mensi_sim.results import Results

SHIPPED = sorted((REPO / "scenarios").glob("*.toml"))


def test_scenarios_are_shipped() -> None:
    names = {p.name for p in SHIPPED}
    assert "mensi_pilot.toml" in names  # `make demo` runs it
    assert len(names) >= 2


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_scenario_runs(path: Path, tmp_path: Path) -> None:
    out = tmp_path / "res"
    res = CliRunner().invoke(
        app, ["run", str(path), "--steps", "3", "--replications", "2", "--out", str(out)]
    )
    assert res.exit_code == 0, res.stdout + res.stderr
    assert "Adoption share at the horizon" in res.stdout
    back = Results.load(out)
    assert set(back.runs["status"]) == {"ok"}
    assert back.timeseries["step"].max() == 3
    assert len(back.summary) == 2
    assert (out / "adoption_cost.png").stat().st_size > 0
