"""Writing and reading results directories, atomically (``Results.save`` and ``.load``).

``write_results`` builds the whole directory under a hidden temporary sibling
(``.<name>.tmp-<random>``) and renames it into place only when every file is
written, so a crash or an error never leaves a half-written results directory:
either the complete directory exists or nothing does. ``read_folder`` reads the
three tables and the manifest back; ``read_table`` an optional table (comparison,
sensitivity, budget) that a damaged file only makes missing.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from mensi_sim.errors import ResultsError
from mensi_sim.experiments.runstore import FRAME_NAMES, MANIFEST_NAME, atomic_parquet

# tables a results directory may hold besides the three of every run and the outcomes by
# group (GROUP_TABLE): written by ``compare`` (comparison, budget, group_comparison) and
# ``sensitivity``
OPTIONAL_TABLES = ("comparison", "sensitivity", "budget", "group_comparison")


def _frames_of(result_or_frames: Any) -> dict[str, pd.DataFrame]:
    """The three frames of a Results (or anything with the three attributes) or a mapping."""
    frames: dict[str, pd.DataFrame] = {}
    for name in FRAME_NAMES:
        if isinstance(result_or_frames, Mapping):
            frame = result_or_frames.get(name)
        else:
            frame = getattr(result_or_frames, name, None)
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"write_results: no DataFrame {name!r} in {type(result_or_frames)}")
        frames[name] = frame
    return frames


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """One DataFrame as a Parquet file (pyarrow; the index is not stored)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table, path)


def _fsync_dir(path: Path) -> None:
    """Flush a directory entry to disk where the platform allows it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _missing_ancestors(path: Path) -> list[Path]:
    """The folders on the way to ``path`` (itself included) that do not exist yet, deepest first."""
    missing = []
    p = path.absolute()
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    return missing


def _remove_empty(folders: list[Path]) -> None:
    """Remove folders this module created, deepest first, while they are empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def check_target(out_dir: str | Path, overwrite: bool = False) -> bool:
    """Check that ``write_results`` may create ``out_dir``, before any work is done.

    Returns:
        Whether ``out_dir`` exists and will be replaced.

    Raises:
        ResultsError: ``out_dir`` is a non-empty directory (and ``overwrite`` is
            off, or it is not a results directory), is a file, or lies under a
            file or a folder that cannot be written.
    """
    out = Path(out_dir)
    if not out.exists():
        ancestor = out.absolute().parent
        while not ancestor.exists() and ancestor != ancestor.parent:
            ancestor = ancestor.parent
        if not ancestor.is_dir():
            raise ResultsError(f"{out}: cannot create: {ancestor} is not a directory")
        if not os.access(ancestor, os.W_OK | os.X_OK):
            raise ResultsError(f"{out}: cannot create: {ancestor} is not writable")
        return False
    if not out.is_dir():
        raise ResultsError(f"{out}: exists and is not a directory")
    if not os.access(out.absolute().parent, os.W_OK | os.X_OK):
        raise ResultsError(f"{out}: cannot replace: {out.absolute().parent} is not writable")
    if not any(out.iterdir()):
        return True
    if not overwrite:
        raise ResultsError(f"{out}: directory exists and is not empty (use --overwrite)")
    if not (out / MANIFEST_NAME).is_file():
        raise ResultsError(
            f"{out}: not overwriting a non-empty directory that is not a results directory "
            f"(no {MANIFEST_NAME})"
        )
    return True


def write_results(
    result_or_frames: Any,
    out_dir: str | Path,
    *,
    manifest: Mapping[str, Any],
    overwrite: bool = False,
    add_files: Callable[[Path], None] | None = None,
    tables: Mapping[str, pd.DataFrame] | None = None,
) -> Path:
    """Write a results directory atomically and return its path.

    Args:
        result_or_frames: A ``Results`` (anything with ``timeseries``, ``summary``
            and ``runs`` DataFrame attributes) or a mapping with those three keys.
        out_dir: The directory to create. Its parent folders are created.
        manifest: JSON-serialisable metadata (see ``build_manifest``), written
            as ``manifest.json``.
        overwrite: Replace an existing non-empty results directory. A
            non-empty directory without ``manifest.json`` is never replaced.
        add_files: Called with the temporary directory before it is renamed
            into place, to add files (e.g. plots) that must land together with
            the results.
        tables: More tables to write as ``<name>.parquet`` (e.g. ``comparison``).

    Raises:
        ResultsError: ``out_dir`` exists and may not be replaced.
        OSError: The directory cannot be written (nothing is left behind).
    """
    out = Path(out_dir)
    frames = _frames_of(result_or_frames)
    replace = check_target(out, overwrite)
    created = _missing_ancestors(out.parent)
    out.parent.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:12]
    tmp = out.parent / f".{out.name}.tmp-{token}"
    old = out.parent / f".{out.name}.old-{token}"
    try:
        tmp.mkdir()
    except BaseException:
        _remove_empty(created)
        raise
    try:
        for name, frame in {**frames, **dict(tables or {})}.items():
            _write_parquet(frame, tmp / f"{name}.parquet")
        text = json.dumps(dict(manifest), indent=2, sort_keys=False, allow_nan=False)
        (tmp / MANIFEST_NAME).write_text(text + "\n", encoding="utf-8")
        if add_files is not None:
            add_files(tmp)
        _fsync_dir(tmp)
        # the target may have appeared meanwhile: check again right before the rename
        replace = check_target(out, overwrite)
        if replace:
            os.replace(out, old)
            try:
                os.replace(tmp, out)
            except BaseException:
                os.replace(old, out)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
        _fsync_dir(out.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        _remove_empty(created)
        raise
    return out


def read_folder(results_dir: str | Path) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """The three tables and the manifest of a results directory.

    Returns:
        ``({"timeseries": DataFrame, "summary": DataFrame, "runs": DataFrame}, manifest)``.

    Raises:
        ResultsError: One line naming the directory and what is missing or broken.
    """
    d = Path(results_dir)
    if not d.is_dir():
        raise ResultsError(f"{d}: not a results directory (no such directory)")
    missing = [f"{n}.parquet" for n in FRAME_NAMES if not (d / f"{n}.parquet").is_file()]
    if not (d / MANIFEST_NAME).is_file():
        missing.append(MANIFEST_NAME)
    if missing:
        raise ResultsError(f"{d}: not a results directory (missing {', '.join(missing)})")
    frames: dict[str, pd.DataFrame] = {}
    for name in FRAME_NAMES:
        path = d / f"{name}.parquet"
        try:
            frames[name] = pq.read_table(path).to_pandas()
        except (OSError, pa.ArrowException) as exc:
            raise ResultsError(
                f"{path}: cannot read Parquet: {' '.join(str(exc).split())}"
            ) from None
    path = d / MANIFEST_NAME
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultsError(f"{path}: cannot read manifest: {' '.join(str(exc).split())}") from None
    if not isinstance(manifest, dict):
        raise ResultsError(f"{path}: manifest is not a JSON object")
    return frames, manifest


def read_table(path: Path, notes: list[str]) -> pd.DataFrame | None:
    """An optional table of a results directory; None when absent or unreadable (with a note)."""
    if not path.is_file():
        return None
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is only skipped, with a note
        notes.append(f"{path.name}: cannot read ({' '.join(str(exc).split())}); skipped")
        return None


def write_table(frame: pd.DataFrame, results_dir: str | Path, name: str) -> Path:
    """Write one more table into a results directory as ``<name>.parquet``, atomically."""
    path = Path(results_dir) / f"{name}.parquet"
    atomic_parquet(frame, path)
    return path
