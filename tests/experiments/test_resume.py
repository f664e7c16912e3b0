"""Nothing lost: a killed sweep resumes to the same results; failed runs are recorded."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from mensi_sim import Results, sweep
from mensi_sim.cli.experiment_commands import register
from mensi_sim.errors import ResultsError
from mensi_sim.experiments import load_experiment
from mensi_sim.experiments.runstore import batch_dirs

from .helpers import ENV, REPO, SMALL, sweep_command, write_experiment

# 2 scenarios x 60 replicates of 10 weeks, one run per batch folder: about 120 folders
# written over a few seconds, so the kill lands in the middle.
LONG = SMALL.replace("replications = 3", "replications = 60")

BROKEN = (
    SMALL
    + """
[[factors.scenarios]]
name = "broken"
# valid values, impossible network: 10 mentors per region, but a region has 5 schools
overrides = { "network.mentors_per_region" = 10 }
"""
)


def app() -> typer.Typer:
    a = typer.Typer()
    register(a)
    return a


def _continued(command: list[str], out: Path) -> Results:
    """Run the command that continues a sweep in ``out`` (it must succeed); its Results."""
    done = subprocess.run(command, cwd=REPO, env=ENV, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return Results.load(out)


def test_killed_sweep_resumes_to_the_uninterrupted_result(tmp_path: Path, processes) -> None:
    # waits on conditions only (batches written, the process gone): a loaded machine makes
    # this slower, never wrong. The sweep is started through the `processes` fixture, which
    # stops it at teardown if the test fails before the kill.
    exp_path = write_experiment(tmp_path, LONG)
    out = tmp_path / "killed"
    log = tmp_path / "sweep.log"  # a file, not a pipe: a full pipe would stall the sweep
    with open(log, "wb") as sink:
        proc = processes(
            sweep_command(exp_path, out, "--batch-size", "1"),
            cwd=REPO,
            env=ENV,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    while len(batch_dirs(out)) < 8 and proc.poll() is None:  # the sweep ends by itself
        time.sleep(0.01)
    assert proc.poll() is None, f"sweep ended before the kill: {log.read_text()[-2000:]}"
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    written = len(batch_dirs(out))
    assert 8 <= written < 120, written  # killed mid-way
    assert not (out / "summary.parquet").exists()

    resumed = _continued(sweep_command(exp_path, out, "--resume"), out)
    assert len(resumed.runs) == 120
    # only the missing runs were redone: the folders written before the kill are kept
    # and nothing was run twice (one record per run across all batch folders)
    from mensi_sim.experiments.runstore import read_runs

    records = read_runs(out)
    assert len(records) == 120 and not records.duplicated(["scenario", "replicate"]).any()

    fresh = sweep(load_experiment(exp_path), executor="serial")
    pd.testing.assert_frame_equal(resumed.summary, fresh.summary, check_exact=True)
    pd.testing.assert_frame_equal(resumed.timeseries, fresh.timeseries, check_exact=True)
    assert resumed.manifest["status"] == "complete"


def _terminal_interrupt() -> None:
    """In the child before it runs: SIGINT as in a terminal (a background job inherits
    SIGINT ignored, and Python then never raises KeyboardInterrupt)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.parametrize("executor", ["serial", "local"])
def test_ctrl_c_ends_a_sweep_saying_how_to_continue(
    tmp_path: Path, processes, executor: str
) -> None:
    # Ctrl-C in a terminal sends SIGINT to the whole process group (the sweep and, with
    # "local", its pool workers); the sweep must end at once with one line naming what is
    # kept and the command that continues it, no traceback, no process left behind.
    # 2 scenarios x 20 replicates, one run per batch: Ctrl-C once 4 batches are written
    exp_path = write_experiment(tmp_path, SMALL.replace("replications = 3", "replications = 20"))
    out = tmp_path / "interrupted"
    command = sweep_command(exp_path, out, "--batch-size", "1")
    command[command.index("serial")] = executor
    if executor == "local":
        command += ["--workers", "2"]
    log = tmp_path / "sweep.log"
    with open(log, "wb") as sink:
        proc = processes(
            command,
            cwd=REPO,
            env=ENV,
            stdout=subprocess.DEVNULL,
            stderr=sink,
            preexec_fn=_terminal_interrupt,
        )
    while len(batch_dirs(out)) < 4 and proc.poll() is None:
        time.sleep(0.01)
    assert proc.poll() is None, f"sweep ended before Ctrl-C: {log.read_text()[-2000:]}"
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait() == 130
    while not _group_gone(proc.pid):  # the workers, the forkserver: gone with the sweep
        time.sleep(0.05)
    from mensi_sim.experiments.runstore import read_runs

    saved = len(read_runs(out))
    assert 4 <= saved < 40, saved  # interrupted mid-way
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in log.read_text(), lines
    message = lines[-1]
    assert message.startswith(
        f"error: interrupted; {saved} runs are saved in {out}; continue with `"
    )
    assert not (out / "summary.parquet").exists()

    said = shlex.split(message.split("`")[1])
    assert said[0] == "mensi-sim" and said[-1] == "--resume"
    if executor == "serial":  # continuing is shown once, after the harder case of the two
        return
    # the command it names continues the sweep (workers ended mid-batch) to the
    # uninterrupted result
    resumed = _continued([sys.executable, "-m", "mensi_sim.cli", *said[1:]], out)
    assert len(resumed.runs) == 40 and resumed.manifest["status"] == "complete"
    fresh = sweep(load_experiment(exp_path), executor="serial")
    pd.testing.assert_frame_equal(resumed.summary, fresh.summary, check_exact=True)


