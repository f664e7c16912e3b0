"""What a results directory read back must look like before anything uses it.

A results folder can be damaged or hand-edited: a ``manifest.json`` whose fields have the
wrong types (``"budget": {"amount": "lots"}``), a ``summary.parquet`` swapped with
``timeseries.parquet``, a table without its ``scenario`` column, a
``sensitivity.parquet`` from somewhere else. ``check_manifest`` and ``check_tables`` turn
each into one line naming the file and the field (``Results.load`` raises it);
``optional_table_problem`` says why an analysis table cannot be used (it is then
skipped with a note, as an unreadable one is).

The manifest is checked with a lax schema: only the fields mensi_sim reads, each of its
type or absent, any other field allowed (a newer version may add some).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mensi_sim.errors import ResultsError
from mensi_sim.scenario.loader import format_validation_error
from mensi_sim.seeds import MAX_SEED


class _Lax(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class _ScenarioEntry(_Lax):
    name: str
    point: int | None = None
    scenario_hash: str | None = None
    overrides: dict[str, Any] | None = None
    sample: list[Any] | None = None
    structure: str | None = None


class _Budget(_Lax):
    amount: float = Field(gt=0, allow_inf_nan=False)
    group_by: str = "network.structure"


class _Adaptive(_Lax):
    precision: float | None = None
    outcome: str | None = None
    max_replications: int | None = None


class ManifestShape(_Lax):
    """The fields of a manifest that mensi_sim reads, with their types."""

    format: str | None = None
    kind: Literal["experiment"] | None = None
    scenario: str | None = None
    experiment: str | None = None
    experiment_hash: str | None = None
    scenario_hash: str | None = None
    source_path: str | None = None
    root_seed: int | None = Field(None, ge=0, le=MAX_SEED)
    replications: int | None = Field(None, ge=0)
    replications_per_scenario: dict[str, int] | None = None
    steps: int | None = Field(None, ge=0)
    outcomes: list[str] | None = None
    baseline: str | None = None
    budget: _Budget | None = None
    scenarios: list[_ScenarioEntry] | None = None
    parameters: dict[str, Any] | None = None
    base_parameters: dict[str, Any] | None = None
    experiment_spec: dict[str, Any] | None = None
    versions: dict[str, str | None] | None = None
    git_commit: str | None = None
    git_dirty: bool | None = None
    command_line: str | None = None
    executor: str | None = None
    status: str | None = None
    created_utc: str | None = None
    completed_utc: str | None = None
    adaptive: _Adaptive | None = None


def check_manifest(manifest: Any, path: Path) -> None:
    """ResultsError naming the manifest and its first bad field, if it has one."""
    if not isinstance(manifest, dict):
        raise ResultsError(f"{path}: manifest is not a JSON object")
    try:
        ManifestShape.model_validate(manifest)
    except ValidationError as err:
        raise ResultsError(format_validation_error(err, str(path), ManifestShape)) from None
    except RecursionError:
        raise ResultsError(f"{path}: manifest nests too deeply") from None


# (columns every non-empty table must have, the key its rows are unique by)
TABLE_SHAPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "runs": (("scenario", "replicate", "status"), ("scenario", "replicate")),
    "summary": (("scenario", "replicate"), ("scenario", "replicate")),
    "timeseries": (("scenario", "replicate", "step"), ("scenario", "replicate", "step")),
}


def _table_problem(name: str, frame: pd.DataFrame) -> str | None:
    if frame.empty and not len(frame.columns):
        return None  # e.g. the summary of a sweep whose runs all failed
    if name == "summary" and "step" in frame.columns:
        return "holds a column 'step': it looks like a time series (are the files swapped?)"
    columns, key = TABLE_SHAPES[name]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        swapped = name == "timeseries" and "final_adoption_share" in frame.columns
        hint = " (it looks like a summary: are the files swapped?)" if swapped else ""
        return f"no column {missing[0]!r}{hint}"
    if not pd.api.types.is_integer_dtype(frame["replicate"]):
        return f"column 'replicate' holds {frame['replicate'].dtype} values, not whole numbers"
    if frame.duplicated(list(key)).any():
        return f"more than one row per ({', '.join(key)})"
    return None


def check_tables(frames: dict[str, pd.DataFrame], folder: Path) -> None:
    """ResultsError naming the first table of a results directory that is not what its
    name says (missing key columns, duplicate rows, a table swapped with another)."""
    for name in TABLE_SHAPES:
        problem = _table_problem(name, frames[name])
        if problem is not None:
            raise ResultsError(f"{folder / (name + '.parquet')}: {problem}")


# columns the views read of each analysis table (tests/test_results_checks.py holds these
# against tables the analyses really make, so a renamed column is caught)
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "comparison": (
        "scenario",
        "baseline",
        "mean_cost",
        "delta_cost",
        "delta_effect",
        "icer",
        "dominance",
        "frontier",
    ),
    "sensitivity": ("method", "outcome", "parameter", "index", "value", "conf", "noise_share"),
    "budget": ("group", "outcome", "lower", "upper", "weight", "spent", "difference"),
}


def optional_table_problem(name: str, frame: pd.DataFrame) -> str | None:
    """Why an analysis table (comparison, sensitivity, budget) cannot be used, or None."""
    missing = [c for c in OPTIONAL_COLUMNS.get(name, ()) if c not in frame.columns]
    if missing:
        return f"not a {name} table (no column {missing[0]!r})"
    if frame.empty:
        return f"an empty {name} table"
    return None


def finite_problem(frame: pd.DataFrame, columns: tuple[str, ...]) -> str | None:
    """Which column of a summary is missing or not a finite number in some row, or None."""
    for column in columns:
        if column not in frame.columns:
            return f"no column {column!r}"
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
        bad = int((~np.isfinite(values)).sum())
        if bad:
            return f"{column} is not a finite number in {bad} of {len(frame)} runs"
    return None
