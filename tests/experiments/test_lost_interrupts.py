"""A Ctrl-C whose exception a library swallows still stops a sweep, without Python's
"Exception ignored" traceback (``interrupts``, ``cli.guard.interrupts``).

Python runs a signal handler between bytecodes of the main thread, also inside a
garbage-collector callback, and an exception raised there is "ignored" (printed, then
dropped). With Dask's GC diagnostics installed, a Ctrl-C landing in that callback was
lost and the interrupted sweep ran to its end (seen in the suite under load). Here the
signal is sent from inside a real GC callback, deterministically, during the first batch.
"""

from __future__ import annotations

import gc
import signal
import sys
from pathlib import Path

import pytest

from mensi_sim import sweep
from mensi_sim.cli.guard import Interrupted, interrupts
from mensi_sim.experiments import load_experiment, runner
from mensi_sim.experiments.runstore import batch_dirs

from .helpers import SMALL, write_experiment


def test_a_ctrl_c_swallowed_in_a_gc_callback_still_stops_the_sweep_quietly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    exp = load_experiment(write_experiment(tmp_path, SMALL))
    out = tmp_path / "out"
    swallowed: list[BaseException] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: swallowed.append(u.exc_value))
    armed: list[bool] = []
    sent: list[bool] = []

    def callback(phase: str, info: dict) -> None:
        if phase == "start" and armed and not sent:
            sent.append(True)
            signal.raise_signal(signal.SIGINT)  # the handler raises here: Python drops it

    run_batch = runner.run_batch

    def first_batch_collects(tasks):
        if not armed:
            armed.append(True)
            gc.collect()  # the callback runs, and the Ctrl-C with it
        return run_batch(tasks)

    monkeypatch.setattr(runner, "run_batch", first_batch_collects)
    gc.callbacks.append(callback)
    try:
        with interrupts(), pytest.raises(Interrupted):
            sweep(exp, executor="serial", batch=1, out=out)
    finally:
        gc.callbacks.remove(callback)
    # it was lost where it was raised (raised there, the sweep would have written no
    # batch), and heard again before the second batch started
    assert sent and len(batch_dirs(out)) == 1
    # quietly: Python's "Exception ignored in ..." traceback is not printed, and the
    # hook before (here the test's) gets only what is not a lost interrupt
    assert "Exception ignored" not in capfd.readouterr().err
    assert swallowed == []
    assert sys.unraisablehook is not None and sys.unraisablehook.__name__ == "<lambda>"


def test_other_unraisable_exceptions_are_still_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[BaseException] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(u.exc_value))

    class Broken:
        def __del__(self) -> None:
            raise ValueError("in __del__")

    with interrupts():
        Broken()  # dropped at once: its __del__ raises, Python hands it to the hook
    assert [type(e) for e in seen] == [ValueError]
