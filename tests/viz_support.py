"""Small results directories for the plot, report and app tests (built once per session).

``run_results`` is a ``mensi-sim run``-style directory of the tiny scenario;
``sweep_results`` a real sweep of three structures on it (``mensi_sim.sweep``,
serial), with ``comparison.parquet`` from ``comparison_table`` and a
``sensitivity.parquet`` in the long format of ``mensi-sim sensitivity`` (Morris
and Sobol indices of a toy function, from the same SALib pipeline).
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
