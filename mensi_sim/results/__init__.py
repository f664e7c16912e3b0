"""Results: the one results object, and results directories on disk.

    from mensi_sim import simulate, Results
    res = simulate(load_scenario("scenarios/mensi_pilot.toml"), replications=20, seed=1)
    res.save("results/my-run")                  # atomic: all files or none
    back = Results.load("results/my-run")       # .timeseries .summary .runs .manifest

A results directory holds ``timeseries.parquet``, ``summary.parquet``,
``runs.parquet`` and ``manifest.json`` (see README.md, "Results directory"), and the
tables an analysis added (``comparison.parquet``, ``sensitivity.parquet``,
``budget.parquet``).
"""

from mensi_sim.experiments.manifest import build_manifest
from mensi_sim.experiments.runstore import FRAME_NAMES, MANIFEST_NAME
from mensi_sim.results.results import Results
from mensi_sim.results.store import check_target, write_results

__all__ = [
    "FRAME_NAMES",
    "MANIFEST_NAME",
    "Results",
    "build_manifest",
    "check_target",
    "write_results",
]
