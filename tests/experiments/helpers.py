"""Helpers of the experiment tests: small experiment files written into a tmp folder."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# the environment of a real ``python -m mensi_sim.cli`` process started by a test
ENV = {**os.environ, "PYTHONPATH": str(REPO)}
PILOT = REPO / "scenarios" / "mensi_pilot.toml"
EXPERIMENTS = REPO / "experiments"

# The pilot for 10 weeks, two scenarios that differ in the adoption rate p, 3 replicates.
SMALL = f"""\
name = "small"
replications = 3
root_seed = 11
steps = 10
executor = "serial"

[base]
scenario = "{PILOT}"

[[factors.scenarios]]
name = "slow"
overrides = {{ "adoption.p" = 0.001 }}

[[factors.scenarios]]
name = "fast"
overrides = {{ "adoption.p" = 0.004 }}
"""


def write_experiment(folder: Path, text: str, name: str = "exp.toml") -> Path:
    """Write an experiment file and return its path."""
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def sweep_command(experiment: Path, out: Path, *extra: str, executor: str = "serial") -> list[str]:
    """The command line of a real ``mensi-sim sweep`` process (run it with ``ENV``)."""
    return [
        sys.executable,
        "-m",
        "mensi_sim.cli",
        "sweep",
        str(experiment),
        "--executor",
        executor,
        "--out",
        str(out),
        *extra,
    ]
