"""Small results directories for the plot, report and app tests (built once per session).

``run_results`` is a ``mensi-sim run``-style directory of the tiny scenario;
``sweep_results`` a real sweep of three structures on it (``mensi_sim.sweep``,
serial), with ``comparison.parquet`` from ``comparison_table`` and a
``sensitivity.parquet`` in the long format of ``mensi-sim sensitivity`` (Morris
and Sobol indices of a toy function, from the same SALib pipeline);
``sweep25_results`` the same for 25 scenarios (five structures x five learning rates,
long names) with indices of a share and of a cost, in the magnitudes of the pilot.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from support import TINY_SCENARIO, write_scenario

TINY_SWEEP = """\
name = "tiny_sweep"
description = "Three structures on the tiny scenario"
replications = 4
root_seed = 11
steps = 20
executor = "serial"
baseline = "none"

[base]
scenario = "tiny.toml"
overrides = { "adoption.q" = 0.08, "adoption.p" = 0.005 }

[[factors.scenarios]]
name = "none"
overrides = { "network.structure" = "none" }

[[factors.scenarios]]
name = "top_down"
overrides = { "network.structure" = "top_down" }

[[factors.scenarios]]
name = "virtual"
overrides = { "network.structure" = "virtual", "network.virtual_mentors_per_country" = 1 }
"""

# 5 structures x 5 learning rates: 25 scenarios, the five "none" ones at one point
SWEEP25 = """\
name = "sweep25"
replications = 3
root_seed = 5
steps = 20
executor = "serial"
baseline = "rate=0.05/none"

[base]
scenario = "tiny.toml"
overrides = { "adoption.q" = 0.08, "adoption.p" = 0.005 }

[factors.grid]
"learning.rate" = [0.05, 0.1, 0.2, 0.3, 0.4]

[[factors.scenarios]]
name = "none"
overrides = { "network.structure" = "none" }

[[factors.scenarios]]
name = "top_down"
overrides = { "network.structure" = "top_down" }

[[factors.scenarios]]
name = "virtual"
overrides = { "network.structure" = "virtual", "network.virtual_mentors_per_country" = 1 }

[[factors.scenarios]]
name = "hybrid"
overrides = { "network.structure" = "hybrid" }

