"""The sweep, compare and sensitivity commands, on a fresh app and on mensi-sim's own."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import typer
from support import sensitivity_experiment
from typer.testing import CliRunner

from mensi_sim.cli.experiment_commands import register

from .helpers import PILOT, SMALL, write_experiment

TINY_SENSITIVITY = sensitivity_experiment(PILOT)


def fresh_app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def real_app() -> typer.Typer:
    from mensi_sim.cli import app

    return app


APPS = [pytest.param(fresh_app, id="fresh"), pytest.param(real_app, id="mensi-sim")]


@pytest.mark.parametrize("make", APPS)
def test_help_lists_options(make) -> None:
    runner = CliRunner()
    app = make()
    for command, option in [
        ("sweep", "--resume"),
        ("compare", "--baseline"),
        ("sensitivity", "--replications"),
    ]:
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0 and option in result.output


@pytest.mark.parametrize("make", APPS)
def test_sweep_then_compare(make, tmp_path: Path) -> None:
    exp = write_experiment(tmp_path, SMALL)
    out = tmp_path / "res"
    runner = CliRunner()
    result = runner.invoke(make(), ["sweep", str(exp), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "small: 2 scenarios, 6 runs x 10 weeks" in result.output
    assert "slow" in result.output and "fast" in result.output
    result = runner.invoke(make(), ["compare", str(out)])
    assert result.exit_code == 0, result.output
    assert "paired differences against 'slow'" in result.output  # first scenario by default
    table = pd.read_parquet(out / "comparison.parquet")
    assert set(table["scenario"]) == {"slow", "fast"}
    result = runner.invoke(make(), ["compare", str(out), "--baseline", "fast", "--budget", "1e6"])
    assert result.exit_code == 0, result.output
    assert "at a budget of €1,000,000" in result.output
    result = runner.invoke(make(), ["compare", str(out), "--baseline", "nope"])
    assert result.exit_code == 2 and "error: --baseline: no scenario 'nope'" in result.output


def test_compare_leaves_out_a_censored_time_to_half_adoption(tmp_path: Path) -> None:
    # 10 weeks of the pilot: no run reaches 50% adoption, so every "weeks to 50%" is the
    # run length and its paired difference (0 [0, 0]) would say what no run measured
    exp = write_experiment(tmp_path, SMALL)
    out = tmp_path / "res"
    runner = CliRunner()
    assert runner.invoke(fresh_app(), ["sweep", str(exp), "--out", str(out)]).exit_code == 0
    result = runner.invoke(fresh_app(), ["compare", str(out)], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert "weeks to 50% not compared: censored at 10 weeks in 6 of 6 runs" in result.output
    paired = result.output.split("paired differences", 1)[1].split("p-values", 1)[0]
    headings = [line for line in paired.splitlines() if line.startswith(" scenario")]
    assert headings and all("weeks to 50%" not in line for line in headings)
    assert any("adoption" in line for line in headings)
    assert "weeks_to_half_adoption_difference" in pd.read_parquet(out / "comparison.parquet")


def test_time_to_half_adoption_is_compared_when_every_run_reaches_it() -> None:
    from mensi_sim.analysis import COMPARE_OUTCOMES
    from mensi_sim.cli.experiment_commands import _uncensored_outcomes

    summary = pd.DataFrame({"half_adoption_reached": [True, True, True]})
    assert _uncensored_outcomes(summary, COMPARE_OUTCOMES, 52) == (list(COMPARE_OUTCOMES), "")
    summary.loc[1, "half_adoption_reached"] = False
    shown, note = _uncensored_outcomes(summary, COMPARE_OUTCOMES, 52)
    assert "weeks_to_half_adoption" not in shown and len(shown) == len(COMPARE_OUTCOMES) - 1
    assert note == (
        "weeks to 50% not compared: censored at 52 weeks in 1 of 3 runs (50% adoption reached in 2)"
    )


def test_sweep_draws_figures_only_when_asked(tmp_path: Path) -> None:
    # a sweep draws nothing unless asked; --plots, or a
    # figure option, writes the basic figures into the results directory
    exp = write_experiment(tmp_path, SMALL)
    runner = CliRunner()
    plain = tmp_path / "plain"
    result = runner.invoke(fresh_app(), ["sweep", str(exp), "--out", str(plain)])
    assert result.exit_code == 0, result.output
    assert not list(plain.glob("*.png")) and "plots:" not in result.output
    for flag, out in ((["--plots"], tmp_path / "drawn"), (["--dpi", "50"], tmp_path / "dpi")):
        result = runner.invoke(fresh_app(), ["sweep", str(exp), "--out", str(out), *flag])
        assert result.exit_code == 0, result.output
        assert (out / "adoption.png").stat().st_size > 0 and (out / "adoption.svg").exists()
        assert "plots: adoption" in result.output


def test_sweep_with_precision_reports_replications(tmp_path: Path) -> None:
    exp = write_experiment(tmp_path, SMALL)
    result = CliRunner().invoke(
        fresh_app(),
        [
            "sweep",
            str(exp),
            "--out",
            str(tmp_path / "r"),
            "--precision",
            "0.01",
            "--max-replications",
            "8",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "adaptive replications: 95% CI half-width of final_adoption_share <= 0.01" in (
        result.output
    )


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = write_experiment(tmp_path, SMALL.replace("replications = 3", "replications = -1"))
    result = runner.invoke(fresh_app(), ["sweep", str(bad)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and result.output.startswith(f"error: {bad}: ")
    result = runner.invoke(fresh_app(), ["compare", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "not a results directory" in result.output
    result = runner.invoke(fresh_app(), ["sensitivity", str(write_experiment(tmp_path, SMALL))])
    assert result.exit_code == 2 and "no morris or sobol sample" in result.output


def test_sensitivity_command(tmp_path: Path) -> None:
    exp = write_experiment(tmp_path, TINY_SENSITIVITY)
    out = tmp_path / "sens"
    result = CliRunner().invoke(fresh_app(), ["sensitivity", str(exp), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "morris - final_adoption_share" in result.output
    assert "sobol - final_adoption_share" in result.output
    table = pd.read_parquet(out / "sensitivity.parquet")
    assert set(table["method"]) == {"morris", "sobol"}
    assert set(table["index"]) == {"mu_star", "sigma", "mu", "S1", "ST"}
    assert set(table["parameter"]) == {"adoption.p", "learning.rate", "dummy"}  # + the dummy
    # 2 replicates of 3 weeks: replicate noise dominates, and the command says so
    assert "warning:" in result.output and "add replications" in result.output
