"""Helpers shared by the command-line, results and plotting tests (no fixtures, no state)."""

from __future__ import annotations

import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# A small scenario that runs in well under a second: 2 countries x 2 regions,
# one mentor with 2 mentees per region (12 of 30 schools in the network).
TINY_SCENARIO = """\
name = "tiny"
description = "Tiny test scenario"

[time]
steps = 6

[population]
n_schools = 30
countries = ["IT", "PT"]
regions_per_country = 2

[network]
structure = "top_down"
mentors_per_region = 1
mentees_per_mentor = 2
"""

# More mentors than schools: valid values, impossible network (NetworkError).
IMPOSSIBLE_SCENARIO = """\
name = "impossible"

[population]
n_schools = 3

[network]
structure = "top_down"
mentors_per_region = 5
"""


def sensitivity_experiment(scenario: str | Path) -> str:
    """A tiny Morris + Sobol experiment on ``scenario``: 2 parameters (and the dummy every
    sample carries), 3 trajectories and N = 4 (12 + 20 points), 2 replicates of 3 weeks,
    serial."""
    return f"""\
name = "tiny_sens"
replications = 2
root_seed = 3
steps = 3
executor = "serial"

[base]
scenario = "{scenario}"

[factors.ranges]
"adoption.p" = [0.001, 0.01]
"learning.rate" = [0.05, 0.4]

[[factors.samples]]
method = "morris"
n = 3

[[factors.samples]]
method = "sobol"
n = 4
"""


def write_scenario(folder: Path, text: str, name: str = "tiny.toml") -> Path:
    """Write a scenario file and return its path."""
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path
