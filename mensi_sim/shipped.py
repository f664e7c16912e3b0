"""The data folders that ship with mensi_sim, and finding a shipped file by its name.

``FOLDERS`` lists the folders of the project that are package data: the built wheel
holds each one that exists under ``mensi_sim/shipped/<folder>/`` (``setup.py`` copies
them; add a folder here and it ships). In a checkout (an editable install) they are
read where they are, beside the package. Inside them, relative paths keep working
(an experiment's ``base.scenario = "../scenarios/mensi_pilot.toml"``), because the
folders keep their places side by side.

``locate("mensi_pilot", "scenarios")`` is how every command and ``load_scenario``
accept a shipped name as well as a path. This module uses the standard library only
(``setup.py`` reads ``FOLDERS`` from its text).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["FOLDERS", "folder", "locate", "names"]

# the project's data folders that ship as package data, in the order they are listed
FOLDERS = ("scenarios", "experiments", "evidence", "rosters")
SUFFIX = ".toml"  # a name without a suffix is looked up as <name>.toml

_PACKAGE = Path(__file__).resolve().parent
_IN_WHEEL = _PACKAGE / "shipped"  # where the wheel puts the folders
_CHECKOUT = _PACKAGE.parent  # a source checkout: the folders beside mensi_sim/


def folder(name: str) -> Path | None:
    """The shipped folder ``name`` (one of ``FOLDERS``): in the installed package, else in
    the checkout holding it; None where neither has it."""
    if name not in FOLDERS:
        raise ValueError(f"{name!r} is not a shipped folder ({', '.join(FOLDERS)})")
    if (_IN_WHEEL / name).is_dir():
        return _IN_WHEEL / name
    if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / name).is_dir():
        return _CHECKOUT / name
    return None


def names(kind: str) -> list[str]:
    """The names of the shipped files of a folder (``<name>.toml``, without the suffix)."""
    d = folder(kind)
    return sorted(p.stem for p in d.glob(f"*{SUFFIX}")) if d is not None else []


def locate(path: str | Path, kind: str) -> Path:
    """The file to read for ``path``: the path itself when it is a file, else the shipped file.

    A bare name (``mensi_pilot`` or ``mensi_pilot.toml``) is looked up in the shipped
    folder ``kind``; a relative path that starts with a shipped folder
    (``scenarios/mensi_pilot.toml``, as the README writes it) under the shipped folders.
    Anything else, and anything not found, comes back as given, so that the caller's
    "file not found" names what the user typed.
    """
    p = Path(path)
    if p.is_file() or p.is_absolute():
        return p
    d = folder(kind)
    if d is None:
        return p
    if len(p.parts) == 1:
        for candidate in (d / p.name, d / f"{p.name}{SUFFIX}"):
            if candidate.is_file():
                return candidate
    elif p.parts[0] in FOLDERS:
        root = d.parent
        if (root / p).is_file():
            return root / p
    return p
