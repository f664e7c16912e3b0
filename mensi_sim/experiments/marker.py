"""The mark mensi_sim leaves in a results folder, and the files it wrote there.

``--overwrite`` replaces a results folder, so it must never replace a folder that only
looks like one (a web page's folder may well hold a ``manifest.json``), nor take with it
a file a user put into a real one. Every writer of a results folder records what it
wrote in ``<folder>/.mensi_sim``, a small JSON file whose name no other tool uses:
``Results.save`` (``results.store.write_results``) and the sweep's runner when they
create the folder, ``Results.write_table``, the figures and the report when they add
to it. ``foreign_entries`` lists what is in a folder that mensi_sim did not write (None
when the folder has no mark at all); a folder is overwritten only when that list is
empty.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

MARKER_NAME = ".mensi_sim"
MARKER_FORMAT = "mensi_sim.folder/1"
#: hidden files of mensi_sim's own that are in a results folder besides what it lists
OWN_HIDDEN = (MARKER_NAME, ".mensi_sim.lock")


def read_marker(folder: str | Path) -> dict[str, Any] | None:
    """The mark of a results folder, or None when it has none (or not one of ours)."""
    try:
        data = json.loads((Path(folder) / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("format") != MARKER_FORMAT:
        return None
    if not isinstance(data.get("files"), list):
        return None
    return data


def write_marker(folder: str | Path, names: Iterable[str]) -> None:
    """Mark ``folder`` as mensi_sim's, listing ``names`` (and what its mark listed before)
    as written by mensi_sim; written atomically."""
    folder = Path(folder)
    before = read_marker(folder)
    files = set(before["files"] if before else []) | {str(n) for n in names}
    files -= set(OWN_HIDDEN)
    data = {"format": MARKER_FORMAT, "written_by": "mensi_sim", "files": sorted(files)}
    tmp = folder / f".{MARKER_NAME}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, folder / MARKER_NAME)
    finally:
        tmp.unlink(missing_ok=True)


def add_written(folder: str | Path, paths: Iterable[str | Path]) -> None:
    """Record files mensi_sim wrote directly in a marked results folder (nothing happens
    for a folder without the mark, or for paths outside the folder)."""
    folder = Path(folder)
    if read_marker(folder) is None:
        return
    names = [Path(p).name for p in paths if Path(p).parent.resolve() == folder.resolve()]
    if names:
        write_marker(folder, names)


def foreign_entries(folder: str | Path) -> list[str] | None:
    """The entries of ``folder`` mensi_sim did not write (sorted); None without a mark."""
    marker = read_marker(folder)
    if marker is None:
        return None
    ours = set(marker["files"]) | set(OWN_HIDDEN)
    return sorted(p.name for p in Path(folder).iterdir() if p.name not in ours)


def replace_problem(folder: str | Path) -> str | None:
    """Why ``--overwrite`` may not replace the non-empty ``folder`` (None: it may): a
    folder mensi_sim did not write, or one holding files it did not write, is kept."""
    foreign = foreign_entries(folder)
    if foreign is None:
        return (
            "not overwriting a non-empty directory that is not a results directory "
            f"(mensi_sim did not write it: no {MARKER_NAME} mark)"
        )
    if foreign:
        more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        return (
            f"not overwriting: it holds files mensi_sim did not write "
            f"({', '.join(foreign[:3])}{more}); move them, or use another folder"
        )
    return None
