"""Issue 15: a resume checks what it trusts, and one writer at a time.

Every batch folder carries its record (``batch.json``: runs, rows, checksums); a resumed
sweep trusts a batch only if the record checks out, and redoes the runs of any other.
Each kind of damage is made on a real sweep's folder, and the resumed result is held to
the uninterrupted one bit for bit. Two resumes of one folder at once: one works, the
other is told who holds the folder (PID and host) and does nothing.
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from mensi_sim import Results, sweep
from mensi_sim.cli import app
from mensi_sim.errors import ResultsError
from mensi_sim.experiments import folder_lock, load_experiment
from mensi_sim.experiments.batch_record import RECORD_NAME, batch_problem, check_consolidated
from mensi_sim.experiments.runstore import batch_dirs, read_runs

from .helpers import ENV, REPO, SMALL, sweep_command, write_experiment


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> tuple[Path, Path, Results]:
    """The small experiment, a sweep of it in one-run batches, and the fresh result."""
    root = tmp_path_factory.mktemp("integrity")
    exp_path = write_experiment(root, SMALL)
    out = root / "sweep"
    fresh = sweep(load_experiment(exp_path), executor="serial", out=out, batch=1)
    return exp_path, out, fresh


def batch_of(out: Path, k: int) -> Path:
    return batch_dirs(out)[k]


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def swap_tables(folder: Path) -> None:
    a, b = folder / "summary.parquet", folder / "timeseries.parquet"
    a.rename(folder / "x")
    b.rename(a)
    (folder / "x").rename(b)


def edit_record(folder: Path, change) -> None:
    record = json.loads((folder / RECORD_NAME).read_text())
    change(record)
    (folder / RECORD_NAME).write_text(json.dumps(record))


def only_runs(folder: Path) -> None:
    # a partial batch: what a resume once read as a whole one (KeyError 'replicate')
    for name in ("summary.parquet", "timeseries.parquet", RECORD_NAME):
        (folder / name).unlink()


DAMAGE = {
    "summary_deleted": (lambda d: (d / "summary.parquet").unlink(), "summary.parquet is missing"),
    "timeseries_deleted": (
        lambda d: (d / "timeseries.parquet").unlink(),
        "timeseries.parquet is missing",
    ),
    "summary_truncated": (
        lambda d: truncate(d / "summary.parquet"),
        "summary.parquet does not match its checksum",
    ),
    "runs_truncated": (
        lambda d: truncate(d / "runs.parquet"),
        "runs.parquet does not match its checksum",
    ),
    "tables_swapped": (swap_tables, "does not match its checksum"),
    "record_deleted": (lambda d: (d / RECORD_NAME).unlink(), f"no {RECORD_NAME}"),
    "record_garbage": (
        lambda d: (d / RECORD_NAME).write_text("{ not json"),
        f"{RECORD_NAME} cannot be read",
    ),
    "record_of_another_batch": (None, "does not match its checksum"),
    "record_names_other_runs": (
        lambda d: edit_record(d, lambda r: r["runs"][0].__setitem__(1, 99)),
        "runs.parquet does not hold the runs of the record",
    ),
    "record_rows_off": (
        lambda d: edit_record(d, lambda r: r["rows"].__setitem__("summary", 0)),
        "its row counts do not fit its runs",
    ),
    "only_runs_left": (only_runs, f"no {RECORD_NAME}"),
}


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_a_damaged_batch_is_redone(made, tmp_path: Path, case: str) -> None:
    exp_path, good, fresh = made
    out = tmp_path / "res"
    shutil.copytree(good, out)
    damage, reason = DAMAGE[case]
    target = batch_of(out, 2)
    if damage is None:  # the record of batch 3 in batch 2
        shutil.copy(batch_of(out, 3) / RECORD_NAME, target / RECORD_NAME)
    else:
        damage(target)
    problem = batch_problem(target)
    assert reason in problem
    for name in ("summary", "timeseries", "runs"):  # as after a kill: nothing consolidated
        (out / f"{name}.parquet").unlink()
    resumed = sweep(load_experiment(exp_path), executor="serial", out=out, resume=True)
    assert resumed.notes == [f"runs/{target.name}: damaged ({problem}); its runs are redone"]
    pd.testing.assert_frame_equal(resumed.summary, fresh.summary, check_exact=True)
    pd.testing.assert_frame_equal(resumed.timeseries, fresh.timeseries, check_exact=True)
    records = read_runs(out)
    assert len(records) == 6 and not records.duplicated(["scenario", "replicate"]).any()
    assert resumed.manifest["status"] == "complete" and resumed.manifest["n_runs"] == 6
    assert all(batch_problem(d) is None for d in batch_dirs(out))


def test_the_issue_s_case_through_the_command_line(made, tmp_path: Path) -> None:
    # one batch's summary.parquet deleted: --resume said "complete" with 57 of 60 rows
    exp_path, good, fresh = made
    out = tmp_path / "res"
    shutil.copytree(good, out)
    (batch_of(out, 0) / "summary.parquet").unlink()
    res = CliRunner().invoke(app, ["sweep", str(exp_path), "--out", str(out), "--resume"])
    assert res.exit_code == 0, res.output
    notes = [line for line in res.stderr.splitlines() if line.startswith("note: runs/")]
    assert len(notes) == 1 and "summary.parquet is missing); its runs are redone" in notes[0]
    back = Results.load(out)
    assert len(back.summary) == 6 and len(back.timeseries) == len(fresh.timeseries)
    assert back.manifest["status"] == "complete"


def test_a_batch_written_by_this_version_checks_out(made) -> None:
    _, out, _ = made
    folders = batch_dirs(out)
    assert len(folders) == 6
    for folder in folders:
        assert batch_problem(folder) is None
        record = json.loads((folder / RECORD_NAME).read_text())
        assert record["rows"]["runs"] == 1 and record["rows"]["summary"] == 1
        assert record["rows"]["timeseries"] == 11  # 10 weeks and the initial state
        assert set(record["sha256"]) == {"runs.parquet", "summary.parquet", "timeseries.parquet"}


def test_consolidated_tables_must_cover_every_successful_run(made) -> None:
    _, out, fresh = made
    tables = {"runs": fresh.runs, "summary": fresh.summary, "timeseries": fresh.timeseries}
    check_consolidated(tables, out)  # the real ones agree
    short = {**tables, "summary": fresh.summary.iloc[:-1]}
    with pytest.raises(ResultsError, match="summary: 5 runs with rows, 6 successful runs"):
        check_consolidated(short, out)
    missing = {**tables, "timeseries": fresh.timeseries[fresh.timeseries["replicate"] != 0]}
    with pytest.raises(ResultsError, match="timeseries: 4 runs with rows, 6 successful runs"):
        check_consolidated(missing, out)
    twice = {**tables, "summary": pd.concat([fresh.summary, fresh.summary.iloc[:1]])}
    with pytest.raises(ResultsError, match="summary: 6 runs with rows, 6 successful runs"):
        check_consolidated(twice, out)  # the same runs, one of them with two summary rows
    one_failed = fresh.runs.copy()
    one_failed.loc[one_failed.index[0], "status"] = "failed"
    with pytest.raises(ResultsError, match="summary: 6 runs with rows, 5 successful runs"):
        check_consolidated({**tables, "runs": one_failed}, out)  # a failed run has rows


# ---------------------------------------------------------------------------------------
# one writer at a time: two resumes at once
# ---------------------------------------------------------------------------------------


def resume_command(exp_path: Path, out: Path, replications: int) -> list[str]:
    extra = ("--resume", "--replications", str(replications), "--batch-size", "1")
    return sweep_command(exp_path, out, *extra)


def lock_holder_pid(out: Path) -> int | None:
    try:
        return int(json.loads(folder_lock.lock_path(out).read_text())["pid"])
    except (OSError, ValueError, KeyError):
        return None


@pytest.fixture
def started(made, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the small sweep (3 replicates) to resume to 40 replicates."""
    exp_path, good, _ = made
    out = tmp_path / "res"
    shutil.copytree(good, out)
    return exp_path, out


