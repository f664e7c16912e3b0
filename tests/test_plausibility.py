"""The documented range of what real programmes cost per participating school and year
(ASSUMPTIONS 8.5), and the note a run outside it gets next to its numbers."""

from __future__ import annotations

import math
from pathlib import Path

from typer.testing import CliRunner

from mensi_sim.cli import app
from mensi_sim.plausibility import DOCUMENTED_RANGE, outside_documented_range

REPO = Path(__file__).resolve().parents[1]
INSIDE = {"cash_per_participant_year": 1061.0, "staff_hours_per_participant_year": 70.0,
          "cost_per_participant_year": 2697.0}  # fmt: skip  # the shipped pilot


def test_the_pilot_is_inside_and_gets_no_note():
    assert outside_documented_range(INSIDE) == []


def test_each_bound_is_named_with_the_side_it_is_on():
    for outcome, (low, high, _) in DOCUMENTED_RANGE.items():
        above = outside_documented_range({**INSIDE, outcome: high * 1.5}, "x")
        below = outside_documented_range({**INSIDE, outcome: low / 2}, "x")
        assert len(above) == len(below) == 1
        assert " is above the range real programmes show " in above[0]
        assert " is below the range real programmes show " in below[0]
        assert above[0].startswith("note: x: ") and "docs/ASSUMPTIONS.md 8.5" in above[0]
        # the bounds themselves are inside
        assert outside_documented_range({**INSIDE, outcome: low}) == []
        assert outside_documented_range({**INSIDE, outcome: high}) == []
    (cash,) = outside_documented_range({**INSIDE, "cash_per_participant_year": 4559.0})
    assert "cash per participating school and programme year €4,559" in cash
    assert "(€200-2,500, " in cash


def test_a_run_without_a_programme_has_nothing_to_note():
    assert outside_documented_range({k: 0.0 for k in DOCUMENTED_RANGE}) == []
    assert outside_documented_range({k: math.nan for k in DOCUMENTED_RANGE}) == []


def test_run_prints_the_note_beside_its_table(tmp_path: Path):
    # the pilot paying each participant EUR 6,000 a school-year of funding: its cash per
    # school-year is about 1,061 + 6,000, above the documented EUR 2,500
    text = (REPO / "scenarios" / "mensi_pilot.toml").read_text()
    text += '\n[[incentives]]\ntype = "funding"\ntarget = "participants"\namount = 6000.0\n'
    path = tmp_path / "funded.toml"
    path.write_text(text)
    out = tmp_path / "res"
    res = CliRunner().invoke(app, ["run", str(path), "-r", "2", "--steps", "20", "--out", str(out)])
    assert res.exit_code == 0, res.output
    notes = [line for line in res.stdout.splitlines() if line.startswith("note: ")]
    assert any("cash per participating school and programme year" in n for n in notes), notes
    # the shipped pilot itself: no note
    plain = CliRunner().invoke(
        app,
        ["run", str(REPO / "scenarios" / "mensi_pilot.toml"), "-r", "2", "--steps", "20",
         "--out", str(tmp_path / "plain")],
    )  # fmt: skip
    assert plain.exit_code == 0 and "note: " not in plain.stdout, plain.stdout


def test_sweep_notes_each_scenario_outside_the_range(tmp_path: Path):
    # the shipped incentives experiment at 20 weeks: funding pays EUR 3,000 a school-year
    # on top of the programme's own cash, above the documented EUR 2,500, in every
    # structure; the arms without an incentive stay inside
    out = tmp_path / "sw"
    res = CliRunner().invoke(
        app,
        ["sweep", str(REPO / "experiments" / "incentives.toml"), "-r", "2", "--steps", "20",
         "-e", "serial", "--out", str(out)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    notes = [line for line in res.stdout.splitlines() if line.startswith("note: ")]
    cash = [n for n in notes if "cash per participating school" in n]
    assert {n.split(":")[1].strip() for n in cash} >= {
        f"{s}/funding" for s in ("top_down", "bottom_up", "virtual", "hybrid")
    }
    assert not any("/none:" in n for n in notes), notes
