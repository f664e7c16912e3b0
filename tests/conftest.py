"""Shared fixtures (fixtures only: nothing here sets global state)."""

from __future__ import annotations

from pathlib import Path

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
