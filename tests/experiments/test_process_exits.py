"""Issue 15: a sweep on the local executor leaves no process behind, however it ends.

A real sweep (``--executor local --workers 2``) runs in its own session; the test waits
until its workers are computing (batch folders appear), then ends it with kill -9,
SIGTERM or a terminal's Ctrl-C (SIGINT to the whole process group), and looks in /proc
for any process of that session: the workers (forked from the sweep; with a forkserver,
also the forkserver and the resource tracker) must all be gone (they stayed 60 s and
more before: 4 processes at 6 of 10 kill points).
SIGTERM and Ctrl-C (also on the dask executor) end with one line, ``error: interrupted;
N runs are saved in OUT; continue with `mensi-sim sweep ... --resume```, and exit code
128 + the signal; the resumed sweep equals the uninterrupted one bit for bit.
kill -9 and SIGTERM are also sent earlier: as soon as the command has its handlers, when
the first worker exists, and when the workers are up but none has finished a batch.

Waits are on conditions (batches written, a handler installed, processes gone); the
only bound is the issue's own: nothing may be left 60 s after the end.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from mensi_sim import Results, sweep
from mensi_sim.experiments import load_experiment
from mensi_sim.experiments.runstore import batch_dirs

from .helpers import ENV, REPO, SMALL, sweep_command, write_experiment

# the one line of an interrupted sweep: what is kept and the command that continues it
GENERIC = "error: interrupted; continue with --resume\n"
SAYS_HOW_TO_CONTINUE = re.compile(
    r"error: interrupted; \d+ runs are saved in \S+; continue with `[^`\n]* --resume`\n"
)

LONG = SMALL.replace("replications = 3", "replications = 60")
ORPHAN_BOUND_S = 60.0


def session_members(sid: int) -> list[tuple[int, str]]:
    """The processes of session ``sid`` (pid, command line), read from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[3]) != sid or fields[0] == "Z":
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        found.append((int(entry), command[:120]))
    return found