[[factors.scenarios]]
name = "bottom_up"
overrides = { "network.structure" = "bottom_up" }
"""
# the seven ranges of experiments/sensitivity.toml
SENSITIVITY_RANGES = {
    "adoption.p": [0.0002, 0.0020],
    "adoption.q": [0.0030, 0.0150],
    "adoption.theta": [0.0, 2.0],
    "learning.rate": [0.05, 0.40],
    "learning.gamma": [0.0, 1.0],
    "contacts.rate_in_person": [0.10, 0.50],
    "engagement.target_compulsory": [0.3, 0.8],
}

# every figure a sweep with comparison and sensitivity tables supports (the tiny sweep)
ALL_SWEEP_FIGURES = {
    "adoption_cost",
    "adoption",
    "capacity_equity",
    "cost_over_time",
    "cost_effectiveness",
    "paired_differences",
    "morris_final_adoption_share",
    "sobol_final_adoption_share",
    "network",
    "network_weeks",
    "by_country",
    "by_country_adoption",
    "by_country_cost",
}
# the small multiples by country: drawn by plot and the report, not by every run or sweep
GROUP_FIGURES = {"by_country", "by_country_adoption", "by_country_cost"}

_CACHE: dict[tuple[str, str], Path] = {}


def _cached(factory: pytest.TempPathFactory, key: str, build) -> Path:  # noqa: ANN001
    slot = (str(factory.getbasetemp()), key)
    if slot not in _CACHE:
        _CACHE[slot] = build(factory.mktemp(key))
    return _CACHE[slot]


def run_results(factory: pytest.TempPathFactory) -> Path:
    """A results directory as ``mensi-sim run`` writes it (3 replicates, seed 7)."""

    def build(folder: Path) -> Path:
        from mensi_sim import load_scenario, simulate

        sc = load_scenario(write_scenario(folder, TINY_SCENARIO))
        result = simulate(sc, replications=3, seed=7, command_line="test")
        return result.save(folder / "run")

    return _cached(factory, "run", build)


def sweep_results(factory: pytest.TempPathFactory) -> Path:
    """A sweep of three structures with comparison.parquet and sensitivity.parquet."""

    def build(folder: Path) -> Path:
        import pandas as pd

        from mensi_sim import sweep
        from mensi_sim.analysis import comparison_table, long_table, sensitivity_analysis

        write_scenario(folder, TINY_SCENARIO)
        spec = folder / "tiny_sweep.toml"
        spec.write_text(textwrap.dedent(TINY_SWEEP), encoding="utf-8")
        out = folder / "sweep"
        result = sweep(spec, executor="serial", out=out, command_line="test")
        result.write_table("comparison", comparison_table(result.summary, "none"))

        def toy(x: np.ndarray) -> np.ndarray:  # two parameters matter, one does not
            return x[:, 0] + 2 * x[:, 1] ** 2

        ranges = {
            "adoption.q": [0.0, 1.0],
            "learning.rate": [0.0, 1.0],
            "costs.travel_per_km": [0.0, 1.0],
        }
        tables = [
            long_table(
                sensitivity_analysis(ranges, method, n, toy, num_resamples=100),
                "final_adoption_share",
            )
            for method, n in (("morris", 6), ("sobol", 16))
        ]
        result.write_table("sensitivity", pd.concat(tables, ignore_index=True))
        return out

    return _cached(factory, "sweep", build)


def sweep25_results(factory: pytest.TempPathFactory) -> Path:
    """25 scenarios with comparison.parquet and Morris/Sobol indices of two outcomes:
    the final adoption share (two parameters matter, five barely: their points crowd the
    origin) and the total cost (about EUR 500,000, one parameter dominates)."""

    def build(folder: Path) -> Path:
        import pandas as pd

        from mensi_sim import sweep
        from mensi_sim.analysis import comparison_table, long_table, sensitivity_analysis

        write_scenario(folder, TINY_SCENARIO)
        spec = folder / "sweep25.toml"
        spec.write_text(SWEEP25, encoding="utf-8")
        out = folder / "sweep"
        result = sweep(spec, executor="serial", out=out, command_line="test")
        result.write_table("comparison", comparison_table(result.summary, "rate=0.05/none"))

        def share(x: np.ndarray) -> np.ndarray:
            small = 0.001 * x[:, 2] + 0.0012 * x[:, 4] + 0.0011 * x[:, 6]
            return 0.2 + 25 * x[:, 0] + 0.04 * (x[:, 1] / 0.015) ** 2 + small

        def cost(x: np.ndarray) -> np.ndarray:
            return 500_000 + 600_000 * x[:, 5] + 20_000 * x[:, 3] + 21_000 * x[:, 4]

        tables = [
            long_table(
                sensitivity_analysis(SENSITIVITY_RANGES, method, n, f, num_resamples=100),
                outcome,
            )
            for outcome, f in (("final_adoption_share", share), ("total_cost", cost))
            for method, n in (("morris", 6), ("sobol", 16))
        ]
        result.write_table("sensitivity", pd.concat(tables, ignore_index=True))
        return out

    return _cached(factory, "sweep25", build)


def check_png(path: Path, size: tuple[int, int] | None = None) -> None:
    """A PNG of the given size (pixels) that is not blank: many colours, real variance."""
    with Image.open(path) as img:
        assert img.format == "PNG", path
        if size is not None:
            assert img.size == size, (path.name, img.size, size)
        rgb = img.convert("RGB")
        colours = len(rgb.getcolors(maxcolors=1 << 24))
        spread = float(np.asarray(rgb, dtype=np.float32).std())
    assert spread > 10, f"{path.name}: nearly uniform image (std {spread:.1f})"
    assert colours > 50, f"{path.name}: only {colours} colours"


def mensi_app():  # noqa: ANN201 - the typer app with every command
    """The real ``mensi-sim`` app."""
    from mensi_sim.cli import app

    return app
