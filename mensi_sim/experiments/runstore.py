"""Files of a sweep: one folder per finished batch of runs, consolidated tables, manifest.

Layout of a sweep's results directory ``<out>``::

    <out>/manifest.json              written at the start (status "running") and at the end
    <out>/runs/<stamp>-<id>/         one per finished batch: runs/summary/timeseries.parquet
    <out>/runs.parquet               consolidated from runs/, sorted by (scenario, replicate)
    <out>/summary.parquet
    <out>/timeseries.parquet
    <out>/group_summary.parquet      outcomes by country, region and disadvantage band

A batch folder is written under a hidden temporary name and renamed into place
(``os.replace``), so it is either complete or absent; its record ``batch.json`` (runs,
rows, checksums: ``batch_record``) lets a resumed sweep check it before trusting it
(``drop_damaged``). Consolidated files and the manifest are written to a temporary file
and renamed in the same way.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from mensi_sim.experiments import batch_record
from mensi_sim.files import naming_file

RUNS_DIR = "runs"
FRAME_NAMES = ("timeseries", "summary", "runs")  # the tables of every results directory
GROUP_TABLE = "group_summary"  # outcomes by country, region and band (mensi_sim.groups)
MANIFEST_NAME = "manifest.json"
KEY = ["scenario", "replicate"]


def atomic_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write a DataFrame as Parquet to a temporary sibling and rename it into place."""
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp)
        os.replace(tmp, path)
    except OSError as exc:
        raise naming_file(exc, path) from None
    finally:
        tmp.unlink(missing_ok=True)