def test_a_second_writer_is_told_who_holds_the_folder(started, processes) -> None:
    exp_path, out = started
    first = processes(
        resume_command(exp_path, out, 40),
        cwd=REPO,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    # conditions, not sleeps: the first holds the lock; then it is paused, so that the
    # second surely comes while the first is mid-way
    while lock_holder_pid(out) != first.pid and first.poll() is None:
        time.sleep(0.01)
    assert first.poll() is None, first.stderr.read()
    first.send_signal(signal.SIGSTOP)
    try:
        second = subprocess.run(
            resume_command(exp_path, out, 40),
            cwd=REPO,
            env=ENV,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        first.send_signal(signal.SIGCONT)
    lines = second.stderr.splitlines()
    assert second.returncode == 2 and len(lines) == 1, second.stderr
    assert lines[0].startswith(f"error: {out}: in use by PID {first.pid} on host ")
    assert socket.gethostname() in lines[0] and "mensi-sim sweep" in lines[0]
    assert first.wait(timeout=600) == 0, first.stderr.read()
    records = read_runs(out)
    assert len(records) == 80 and not records.duplicated(["scenario", "replicate"]).any()


def test_two_resumes_at_once_do_the_work_once(started, processes) -> None:
    exp_path, out = started
    both = [
        processes(
            resume_command(exp_path, out, 40),
            cwd=REPO,
            env=ENV,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    codes = [p.wait(timeout=600) for p in both]
    errors = [p.stderr.read().decode() for p in both]
    # one did the work; the other was refused while the first held the folder, or came
    # after it and found nothing left to do
    assert sorted(codes) in ([0, 0], [0, 2]), (codes, errors)
    for code, text in zip(codes, errors, strict=True):
        if code == 2:
            assert text.startswith(f"error: {out}: in use by PID ") and text.count("\n") == 1
    records = read_runs(out)
    assert len(records) == 80 and not records.duplicated(["scenario", "replicate"]).any()
    fresh = sweep(load_experiment(exp_path), executor="serial", replications=40)
    back = Results.load(out)
    pd.testing.assert_frame_equal(back.summary, fresh.summary, check_exact=True)
    pd.testing.assert_frame_equal(back.timeseries, fresh.timeseries, check_exact=True)
    assert not folder_lock.lock_path(out).exists()
