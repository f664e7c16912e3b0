"""A Ctrl-C whose exception a library swallows still stops a sweep (``interrupts``).

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


def test_a_ctrl_c_swallowed_in_a_gc_callback_still_stops_the_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
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
    assert sent and [type(e) for e in swallowed] == [Interrupted]  # it was lost, then
    assert len(batch_dirs(out)) == 1  # heard again before the second batch started