def test_resume_command_continues_in_the_folder_written() -> None:
    from mensi_sim.cli.experiment_commands import resume_command

    out = Path("results/x-1")
    typed = ["mensi-sim", "sweep", "structures"]
    assert resume_command(typed, out) == [*typed, "--out", "results/x-1", "--resume"]
    typed = ["mensi-sim", "sweep", "e.toml", "-o", "r", "--overwrite"]
    assert resume_command(typed, Path("r")) == [
        "mensi-sim",
        "sweep",
        "e.toml",
        "-o",
        "r",
        "--resume",
    ]
    typed = ["mensi-sim", "sweep", "e.toml", "--out=r", "--resume"]
    assert resume_command(typed, Path("r")) == typed


def test_resume_with_a_different_experiment_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "res"
    sweep(load_experiment(write_experiment(tmp_path, SMALL)), executor="serial", out=out)
    other = write_experiment(tmp_path, SMALL.replace("root_seed = 11", "root_seed = 12"), "o.toml")
    result = CliRunner().invoke(app(), ["sweep", str(other), "--out", str(out), "--resume"])
    assert result.exit_code == 2
    line = result.output.strip()
    assert line.startswith("error: ") and "\n" not in line
    assert "different experiment" in line
    with pytest.raises(ResultsError, match="not empty"):
        sweep(load_experiment(other), executor="serial", out=out)


def test_resume_of_a_complete_sweep_runs_nothing(tmp_path: Path) -> None:
    out = tmp_path / "res"
    exp = load_experiment(write_experiment(tmp_path, SMALL))
    first = sweep(exp, executor="serial", out=out)
    calls = []
    again = sweep(
        exp, executor="serial", out=out, resume=True, progress=lambda d, t, f: calls.append((d, t))
    )
    assert calls[-1] == (0, 0)
    pd.testing.assert_frame_equal(first.summary, again.summary, check_exact=True)


def test_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path: Path) -> None:
    exp_path = write_experiment(tmp_path, BROKEN)
    out = tmp_path / "res"
    result = CliRunner().invoke(app(), ["sweep", str(exp_path), "--out", str(out)])
    assert result.exit_code == 1
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("error: 3 of 9 runs failed: broken/0, broken/1, broken/2")
    assert "NetworkError" in last
    res = Results.load(out)
    runs = res.runs
    bad = runs[runs["status"] == "failed"]
    assert list(bad["scenario"]) == ["broken"] * 3
    assert bad["error"].str.contains("Traceback").all()
    assert bad["error"].str.contains("mentors_per_region").all()
    assert set(res.summary["scenario"]) == {"slow", "fast"} and len(res.summary) == 6
    assert res.manifest["failed_runs"] == ["broken/0", "broken/1", "broken/2"]
    # resuming retries the failed runs (they fail again) and keeps one record per run
    again = sweep(load_experiment(exp_path), executor="serial", out=out, resume=True)
    assert len(again.runs) == 9 and len(again.failures) == 3


def test_a_run_found_in_two_batch_folders_is_kept_once(tmp_path: Path) -> None:
    """``consolidate`` keeps each run's rows from the folder of its winning record only: a
    batch folder copied under a later name (its runs now twice on disk) adds nothing, and
    a folder only partly superseded keeps the rest of its rows."""
    import shutil

    from mensi_sim.experiments.runstore import consolidate

    out = tmp_path / "res"
    exp = load_experiment(write_experiment(tmp_path, SMALL))
    first = sweep(exp, executor="serial", out=out, batch=2)
    folders = batch_dirs(out)
    assert len(folders) == 3  # 6 runs, 2 per folder
    order = {p.name: i for i, p in enumerate(exp.points)}
    # a copy of the first folder wins both of its runs: the original keeps none
    shutil.copytree(folders[0], folders[0].parent / "99999999999999999998-copy")
    # a copy of the second with one of its two runs: the original keeps the other one
    part = shutil.copytree(folders[1], folders[1].parent / "99999999999999999999-part")
    first_run = pd.read_parquet(part / "runs.parquet")[["scenario", "replicate"]].iloc[:1]
    for table in part.glob("*.parquet"):
        pd.read_parquet(table).merge(first_run).to_parquet(table, index=False)
    assert len(pd.read_parquet(part / "runs.parquet")) == 1
    tables = consolidate(out, order)
    for name in ("summary", "timeseries"):
        pd.testing.assert_frame_equal(
            tables[name], getattr(first, name), check_exact=True, check_dtype=False
        )
    assert len(tables["runs"]) == 6


def test_the_frames_a_sweep_wrote_consolidate_as_read_back(tmp_path: Path, monkeypatch) -> None:
    """The sweep consolidates the batch frames it wrote without reading them back
    (``runstore.consolidate(..., written)``): the tables must be those read from disk,
    value for value and type for type, failed runs included."""
    from mensi_sim.experiments import runstore

    kept: dict = {}
    consolidate = runstore.consolidate

    def keeping(out, order, written=None):
        kept.update(written or {})
        return consolidate(out, order, written)

    monkeypatch.setattr(runstore, "consolidate", keeping)
    out = tmp_path / "res"
    exp = load_experiment(write_experiment(tmp_path, BROKEN))
    sweep(exp, executor="serial", out=out, batch=2)
    assert sorted(kept) == [d.name for d in batch_dirs(out)]
    order = {p.name: i for i, p in enumerate(exp.points)}
    from_memory, from_disk = consolidate(out, order, kept), consolidate(out, order)
    assert set(from_memory) == set(from_disk)
    for name, frame in from_disk.items():
        pd.testing.assert_frame_equal(from_memory[name], frame, check_exact=True)
    assert (from_disk["runs"]["status"] == "failed").sum() == 3
