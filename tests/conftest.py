"""Shared fixtures (fixtures only: nothing here sets global state).

Every process a test starts (a sweep, the app's server, Chromium) is started through a
fixture here or in its module, and stopped in that fixture's teardown, pass or fail.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from support import TINY_SCENARIO, write_scenario


@pytest.fixture
def tiny_scenario_file(tmp_path: Path) -> Path:
    """Path of a tiny scenario (30 schools, 6 weeks) written into the test's tmp_path."""
    return write_scenario(tmp_path, TINY_SCENARIO)


@pytest.fixture(scope="session")
def tiny_result(tmp_path_factory: pytest.TempPathFactory):
    """A real SimulationResult of the tiny scenario: 3 replicates of 6 weeks, root seed 7."""
    from mensi_sim.scenario import load_scenario
    from mensi_sim.simulate import simulate

    path = write_scenario(tmp_path_factory.mktemp("tiny"), TINY_SCENARIO)
    return simulate(load_scenario(path), replications=3, seed=7)


@contextmanager
def _started_processes() -> Iterator[Callable[..., subprocess.Popen]]:
    """``start(cmd, **popen_kwargs)`` runs a process in its own process group; on leaving,
    every one still running is stopped with its children (SIGTERM, then SIGKILL)."""
    from mensi_sim.viz.browser import stop

    started: list[subprocess.Popen] = []

    def start(cmd: list[str], **kwargs: Any) -> subprocess.Popen:
        process = subprocess.Popen(cmd, start_new_session=True, **kwargs)
        started.append(process)
        return process

    try:
        yield start
    finally:
        for process in started:
            stop(process, grace=5.0)
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    stream.close()


@pytest.fixture
def processes() -> Iterator[Callable[..., subprocess.Popen]]:
    """Processes of one test, stopped at its teardown, pass or fail (``_started_processes``)."""
    with _started_processes() as start:
        yield start


@pytest.fixture(scope="module")
def module_processes() -> Iterator[Callable[..., subprocess.Popen]]:
    """Processes shared by a module's tests (a server), stopped after the module."""
    with _started_processes() as start:
        yield start


@pytest.fixture
def browser() -> Iterator[Callable[..., Any]]:
    """``open_context(viewport=...)``: a headless Chromium context (Debian's chromium through
    Playwright, a fresh profile); every context and the browser are closed at teardown.
    Fails, saying how to install it, when /usr/bin/chromium is missing."""
    from mensi_sim.viz.browser import CHROMIUM, MISSING, chromium

    if not CHROMIUM.is_file():
        pytest.fail(MISSING)
    from contextlib import ExitStack

    from playwright.sync_api import sync_playwright

    with ExitStack() as stack:
        pw = stack.enter_context(sync_playwright())

        def open_context(**options: Any) -> Any:
            return stack.enter_context(chromium(pw, **options))

        yield open_context
