"""The record of a batch folder, and the check that a batch may be trusted.

Every batch folder under ``<out>/runs/`` holds, besides its tables, ``batch.json``: the
runs it holds (scenario, replicate, status), the rows of each table and the SHA-256 of
each file, written last, before the folder is renamed into place. A resumed sweep trusts
a batch only if ``batch_problem`` finds nothing wrong: the record is there and reads, each
file it lists is there with its checksum, no table is there that it does not list, the
runs table holds exactly the runs of the record, and the row counts agree (one summary row
per successful run). Anything else (a file deleted, truncated or swapped, a record
missing, as in a batch written by an older version) makes the batch damaged: the runner
removes it and its runs are done again.

``check_consolidated`` is the last line of defence: the tables of a finished sweep hold
one summary row and some time-series rows for every successful run, and none for
anything else.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from mensi_sim.errors import ResultsError

RECORD_NAME = "batch.json"
RECORD_FORMAT = "mensi_sim.batch/1"
TABLES = ("runs", "summary", "timeseries")


def sha256(path: Path) -> str:
    """The SHA-256 of a file, in hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def make_record(folder: Path, frames: Mapping[str, pd.DataFrame]) -> dict[str, Any]:
    """The record of a batch whose tables are written in ``folder`` (empty ones are not,
    nor tables a batch does not have: an optimisation's batches hold no time series)."""
    runs = frames["runs"]
    rows = {name: int(len(frames[name])) if name in frames else 0 for name in TABLES}
    return {
        "format": RECORD_FORMAT,
        "runs": [
            [str(s), int(r), str(st)]
            for s, r, st in zip(runs["scenario"], runs["replicate"], runs["status"], strict=True)
        ],
        "rows": rows,
        "sha256": {
            f"{name}.parquet": sha256(folder / f"{name}.parquet") for name in TABLES if rows[name]
        },
    }


def write_record(folder: Path, frames: Mapping[str, pd.DataFrame]) -> None:
    """Write ``batch.json`` into a batch folder whose tables are written."""
    record = make_record(folder, frames)
    (folder / RECORD_NAME).write_text(json.dumps(record) + "\n", encoding="utf-8")


def _read_record(folder: Path) -> dict[str, Any] | str:
    path = folder / RECORD_NAME
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return f"no {RECORD_NAME}"
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return f"{RECORD_NAME} cannot be read"
    if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT:
        return f"{RECORD_NAME} is not a batch record"
    try:
        runs = [(str(s), int(r), str(st)) for s, r, st in record["runs"]]
        rows = {name: int(record["rows"][name]) for name in TABLES}
        sums = {str(k): str(v) for k, v in record["sha256"].items()}
    except (KeyError, TypeError, ValueError):
        return f"{RECORD_NAME} is not a batch record"
    return {"runs": runs, "rows": rows, "sha256": sums}


def batch_problem(folder: Path) -> str | None:
    """What is wrong with a batch folder, in words; None when it may be trusted."""
    record = _read_record(folder)
    if isinstance(record, str):
        return record
    runs, rows, sums = record["runs"], record["rows"], record["sha256"]
    if not runs or rows["runs"] != len(runs):
        return f"{RECORD_NAME} is not a batch record"
    n_ok = sum(1 for *_, status in runs if status == "ok")
    if rows["summary"] != n_ok or (n_ok == 0) != (rows["timeseries"] == 0):
        return f"{RECORD_NAME}: its row counts do not fit its runs"
    for name in TABLES:
        file = f"{name}.parquet"
        path = folder / file
        if rows[name] == 0:
            if path.exists():
                return f"{file} is there but the record has no rows for it"
            continue
        if file not in sums:
            return f"{file} has no checksum in the record"
        if not path.is_file():
            return f"{file} is missing"
        if sha256(path) != sums[file]:
            return f"{file} does not match its checksum"
    try:
        table = pq.read_table(folder / "runs.parquet", columns=["scenario", "replicate", "status"])
    except Exception as exc:  # noqa: BLE001 - any unreadable table makes the batch damaged
        return f"runs.parquet cannot be read ({type(exc).__name__})"
    held = list(
        zip(
            table.column("scenario").to_pylist(),
            table.column("replicate").to_pylist(),
            table.column("status").to_pylist(),
            strict=True,
        )
    )
    if held != runs:
        return "runs.parquet does not hold the runs of the record"
    return None


def _run_keys(frame: pd.DataFrame) -> set[tuple[str, int]]:
    """The (scenario, replicate) pairs that have rows in ``frame``: the pairs are made
    unique in pandas first (a time series holds one row per week of each run)."""
    if frame.empty:
        return set()
    pairs = frame[["scenario", "replicate"]].drop_duplicates()
    return set(
        zip(pairs["scenario"].tolist(), pairs["replicate"].astype(int).tolist(), strict=True)
    )


def check_consolidated(tables: Mapping[str, pd.DataFrame], where: Path) -> None:
    """ResultsError unless every successful run has one summary row and time-series rows,
    and no other run has any."""
    runs = tables["runs"]
    ok = _run_keys(runs[runs["status"] == "ok"]) if not runs.empty else set()
    for name in ("summary", "timeseries"):
        frame = tables[name]
        keys = _run_keys(frame)
        if keys != ok or (name == "summary" and len(frame) != len(ok)):
            raise ResultsError(
                f"{where}: {name}: {len(keys)} runs with rows, {len(ok)} successful runs "
                "(the batch folders disagree; resume again to redo them)"
            )
