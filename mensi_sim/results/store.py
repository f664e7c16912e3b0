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
from mensi_sim.experiments import folder_lock
from mensi_sim.experiments.design import typed_value
from mensi_sim.experiments.folder_lock import holder
from mensi_sim.experiments.marker import add_written, replace_problem, write_marker
from mensi_sim.experiments.runstore import FRAME_NAMES, MANIFEST_NAME, atomic_parquet
from mensi_sim.files import nearest_existing, os_reason
from mensi_sim.results.checks import check_manifest, check_tables, optional_table_problem

# tables a results directory may hold besides the three of every run and the outcomes by
# group (GROUP_TABLE): written by ``compare`` (comparison, budget, group_comparison, and
# for a PSA psa, ceac, evppi, psa_budget) and ``sensitivity`` (sensitivity, ranking)
OPTIONAL_TABLES = (
    "comparison",
    "sensitivity",
    "budget",
    "group_comparison",
    "psa",
    "ceac",
    "evppi",
    "psa_budget",
    "ranking",
)


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


def _in_place(out: Path, name: str, write: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Call a writer of file ``name`` in the temporary folder of ``out``; an OSError names
    the file as it will be in ``out`` (not the temporary folder, which is removed)."""
    try:
        write(*args, **kwargs)
    except OSError as exc:
        target = Path(exc.filename).name if exc.filename else name
        raise OSError(exc.errno, os_reason(exc), str(out / target)) from None


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
        ancestor = nearest_existing(out.absolute().parent)
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
    problem = replace_problem(out)
    if problem is not None:
        raise ResultsError(f"{out}: {problem}")
    writer = holder(out)
    if writer is not None:
        raise ResultsError(f"{out}: not overwriting: in use by {writer}")
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
            _in_place(out, f"{name}.parquet", _write_parquet, frame, tmp / f"{name}.parquet")
        text = json.dumps(dict(manifest), indent=2, sort_keys=False, allow_nan=False)
        manifest_path = tmp / MANIFEST_NAME
        _in_place(out, MANIFEST_NAME, manifest_path.write_text, text + "\n", encoding="utf-8")
        if add_files is not None:
            _in_place(out, "", add_files, tmp)
        write_marker(tmp, [p.name for p in tmp.iterdir()])
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
    frames["runs"] = expand_parameters(frames["runs"])
    path = d / MANIFEST_NAME
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultsError(f"{path}: cannot read manifest: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise ResultsError(f"{path}: cannot read manifest: it nests too deeply") from None
    check_manifest(manifest, path)
    check_tables(frames, d)
    return frames, manifest


def expand_parameters(runs: pd.DataFrame) -> pd.DataFrame:
    """The run records of a sweep written before parameters had typed columns: the one
    JSON text ``parameters`` becomes a column per parameter, in its place (as
    ``experiments.design.parameter_table`` makes them; a point's column is empty where
    its factors did not set it). Newer records come back as they are."""
    if "parameters" not in runs.columns or not runs["parameters"].map(type).eq(str).all():
        return runs
    values = [json.loads(text) for text in runs["parameters"]]
    wide = pd.DataFrame(
        [{k: typed_value(v) for k, v in row.items()} for row in values], index=runs.index
    )
    wide = wide.drop(columns=[c for c in wide.columns if c in runs.columns])
    at = list(runs.columns).index("parameters")
    return pd.concat([runs.iloc[:, :at], wide, runs.iloc[:, at + 1 :]], axis=1)


def read_table(path: Path, notes: list[str]) -> pd.DataFrame | None:
    """An optional table of a results directory; None when absent or unreadable (with a note)."""
    if not path.is_file():
        return None
    try:
        table = pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is only skipped, with a note
        notes.append(f"{path.name}: cannot read ({' '.join(str(exc).split())}); skipped")
        return None
    problem = optional_table_problem(path.stem, table)
    if problem is not None:
        notes.append(f"{path.name}: {problem}; skipped")
        return None
    return table


def write_table(frame: pd.DataFrame, results_dir: str | Path, name: str) -> Path:
    """Write one more table into a results directory as ``<name>.parquet``, atomically,
    holding the folder's lock (``folder_lock``) and recording it in the folder's mark."""
    return write_tables({name: frame}, results_dir)[0]


def write_tables(frames: Mapping[str, pd.DataFrame], results_dir: str | Path) -> list[Path]:
    """Write tables into a results directory as ``<name>.parquet``, each atomically,
    holding the folder's lock; an OSError names the file and leaves no part behind."""
    folder = Path(results_dir)
    written = []
    with folder_lock.locked(folder):
        for name, frame in frames.items():
            path = folder / f"{name}.parquet"
            atomic_parquet(frame, path)  # an OSError names the file
            written.append(path)
        add_written(folder, written)
    return written
