"""The command line: run, validate and scenarios, in-process and as a real subprocess."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support import IMPOSSIBLE_SCENARIO as IMPOSSIBLE
from support import REPO, TINY_SCENARIO, write_scenario
from typer.testing import CliRunner

from mensi_sim.cli import app
from mensi_sim.results import Results

RESULT_FILES = {
    ".mensi_sim",  # the mark of a folder mensi_sim wrote (experiments.marker)
    "timeseries.parquet",
    "summary.parquet",
    "group_summary.parquet",
    "runs.parquet",
    "manifest.json",
    "adoption_cost.png",
}
HEADLINE_LABELS = (
    "Adoption share at the horizon",
    "Adoption share at the programme's end",
    "Weeks to 50% adoption",
    "Capacity gain",
    "Equity gap at the horizon",
    "Cash spent (programme)",
    "Staff time (opportunity cost)",
    "Total cost (cash + staff time)",
    "Total cost per adopter at the horizon (not additional)",
)

# the basic figures `run` writes besides the tables (PNG and SVG each)
BASIC_PLOTS = {"adoption", "adoption_cost", "capacity_equity", "cost_over_time"}


def assert_result_files(out: Path) -> None:
    """The tables, the manifest, adoption_cost.png and the basic plots; nothing else."""
    names = {p.name for p in out.iterdir()}
    expected = RESULT_FILES | {f"{s}.{x}" for s in BASIC_PLOTS for x in ("png", "svg")}
    assert names == expected, names ^ expected


def invoke(*args: str):
    """Run the app in-process; stdout and stderr are kept apart."""
    return CliRunner().invoke(app, [str(a) for a in args])


def assert_headline_labels(stdout: str, weeks: int) -> None:
    """Each headline label in ``stdout``, dated with the week it is read at (the tiny runs
    end before the programme does, so the horizon and the programme's end are one week);
    the table's cells wrap, so the words are compared with the lines' spaces squeezed."""
    text = " ".join(stdout.split())
    for label in HEADLINE_LABELS:
        for when in ("at the horizon", "at the programme's end"):
            label = label.replace(when, f"{when}, week {weeks}")
        words = r"\s+(?:\S+\s+)*?".join(re.escape(w) for w in label.split())
        assert re.search(words, text), label


def subprocess_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m mensi_sim.cli`` as a real process, independent of any venv."""
    return subprocess.run(
        [sys.executable, "-m", "mensi_sim.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def assert_one_error_line(stderr: str, *needles: str) -> None:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


# --- run ---------------------------------------------------------------------------


def test_run_writes_results_and_prints_the_headline(tiny_scenario_file: Path, tmp_path) -> None:
    out = tmp_path / "res"
    res = invoke("run", tiny_scenario_file, "--replications", "2", "--steps", "4", "--out", out)
    assert res.exit_code == 0, res.output + res.stderr
    assert_result_files(out)
    assert_headline_labels(res.stdout, 4)
    assert "95% CI" in res.stdout
    # 4 weeks: no replicate brings half the schools to the practice, and the table says
    # so instead of a mean of the run length with an interval of zero width
    (weeks,) = [line for line in res.stdout.splitlines() if "Weeks to 50%" in line]
    assert weeks.split()[-3:] == ["4", "not", "reached"] and ">" in weeks, weeks
    assert "reached in 0 of 2 replicates" in res.stdout
    assert f"results: {out}" in res.stdout
    assert "\x1b[" not in res.stdout  # plain text when not a terminal
    back = Results.load(out)
    assert back.timeseries["step"].max() == 4
    assert len(back.summary) == 2
    assert set(back.runs["status"]) == {"ok"}
    m = back.manifest
    assert m["replications"] == 2 and m["root_seed"] == 0 and m["steps"] == 4
    assert m["command_line"].startswith("mensi-sim run ")
    assert "--steps 4" in m["command_line"]
    assert m["scenario_hash"] == back.runs["scenario_hash"].iloc[0]


def test_run_table_says_the_week_of_the_horizon_and_of_the_programmes_end(tmp_path) -> None:
    # 8 weeks, the programme ending after week 3: "at the end" would be either
    text = TINY_SCENARIO.replace("steps = 6", "steps = 8") + "\n[programme]\nend_week = 3\n"
    res = invoke("run", write_scenario(tmp_path, text), "-r", "2", "--out", tmp_path / "res")
    assert res.exit_code == 0, res.output + res.stderr
    labels = [line.split("  ")[0].strip() for line in res.stdout.splitlines()]
    assert "Adoption share at the horizon, week 8" in labels
    assert "Adoption share at the programme's end, week 3" in labels
    assert "Equity gap at the horizon, week 8 (0-1 scale)" in labels


def test_run_table_fits_80_columns_with_every_number_whole(tmp_path) -> None:
    # the pilot's labels with their weeks are long: a label wraps, no number is cut
    pilot = REPO / "scenarios" / "mensi_pilot.toml"
    res = CliRunner().invoke(
        app, ["run", str(pilot), "-r", "2", "--out", str(tmp_path / "res")], env={"COLUMNS": "80"}
    )
    assert res.exit_code == 0, res.output
    table = res.stdout.split("weeks to 50% adoption are censored")[0]
    assert "…" not in table, table
    assert max(len(line.rstrip()) for line in table.splitlines()) <= 80, table
    assert re.search(r"Cash spent \(programme\) +€\d{3},\d{3} +€\d{3},\d{3} to €\d{3},\d{3}", table)


def test_run_default_out_is_under_results(tiny_scenario_file: Path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = invoke("run", tiny_scenario_file, "-r", "1", "--steps", "2")
    second = invoke("run", tiny_scenario_file, "-r", "1", "--steps", "2")
    assert first.exit_code == 0 and second.exit_code == 0, first.stderr + second.stderr
    dirs = sorted((tmp_path / "results").iterdir())
    assert len(dirs) == 2  # two runs in the same second do not collide
    assert all(d.name.startswith("tiny-") for d in dirs)
    assert_result_files(dirs[0])


def test_run_same_seed_same_results(tiny_scenario_file: Path, tmp_path) -> None:
    for name in ("a", "b"):
        res = invoke("run", tiny_scenario_file, "-r", "2", "-s", "5", "--out", tmp_path / name)
        assert res.exit_code == 0, res.stderr
    a, b = Results.load(tmp_path / "a"), Results.load(tmp_path / "b")
    assert a.timeseries.equals(b.timeseries)


def test_run_refuses_an_existing_directory_before_simulating(tiny_scenario_file, tmp_path):
    out = tmp_path / "res"
    assert invoke("run", tiny_scenario_file, "-r", "1", "--steps", "2", "--out", out).exit_code == 0
    res = invoke("run", tiny_scenario_file, "-r", "1", "--steps", "2", "--out", out)
    assert res.exit_code == 2
    assert_one_error_line(res.stderr, str(out), "--overwrite")
    res = invoke("run", tiny_scenario_file, "-r", "1", "--steps", "3", "--out", out, "--overwrite")
    assert res.exit_code == 0, res.stderr
    assert Results.load(out).manifest["steps"] == 3


def test_run_impossible_structure_fails_cleanly(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, IMPOSSIBLE, "impossible.toml")
    out = tmp_path / "out" / "res"
    res = invoke("run", path, "--out", out)
    assert res.exit_code == 2
    assert_one_error_line(res.stderr, "impossible.toml", "mentors_per_region")
    assert res.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["impossible.toml"]


def test_run_unwritable_out_dir(tiny_scenario_file: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    res = invoke("run", tiny_scenario_file, "-r", "1", "--out", blocker / "res")
    assert res.exit_code == 2
    assert_one_error_line(res.stderr, "not a directory")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--replications", "0"], "--replications"),
        (["--replications", "many"], "--replications"),
        (["--steps", "0"], "--steps"),
        (["--steps", "99999"], "time.steps"),
        (["--no-such-option"], "--no-such-option"),
    ],
)
def test_run_bad_options(tiny_scenario_file: Path, tmp_path: Path, args, needle) -> None:
    res = invoke("run", tiny_scenario_file, "--out", tmp_path / "res", *args)
    assert res.exit_code == 2
    assert_one_error_line(res.stderr, needle)
    assert not (tmp_path / "res").exists()


def test_run_as_a_subprocess(tiny_scenario_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "res"
    done = subprocess_cli("run", tiny_scenario_file, "-r", "2", "--steps", "3", "--out", out)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert_result_files(out)
    assert_headline_labels(done.stdout, 3)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command_line"].startswith(f"mensi-sim run {tiny_scenario_file}")


def test_impossible_structure_as_a_subprocess(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, IMPOSSIBLE, "impossible.toml")
    done = subprocess_cli("run", path, "--out", tmp_path / "res")
    assert done.returncode == 2
    assert_one_error_line(done.stderr, "impossible.toml", "mentors_per_region")
    assert not (tmp_path / "res").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["impossible.toml"]


# --- validate ----------------------------------------------------------------------

BAD_FILES = {
    "bad_toml.toml": ("name = 'x'\n[time\nsteps = 3\n", "not valid TOML"),
    "unknown_key.toml": ("[adoption]\nq = 0.01\nqq = 0.5\n", "adoption.qq"),
    "out_of_range.toml": ("[adoption]\np = 1.5\n", "adoption.p"),
    "wrong_type.toml": ("[population]\nn_schools = 'many'\n", "population.n_schools"),
    "impossible.toml": (IMPOSSIBLE, "network.mentors_per_region"),
}


@pytest.mark.parametrize("name", [*BAD_FILES, "missing.toml"])
def test_validate_bad_file(tmp_path: Path, name: str) -> None:
    if name == "missing.toml":
        path, needle = tmp_path / name, "file not found"
    else:
        text, needle = BAD_FILES[name]
        path = write_scenario(tmp_path, text, name)
    res = invoke("validate", path)
    assert res.exit_code == 1
    assert_one_error_line(res.stderr, name, needle)
    assert res.stdout == ""


def test_validate_reports_every_file_as_a_subprocess(tmp_path: Path) -> None:
    good = write_scenario(tmp_path, TINY_SCENARIO, "good.toml")
    bad = [write_scenario(tmp_path, text, name) for name, (text, _) in BAD_FILES.items()]
    done = subprocess_cli("validate", good, *bad, tmp_path / "missing.toml")
    assert done.returncode == 1
    assert done.stdout.strip() == f"ok {good} (tiny: top_down, 30 schools, 6 weeks)"
    lines = done.stderr.splitlines()
    assert "Traceback" not in done.stderr
    assert len(lines) == len(BAD_FILES) + 1
    for line, (name, (_, needle)) in zip(lines, BAD_FILES.items(), strict=False):
        assert line.startswith(f"error: {tmp_path / name}: ") and needle in line, line
    assert lines[-1] == f"error: {tmp_path / 'missing.toml'}: file not found"


def test_validate_without_build_skips_the_network(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, IMPOSSIBLE, "impossible.toml")
    res = invoke("validate", "--no-build", path)
    assert res.exit_code == 0, res.stderr
    assert res.stdout.startswith(f"ok {path} (impossible: top_down, 3 schools, 156 weeks)")


# --- scenarios and help ------------------------------------------------------------


def test_scenarios_lists_the_shipped_files() -> None:
    folder = REPO / "scenarios"
    res = invoke("scenarios", "--dir", folder)
    assert res.exit_code == 0, res.stderr
    shipped = sorted(folder.glob("*.toml"))
    assert shipped
    for path in shipped:
        assert path.name in res.stdout


def test_scenarios_shows_descriptions_and_flags_invalid_files(tmp_path: Path) -> None:
    write_scenario(tmp_path, TINY_SCENARIO, "a.toml")
    write_scenario(tmp_path, "[adoption]\np = 7\n", "b.toml")
    res = invoke("scenarios", "--dir", tmp_path)
    assert res.exit_code == 1
    assert "Tiny test scenario" in res.stdout
    assert "invalid" in res.stdout


def test_scenarios_missing_folder(tmp_path: Path) -> None:
    res = invoke("scenarios", "--dir", tmp_path / "nope")
    assert res.exit_code == 2
    assert_one_error_line(res.stderr, "nope")


@pytest.mark.parametrize("command", [[], ["run"], ["validate"], ["scenarios"]])
def test_every_command_has_help(command: list[str]) -> None:
    res = invoke(*command, "--help")
    assert res.exit_code == 0
    assert "Usage" in res.stdout


def test_unknown_command_is_one_line() -> None:
    res = invoke("sweeep")
    assert res.exit_code == 2
    assert_one_error_line(res.stderr, "sweeep")


# --- failed replicates (simulate records them in runs) ------------------------------

# the module (``mensi_sim.simulate`` as an attribute is the function, re-exported)
mensi_simulate = importlib.import_module("mensi_sim.simulate")


def _with_failures(result: Results, n_failed: int) -> Results:
    """A copy of a simulate() Results whose first n_failed runs are recorded as failed."""
    runs = result.runs.copy()
    runs.loc[: n_failed - 1, "status"] = "failed"
    runs.loc[: n_failed - 1, "error"] = "Traceback (most recent call last):\n ...\nValueError: boom"
    return Results(
        result.timeseries, result.summary, runs, scenario=result.scenario, seed=result.seed
    )


def test_run_all_replicates_failed(tiny_result, tiny_scenario_file, tmp_path, monkeypatch):
    failing = _with_failures(tiny_result, len(tiny_result.runs))
    monkeypatch.setattr(mensi_simulate, "simulate", lambda *a, **k: failing)
    res = invoke("run", tiny_scenario_file, "--out", tmp_path / "res")
    assert res.exit_code == 2
    assert_one_error_line(res.stderr, "tiny.toml", "all 3 replicates failed: ValueError: boom")
    assert not (tmp_path / "res").exists()


def test_ctrl_c_ends_a_run_writing_nothing(tiny_scenario_file, tmp_path, monkeypatch):
    # Ctrl-C arrives as KeyboardInterrupt inside simulate (the replicates run in this
    # process); a real SIGINT to a sweep's process group: tests/experiments/test_resume.py
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(mensi_simulate, "simulate", interrupted)
    res = invoke("run", tiny_scenario_file, "--out", tmp_path / "res")
    assert res.exit_code == 130
    assert res.stderr.strip() == f"error: interrupted; nothing written to {tmp_path / 'res'}"
    assert not (tmp_path / "res").exists()


def test_run_some_replicates_failed(tiny_result, tiny_scenario_file, tmp_path, monkeypatch):
    failing = _with_failures(tiny_result, 1)
    monkeypatch.setattr(mensi_simulate, "simulate", lambda *a, **k: failing)
    res = invoke("run", tiny_scenario_file, "--out", tmp_path / "res")
    assert res.exit_code == 1
    assert res.stderr.strip() == (
        "warning: 1 of 3 replicates failed (see runs.parquet): ValueError: boom"
    )
    runs = Results.load(tmp_path / "res").runs
    assert list(runs["status"]) == ["failed", "ok", "ok"]


def test_validate_checks_an_experiment_file_as_an_experiment(tmp_path: Path) -> None:
    # every shipped experiment: one ok line each (it printed 'unknown key' for all seven,
    # reading them as scenarios)
    shipped = sorted((REPO / "experiments").glob("*.toml"))
    res = invoke("validate", "--no-build", *shipped)
    assert res.exit_code == 0, res.output + res.stderr
    lines = res.stdout.splitlines()
    assert len(lines) == len(shipped) and all(" (experiment " in line for line in lines)
    assert any("structures_psa: 5 options x 200 draws" in line for line in lines)
    # a bad experiment: one error line naming the file and the field
    bad = tmp_path / "bad.toml"
    text = (REPO / "experiments" / "structures.toml").read_text()
    bad.write_text(text.replace("replications = ", "replicatoins = ", 1))
    res = invoke("validate", "--no-build", bad)
    assert res.exit_code == 1
    assert_one_error_line(res.stderr, str(bad), "replicatoins")
