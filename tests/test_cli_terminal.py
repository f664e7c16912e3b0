"""The command line for the people who use it (issue 12): tables that fit an 80-column
terminal without wrapping an interval, no interval from one replicate (and why), and
``sweep --overwrite`` as ``run --overwrite``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rich.console import Console
from support import REPO
from typer.testing import CliRunner

from mensi_sim.cli import app
from mensi_sim.cli.common import simple_table

INTERVAL = re.compile(r"\[[^\[\]]*\]")
STRUCTURES = REPO / "experiments" / "structures.toml"


def invoke(*args: str | Path, columns: int | None = None):
    env = {"COLUMNS": str(columns)} if columns else {}
    return CliRunner().invoke(app, [str(a) for a in args], env=env)


def table_lines(output: str) -> list[str]:
    """The lines of the tables: rows holding an interval and the rules under the headers."""
    return [line for line in output.splitlines() if INTERVAL.search(line) or "───" in line]


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """The shipped structures experiment, shortened, swept at 80 columns; and compared."""
    out = tmp_path_factory.mktemp("terminal") / "structures"
    common = ("-r", "3", "--steps", "6", "--executor", "serial", "--out", out)
    swept = invoke("sweep", STRUCTURES, *common, columns=80)
    assert swept.exit_code == 0, swept.output
    compared = invoke("compare", out, columns=80)
    assert compared.exit_code == 0, compared.output
    return out, swept.output, compared.output


def test_a_wide_table_is_printed_in_parts_that_fit() -> None:
    table = simple_table("scenario", *(f"outcome {i}" for i in range(8)))
    for name in ("none", "top_down", "a_longer_scenario_name"):
        table.add_row(name, *("€1,087,046 [€1,072,737, €1,101,356]" for _ in range(8)))
    narrow = Console(width=80, record=True, color_system=None)
    narrow.print(table)
    text = narrow.export_text()
    lines = text.splitlines()
    assert lines[0].startswith("(wider than 80 columns: in ")
    assert max(len(line.rstrip()) for line in lines) <= 80
    # every cell is whole: 8 columns x 3 rows of intervals, none cut or wrapped
    assert len(INTERVAL.findall(text)) == 24
    assert all(line.count("[") == line.count("]") for line in lines)
    # each part starts with the scenario column, whose names all appear in every part
    parts = int(re.match(r"\(wider than 80 columns: in (\d+) parts", lines[0])[1])
    headers = [line for line in lines if line.startswith(" scenario ")]
    assert len(headers) == parts > 1 and text.count("a_longer_scenario_name") == parts
    wide = Console(width=400, record=True, color_system=None)
    wide.print(table)
    one = wide.export_text()
    assert "wider than" not in one
    assert len(one.splitlines()) == 2 + 3  # header, rule, three rows: one table


def test_sweep_and_compare_fit_80_columns(swept) -> None:
    _, sweep_output, compare_output = swept
    assert "(wider than 80 columns: in " in sweep_output
    for output in (sweep_output, compare_output):
        lines = table_lines(output)
        assert lines, output
        assert max(len(line.rstrip()) for line in lines) <= 80, output
        assert all(line.count("[") == line.count("]") for line in lines), output


def test_one_replicate_prints_no_interval_and_says_why(tmp_path: Path) -> None:
    ran = invoke("run", "mensi_pilot", "-r", "1", "--steps", "4", "--out", tmp_path / "run")
    assert ran.exit_code == 0, ran.output
    assert "mensi_pilot: 1 replicate x 4 weeks" in ran.output
    table = ran.output.split("results:")[0]
    assert "95% CI" not in table and not re.search(r"\d%? to -?€?\d", table)
    assert "no confidence intervals: one replicate gives no spread" in ran.output
    common = ("-r", "1", "--steps", "4", "--executor", "serial", "--out", tmp_path / "sweep")
    swept = invoke("sweep", STRUCTURES, *common)
    assert swept.exit_code == 0, swept.output
    assert "n/a" not in swept.output and "[" not in swept.output.split("results:")[0]
    assert "no confidence intervals: one replicate gives no spread" in swept.output
    compared = invoke("compare", tmp_path / "sweep")
    assert compared.exit_code == 0, compared.output
    assert "no paired intervals: one replicate per scenario" in compared.output


def test_sweep_overwrite_replaces_a_results_directory_only(swept, tmp_path: Path) -> None:
    out = tmp_path / "structures"
    common = ("-r", "2", "--steps", "3", "--executor", "serial", "--out", out)
    assert invoke("sweep", STRUCTURES, *common).exit_code == 0
    again = invoke("sweep", STRUCTURES, *common)
    assert again.exit_code == 2 and "--overwrite to replace it" in again.output
    (out / "leftover.txt").write_text("from before")
    replaced = invoke("sweep", STRUCTURES, *common[:-2], "--out", out, "--overwrite")
    assert replaced.exit_code == 0, replaced.output
    assert not (out / "leftover.txt").exists()  # the old directory went, whole
    both = invoke("sweep", STRUCTURES, *common, "--overwrite", "--resume")
    assert both.exit_code == 2 and "give one" in both.output
    other = tmp_path / "notes"
    other.mkdir()
    (other / "mine.txt").write_text("keep me")
    refused = invoke("sweep", STRUCTURES, *common[:-2], "--out", other, "--overwrite")
    assert refused.exit_code == 2 and "not a results directory" in refused.output
    assert (other / "mine.txt").read_text() == "keep me"
