"""Results on disk: one folder per run or sweep, written atomically.

A results directory holds ``timeseries.parquet``, ``summary.parquet``,
``runs.parquet`` and ``manifest.json`` (see README.md, "Results directory").
"""

from mensi_sim.results.manifest import build_manifest
from mensi_sim.results.store import (
    FRAME_NAMES,
    MANIFEST_NAME,
    read_results,
    write_results,
)

__all__ = ["FRAME_NAMES", "MANIFEST_NAME", "build_manifest", "read_results", "write_results"]