def catches(pid: int, signum: int) -> bool:
    """Whether process ``pid`` has a handler installed for ``signum`` (/proc SigCgt)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    return False


def wait_until_gone(sid: int) -> list[tuple[int, str]]:
    """The members of session ``sid`` still there after ORPHAN_BOUND_S (empty: none)."""
    deadline = time.monotonic() + ORPHAN_BOUND_S
    while (left := session_members(sid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    path = write_experiment(tmp_path_factory.mktemp("exits"), LONG)
    return path, sweep(load_experiment(path), executor="serial")


def start_sweep(processes, exp_path: Path, out: Path, log: Path) -> subprocess.Popen:
    command = sweep_command(exp_path, out, "--workers", "2", "--batch-size", "1", executor="local")
    with open(log, "wb") as sink:  # a file, not a pipe: a full pipe would stall the sweep
        return processes(command, cwd=REPO, env=ENV, stdout=sink, stderr=sink)


def computing(proc: subprocess.Popen, out: Path, log: Path) -> list[tuple[int, str]]:
    """Wait until the sweep's workers have written batches; its session's other members."""
    while len(batch_dirs(out)) < 4 and proc.poll() is None:
        time.sleep(0.01)
    assert proc.poll() is None, f"the sweep ended before the test: {log.read_text()[-2000:]}"
    assert catches(proc.pid, signal.SIGTERM)
    members = pool_members(proc.pid)
    assert len(members) >= 2, members  # its 2 workers, at least
    return members


def resumed_equals_fresh(exp_path: Path, out: Path, fresh: Results) -> None:
    done = subprocess.run(
        sweep_command(exp_path, out, "--resume"),
        cwd=REPO,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    back = Results.load(out)
    pd.testing.assert_frame_equal(back.summary, fresh.summary, check_exact=True)
    pd.testing.assert_frame_equal(back.timeseries, fresh.timeseries, check_exact=True)


def test_kill_9_leaves_no_process(experiment, tmp_path: Path, processes) -> None:
    exp_path, fresh = experiment
    out, log = tmp_path / "res", tmp_path / "sweep.log"
    proc = start_sweep(processes, exp_path, out, log)
    computing(proc, out, log)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    assert wait_until_gone(proc.pid) == []
    resumed_equals_fresh(exp_path, out, fresh)


def pool_members(sid: int) -> list[tuple[int, str]]:
    """The sweep's pool in its session ``sid``: every member but the sweep (its workers;
    with a forkserver, the server and the resource tracker too)."""
    return [m for m in session_members(sid) if m[0] != sid]


# moments of a sweep before its first batch, each a condition on the process (the issue
# found orphans at 6 of 10 kill points: the moment matters); the tests below stop it
# later, once its workers compute
MOMENTS = {
    "started": lambda proc, out: catches(proc.pid, signal.SIGTERM),
    "workers_starting": lambda proc, out: len(pool_members(proc.pid)) >= 1,
    "workers_up": lambda proc, out: len(pool_members(proc.pid)) >= 2,
}


@pytest.mark.parametrize("moment", sorted(MOMENTS))
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
def test_no_process_is_left_whenever_the_sweep_is_stopped(
    experiment, tmp_path: Path, processes, moment: str, signum: int
) -> None:
    exp_path, _ = experiment
    out, log = tmp_path / "res", tmp_path / "sweep.log"
    proc = start_sweep(processes, exp_path, out, log)
    reached = MOMENTS[moment]
    while proc.poll() is None and not reached(proc, out):
        time.sleep(0.005)
    assert proc.poll() is None, f"the sweep ended before the test: {log.read_text()[-2000:]}"
    proc.send_signal(signum)
    code = proc.wait()
    assert wait_until_gone(proc.pid) == []
    if signum == signal.SIGKILL:
        assert code == -signal.SIGKILL
    else:
        assert code == 128 + signum, log.read_text()
        said = log.read_text()
        # before the sweep has begun the guard says it; once it runs, the sweep says more
        assert said == GENERIC or SAYS_HOW_TO_CONTINUE.fullmatch(said), said
        # an interrupt leaves no temporary batch folder (kill -9 may: a resume removes it)
        assert not list(out.glob("runs/.tmp-*"))


@pytest.mark.parametrize(
    ("signum", "group"),
    [(signal.SIGTERM, False), (signal.SIGINT, True)],
    ids=["sigterm", "ctrl-c"],
)
def test_an_interrupt_ends_with_one_line_and_no_process(
    experiment, tmp_path: Path, processes, signum, group
) -> None:
    exp_path, fresh = experiment
    out, log = tmp_path / "res", tmp_path / "sweep.log"
    proc = start_sweep(processes, exp_path, out, log)
    computing(proc, out, log)
    if group:  # a terminal's Ctrl-C reaches every process of the foreground group
        os.killpg(proc.pid, signum)
    else:
        proc.send_signal(signum)
    assert proc.wait() == 128 + signum, log.read_text()
    assert SAYS_HOW_TO_CONTINUE.fullmatch(log.read_text()), log.read_text()
    assert wait_until_gone(proc.pid) == []
    resumed_equals_fresh(exp_path, out, fresh)


def test_ctrl_c_on_a_dask_sweep_prints_one_line(experiment, tmp_path: Path, processes) -> None:
    """A terminal's Ctrl-C reaches the local Dask cluster's worker processes too: they
    ignore it (a preload) and are quiet while the sweep ends them, so the user reads the
    sweep's one line, not asyncio's KeyboardInterrupt tracebacks and heartbeat errors."""
    exp_path, _ = experiment
    out, log = tmp_path / "res", tmp_path / "sweep.log"
    command = sweep_command(exp_path, out, "--workers", "2", "--batch-size", "1", executor="dask")
    with open(log, "wb") as sink:
        proc = processes(command, cwd=REPO, env=ENV, stdout=sink, stderr=sink)
    while len(batch_dirs(out)) < 4 and proc.poll() is None:
        time.sleep(0.01)
    assert proc.poll() is None, f"the sweep ended before the test: {log.read_text()[-2000:]}"
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait() == 128 + signal.SIGINT, log.read_text()
    assert SAYS_HOW_TO_CONTINUE.fullmatch(log.read_text()), log.read_text()
    assert wait_until_gone(proc.pid) == []


def test_an_interrupted_run_writes_nothing(tmp_path: Path, processes) -> None:
    scenario = REPO / "scenarios" / "mensi_pilot.toml"
    log = tmp_path / "run.log"
    with open(log, "wb") as sink:
        proc = processes(
            [sys.executable, "-m", "mensi_sim.cli", "run", str(scenario), "-r", "500",
             "--out", str(tmp_path / "res")],
            cwd=tmp_path, env=ENV, stdout=sink, stderr=sink,
        )  # fmt: skip
    while not catches(proc.pid, signal.SIGTERM) and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait() == 128 + signal.SIGTERM, log.read_text()
    # before the replicates start the guard says it; once they run, the command does
    said = log.read_text()
    assert said in ("error: interrupted\n", "error: interrupted; nothing written to res\n"), said
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.log"]


def test_the_quick_exit_after_an_interrupt_leaves_no_semaphore_to_report() -> None:
    """After an interrupted sweep the command ends with ``os._exit`` (``guard._exit_now``:
    the pool's manager thread may never return). The pool's named semaphores must still be
    unlinked first, or the resource tracker, which outlives the command, prints "There
    appear to be N leaked semaphore objects" after the one line (seen once in CI, at Ctrl-C
    of a local sweep). Deterministic: a forkserver semaphore exists, the quick exit runs,
    and nothing may be printed by anyone (the tracker holds stderr open until its end)."""
    program = (
        "import multiprocessing\n"
        "from mensi_sim.cli import guard\n"
        "lock = multiprocessing.get_context('forkserver').Lock()\n"
        "guard._exit_now(130)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=REPO, env=ENV, capture_output=True, timeout=120
    )
    assert done.returncode == 130
    assert done.stderr.decode() == "", done.stderr.decode()
