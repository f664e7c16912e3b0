"""Build hook of mensi_sim: the wheel ships the project's data folders as package data.

Everything else about the package is in pyproject.toml. The folders are the ones
``FOLDERS`` of mensi_sim/shipped.py lists (scenarios, experiments, and evidence and
rosters when they exist); each is copied whole to ``mensi_sim/shipped/<folder>/`` in
the wheel, where ``mensi_sim.shipped`` finds them. A plain ``package-data`` entry
cannot do this: the folders sit beside the package, not inside it, and stay there so
that the README's paths (``scenarios/mensi_pilot.toml``) work in a checkout.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
IGNORED = shutil.ignore_patterns(".*", "__pycache__", "*.pyc")


def shipped_folders() -> tuple[str, ...]:
    """``FOLDERS`` of mensi_sim/shipped.py, read from its text (the package is not
    importable while it is being built)."""
    tree = ast.parse((ROOT / "mensi_sim" / "shipped.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "FOLDERS" for t in node.targets
        ):
            return tuple(ast.literal_eval(node.value))
    raise RuntimeError("mensi_sim/shipped.py defines no FOLDERS")


class BuildWithData(build_py):
    """``build_py`` that also copies the shipped data folders into the built package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):  # an editable install reads them in place
            return
        target = Path(self.build_lib) / "mensi_sim" / "shipped"
        for name in shipped_folders():
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, target / name, ignore=IGNORED, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildWithData})