def atomic_json(data: Mapping[str, Any], path: Path) -> None:
    """Write JSON to a temporary sibling and rename it into place."""
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        text = json.dumps(dict(data), indent=2, allow_nan=False, default=str)
        tmp.write_text(text + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise naming_file(exc, path) from None
    finally:
        tmp.unlink(missing_ok=True)


def write_batch(out: Path, frames: Mapping[str, pd.DataFrame]) -> Path:
    """One finished batch as a folder under ``<out>/runs/``, atomically.

    Empty frames (e.g. the summary of a batch whose runs all failed) are not written.
    """
    root = out / RUNS_DIR
    root.mkdir(parents=True, exist_ok=True)
    name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
    tmp = root / f".tmp-{name}"
    tmp.mkdir()
    try:
        for key, frame in frames.items():
            if len(frame):
                pq.write_table(
                    pa.Table.from_pandas(frame, preserve_index=False), tmp / f"{key}.parquet"
                )
        batch_record.write_record(tmp, frames)
        os.replace(tmp, root / name)
    except OSError as exc:
        raise naming_file(exc, root / name) from None
    finally:
        if tmp.exists():
            for f in tmp.iterdir():
                f.unlink()
            tmp.rmdir()
    return root / name


def remove_leftovers(out: Path) -> None:
    """Remove the temporary batch folders a killed sweep may have left behind."""
    root = out / RUNS_DIR
    if not root.is_dir():
        return
    for tmp in root.glob(".tmp-*"):
        for f in tmp.iterdir():
            f.unlink(missing_ok=True)
        tmp.rmdir()


def drop_damaged(out: Path) -> list[str]:
    """Remove the batch folders that may not be trusted (``batch_record.batch_problem``),
    so that their runs are done again; one note per folder removed."""
    notes = []
    for folder in batch_dirs(out):
        problem = batch_record.batch_problem(folder)
        if problem is not None:
            shutil.rmtree(folder)
            notes.append(f"{RUNS_DIR}/{folder.name}: damaged ({problem}); its runs are redone")
    return notes


def batch_dirs(out: Path) -> list[Path]:
    """The complete batch folders, oldest first (temporary ones are ignored)."""
    root = out / RUNS_DIR
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def _read(path: Path, columns: list[str] | None = None) -> pd.DataFrame | None:
    return pq.read_table(path, columns=columns).to_pandas() if path.is_file() else None


#: the frames of batch folders this process wrote, by folder name (``write_batch``'s
#: input): what ``consolidate`` would read back
Written = Mapping[str, Mapping[str, pd.DataFrame]]


def _table(folder: Path, name: str, written: Written | None) -> pd.DataFrame | None:
    """Table ``name`` of a batch folder: the frame this process wrote there, else read."""
    if written is not None and folder.name in written:
        frame = written[folder.name].get(name)
        return frame if frame is not None and len(frame) else None  # as write_batch skips
    return _read(folder / f"{name}.parquet")


def read_runs(out: Path, written: Written | None = None) -> pd.DataFrame:
    """Every run record of every batch, with the batch folder's name in column ``batch``
    (``written``: the frames of folders this process wrote, not read again)."""
    frames = []
    for d in batch_dirs(out):
        frame = _table(d, "runs", written)
        if frame is not None:
            frames.append(frame.assign(batch=d.name))
    if not frames:
        return pd.DataFrame(columns=[*KEY, "status", "batch"])
    return pd.concat(frames, ignore_index=True)


def winning_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """One record per (scenario, replicate): an ok run over a failed one, else the newest.

    A run is only redone when it failed or is missing, so duplicates arise only
    from retried failures; this picks the retry.
    """
    if runs.empty:
        return runs
    order = runs.assign(_ok=(runs["status"] == "ok").astype(int))
    order = order.sort_values(["_ok", "batch"], kind="mergesort")
    return order.drop_duplicates(KEY, keep="last").drop(columns="_ok")


def read_summaries(out: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """The summary rows of every batch (optionally only some columns)."""
    frames = []
    for d in batch_dirs(out):
        frame = _read(d / "summary.parquet", columns)
        if frame is not None:
            frames.append(frame.assign(batch=d.name))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def consolidate(
    out: Path, order: Mapping[str, int], written: Written | None = None
) -> dict[str, pd.DataFrame]:
    """The three tables from the batch folders, deduplicated and sorted by design order.

    Args:
        out: The sweep's results directory.
        order: Design position of each scenario name (the sort key before replicate).
        written: The frames of the batch folders this process wrote, by folder name: not
            read back (the same values and types; a quarter of a second at 200 runs).
    """
    everything = read_runs(out, written)
    runs = winning_runs(everything)
    won = _winners_by_batch(runs)
    held = everything.groupby("batch").size() if len(everything) else pd.Series(dtype=int)
    tables: dict[str, list[pd.DataFrame]] = {"summary": [], "timeseries": [], GROUP_TABLE: []}
    for d in batch_dirs(out):
        winners = won.get(d.name)
        if winners is None:
            continue  # none of its runs is kept (each was done again later)
        whole = len(winners) == held.get(d.name, 0)  # every run of the folder is kept
        for name in tables:
            frame = _table(d, name, written)
            if frame is None:
                continue
            if not whole:
                key = pd.MultiIndex.from_arrays([frame["scenario"], frame["replicate"]])
                frame = frame[key.isin(winners)]
            tables[name].append(frame)
    result = {"runs": runs.drop(columns="batch")}
    for name, frames in tables.items():
        result[name] = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    for name, frame in result.items():
        if frame.empty:
            continue
        rank = frame["scenario"].map(order)
        sort_cols = ["_point", "replicate"] + (["step"] if name == "timeseries" else [])
        frame = frame.assign(_point=rank).sort_values(sort_cols, kind="mergesort")
        result[name] = frame.drop(columns="_point").reset_index(drop=True)
    return result


def _winners_by_batch(runs: pd.DataFrame) -> dict[str, pd.MultiIndex]:
    """The (scenario, replicate) of the kept runs, by the batch folder that holds them."""
    return {
        str(batch): pd.MultiIndex.from_arrays([frame["scenario"], frame["replicate"]])
        for batch, frame in runs.groupby("batch", sort=False)
    }


def write_tables(out: Path, tables: Mapping[str, pd.DataFrame]) -> None:
    """Write the consolidated tables, each atomically (the group table when there is one)."""
    for name in FRAME_NAMES:
        atomic_parquet(tables[name], out / f"{name}.parquet")
    if len(tables.get(GROUP_TABLE, ())):
        atomic_parquet(tables[GROUP_TABLE], out / f"{GROUP_TABLE}.parquet")


def read_manifest(out: Path) -> dict[str, Any] | None:
    """The manifest of a results directory, or None if it has none or it is unreadable."""
    path = out / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None
