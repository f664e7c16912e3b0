"""The words of sweep and compare (the audit's item 7): column headings in words, a
--baseline that is no scenario, the options' help, the shipped experiments listed, and one
table per table to a file or a pipe."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from mensi_sim.cli import app

from .helpers import EXPERIMENTS, write_experiment
from .test_psa import PSA

PIPE = {"COLUMNS": None}  # CliRunner's output is no terminal; no COLUMNS: as to a pipe


@pytest.fixture(scope="module")
def incentives(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The shipped incentives experiment (25 scenarios) for 4 weeks, 2 replicates."""
    out = tmp_path_factory.mktemp("incentives") / "out"
    args = ["sweep", "incentives", "-r", "2", "--steps", "4", "--executor", "serial"]
    swept = CliRunner().invoke(app, [*args, "--out", str(out)], env=PIPE)
    assert swept.exit_code == 0, swept.output
    return out, swept.output


def _table_header(output: str, first: str, after: str = "") -> str:
    text = output[output.index(after) :] if after else output
    return next(line for line in text.splitlines() if line.startswith(f" {first} "))


def test_every_column_heading_is_in_words(incentives) -> None:
    _, output = incentives
    header = _table_header(output, "scenario")
    assert "incentives cost" in header and "cost_incentives" not in header
    assert "dropouts" in header and "_" not in header


def test_a_baseline_that_is_no_scenario_suggests_one_and_says_how_many(incentives) -> None:
    out, _ = incentives
    res = CliRunner().invoke(app, ["compare", str(out), "--baseline", "top_down"], env=PIPE)
    assert res.exit_code == 2
    line = res.output.strip()
    assert line.startswith(f"error: --baseline: no scenario 'top_down' in {out}; ")
    assert "did you mean top_down/none? (none/none, none/funding, " in line
    assert line.endswith(", ... and 13 more of 25 scenarios)") and "\n" not in line
    assert line.count(", ") == 12  # 12 names, then how many more
    typo = CliRunner().invoke(app, ["compare", str(out), "-b", "virtal/none"], env=PIPE)
    assert "did you mean virtual/none" in typo.output


def test_results_baseline_for_says_what_compare_says(incentives) -> None:
    """The same message from Python (``Results.baseline_for``) as from compare, which
    prints it: 12 names and how many more, with the suggestion."""
    from mensi_sim.errors import ResultsError
    from mensi_sim.results import Results

    out, _ = incentives
    res = CliRunner().invoke(app, ["compare", str(out), "--baseline", "top_down"], env=PIPE)
    printed = res.output.strip().removeprefix("error: --baseline: ")
    with pytest.raises(ResultsError) as raised:
        Results.load(out).baseline_for("top_down")
    assert str(raised.value) == printed
    assert printed.endswith(", ... and 13 more of 25 scenarios)")
    assert "; did you mean top_down/none? (" in printed


def test_the_help_shows_the_bracketed_words() -> None:
    wide = {"COLUMNS": "400"}
    text = " ".join(CliRunner().invoke(app, ["compare", "--help"], env=wide).output.split())
    assert "(default: the experiment's [budget] amount)." in text
    assert "(default: the experiment's [uncertainty] wtp)." in text
    assert "experiment's )" not in text and "experiment's  " not in text
    sens = " ".join(CliRunner().invoke(app, ["sensitivity", "--help"], env=wide).output.split())
    assert "Experiment file with [[factors.samples]] (morris and/or sobol)" in sens


def test_sweep_help_names_every_shipped_experiment() -> None:
    text = CliRunner().invoke(app, ["sweep", "--help"], env={"COLUMNS": "400"}).output
    names = sorted(p.stem for p in EXPERIMENTS.glob("*.toml"))
    assert len(names) >= 7
    assert f"or the name of a shipped one ({', '.join(names)})." in " ".join(text.split())


def test_to_a_pipe_each_table_is_one_table(incentives) -> None:
    out, swept = incentives
    compared = CliRunner().invoke(app, ["compare", str(out)], env=PIPE)
    assert compared.exit_code == 0, compared.output
    for output in (swept, compared.output):
        assert "wider than" not in output
    header = _table_header(compared.output, "scenario", after="cost-effectiveness (")
    assert header.split()[-1] == "P(frontier)" and "frontier ICER" in header  # all 8 columns
    assert max(len(line) for line in compared.output.splitlines()) > 200
    # with COLUMNS set (a terminal's width), a wide table is still printed in parts
    narrow = CliRunner().invoke(app, ["compare", str(out)], env={"COLUMNS": "120"})
    assert "(wider than 120 columns: in " in narrow.output


def test_the_effect_is_read_at_the_horizon_and_says_its_week(incentives, tmp_path) -> None:
    out, _ = incentives
    compared = CliRunner().invoke(app, ["compare", str(out), "--by", "country"], env=PIPE)
    assert compared.exit_code == 0, compared.output
    text = compared.output
    assert "effect: schools adopted at the horizon (week 4); ICER = " in text
    assert "within each country (its schools' adoption at the horizon (week 4), " in text
    assert "at the end" not in text
    # test_psa's small PSA of three options on the pilot, for 6 weeks
    spec = write_experiment(tmp_path, PSA.replace("steps = 20", "steps = 6"))
    folder = tmp_path / "psa"
    sweep = CliRunner().invoke(app, ["sweep", str(spec), "--out", str(folder)], env=PIPE)
    assert sweep.exit_code == 0, sweep.output
    psa = CliRunner().invoke(app, ["compare", str(folder)], env=PIPE)
    assert psa.exit_code == 0, psa.output
    assert "; effect: schools adopted at the horizon (week 6)\n" in psa.output
    assert "at the end" not in psa.output
