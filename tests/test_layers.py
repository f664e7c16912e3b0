"""The floors of mensi_sim: imports go down, never up, and no import cycle runs.

The package is built in floors (docs/ARCHITECTURE.md). Each module sits on one floor
and imports only from its own floor or the floors below:

    foundation   errors, codes, seeds, stats, formats   (import nothing of mensi_sim
                                                          above themselves)
    scenario     scenario/
    world        population, networks/, world, state
    dynamics     dynamics/, metrics, outcomes, plausibility
    model        model, agents, calibration              (the Mesa model)
    experiments  experiments/                            (designs, runner, executors,
                                                          run store, one replicate)
    results      results/, simulate, the package itself  (the one Results object)
    analysis     analysis/                               (pure functions of tables)
    views        plotting/, report/, viz/                (read Results and analyses)
    cli          cli/                                    (every command; prints)

The shared small modules sit on the lowest floor that can hold them: errors, codes,
seeds, stats (the Student-t half-width) and formats (the number formatter) import
nothing else of mensi_sim; metrics and outcomes (the outcome table) describe the
model's outputs beside the rules; simulate makes Results, so it is on their floor.

Checked here, by parsing every module (``ast``): every import -- at module level,
inside a function (deferred), or under ``if TYPE_CHECKING`` -- goes to the same floor
or one below, except those listed in ``UPWARD_CALLS`` (``Results.comparison``,
``.group_comparison``, ``.headline_by``, ``.sensitivity``, ``.psa`` and ``.plot`` call the
floors above through a deferred import, by design); and the runtime imports (all but
TYPE_CHECKING ones and those) form
no cycle, counting that importing ``a.b.c`` first runs the ``__init__`` of ``a.b``.
A module on no floor fails too: a new top-level module needs a line in ``FLOORS``
(and in docs/ARCHITECTURE.md). Only the cli floor prints, and above the model floor
only ``experiments.replicate`` builds a model (the model of a recorded run).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = "mensi_sim"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE

# floor name -> the top-level modules and packages of mensi_sim on it, bottom first;
# "" is the package itself (mensi_sim/__init__.py)
FLOORS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "foundation",
        (
            "errors",
            "codes",
            "seeds",
            "stats",
            "formats",
            "registry",
            "files",
            "resources",
            "interrupts",
            "shipped",
        ),
    ),
    ("scenario", ("scenario",)),
    ("world", ("population", "networks", "world", "state", "ties")),
    ("dynamics", ("dynamics", "metrics", "outcomes", "plausibility", "groups")),
    ("model", ("model", "agents", "collector", "calibration")),
    ("experiments", ("experiments",)),
    ("results", ("results", "simulate", "")),
    ("analysis", ("analysis", "ema")),
    ("views", ("plotting", "report", "viz")),
    ("cli", ("cli",)),
)
# (importing module, function, imported module): the only imports upward. Results hangs
# comparisons, sensitivity indices and its quick figure off itself (DESIGN.md section 3).
UPWARD_CALLS = {
    ("mensi_sim.results.results", "Results.comparison", "mensi_sim.analysis.comparison"),
    ("mensi_sim.results.results", "Results.sensitivity", "mensi_sim.analysis.sensitivity"),
    ("mensi_sim.results.results", "Results.plot", "mensi_sim.plotting.timeseries"),
    ("mensi_sim.results.results", "Results.headline_by", "mensi_sim.analysis.groups"),
    ("mensi_sim.results.results", "Results.group_comparison", "mensi_sim.analysis.groups"),
    ("mensi_sim.results.results", "Results.psa", "mensi_sim.analysis.psa"),
}
# modules outside the cli floor that still print, each with the reason it may
PRINTING_ALLOWED: dict[str, str] = {
    "mensi_sim.results.progress": "the progress bar simulate(progress=True) asks for",
}
PRINTERS = {"print", "echo", "secho"}  # print(), typer.echo/secho; rich Console below
# Above the model floor, a model is built only here: the model of a recorded run
# (experiments.replicate.replicate_model; Results.model and the network view use it).
MODEL_ENTRY_POINT = "mensi_sim.experiments.replicate"
MODEL_BUILDERS_ALLOWED = {
    # SolaraViz re-creates the app's model from its controls, so VizModel subclasses
    # MentoringModel; it seeds it as replicate_model does (replicate 0 of the root seed,
    # tests/test_viz_app.py: the same schools as `run --seed`)
    "mensi_sim.viz.model": "the app's model, re-created from its controls by SolaraViz",
}


@dataclass(frozen=True)
class Import:
    """One import statement's edge: who imports what, where, and whether at run time."""

    source: str  # importing module
    target: str  # imported module (a module or package of mensi_sim)
    function: str  # qualified name of the enclosing function ("" at module level)
    type_only: bool  # under ``if TYPE_CHECKING``
    implicit: bool = False  # an ``__init__`` run on the way to the target
    line: int = 0


def module_name(root: Path, path: Path) -> str:
    """``mensi_sim.a.b`` of ``<root>/a/b.py`` (a package: its ``__init__.py``)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([PACKAGE, *parts])


def modules(root: Path) -> dict[str, Path]:
    """Every module of the package under ``root``, by name."""
    return {module_name(root, p): p for p in sorted(root.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _ancestors(module: str) -> list[str]:
    """The packages above a module inside mensi_sim, without mensi_sim itself."""
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(2, len(parts))]


class _Collector(ast.NodeVisitor):
    def __init__(self, source: str, is_package: bool, known: set[str]) -> None:
        self.source, self.is_package, self.known = source, is_package, known
        self.scope: list[str] = []
        self.type_only = 0
        self.found: list[Import] = []

    def _add(self, target: str, line: int, implicit: bool = False) -> None:
        if target == self.source or not (target == PACKAGE or target.startswith(PACKAGE + ".")):
            return
        function = ".".join(self.scope)
        self.found.append(Import(self.source, target, function, self.type_only > 0, implicit, line))
        own = set(_ancestors(self.source)) | ({self.source} if self.is_package else set())
        for parent in _ancestors(target):  # python runs their __init__ first
            if parent not in own:
                self.found.append(
                    Import(self.source, parent, function, self.type_only > 0, True, line)
                )

    def _scoped(self, node: ast.AST, name: str) -> None:
        self.scope.append(name)
        self.generic_visit(node)
        self.scope.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._scoped(node, node.name)

    visit_AsyncFunctionDef = visit_FunctionDef  # noqa: N815 - ast.NodeVisitor's naming

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._scoped(node, node.name)

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            self.type_only += 1
            for child in node.body:
                self.visit(child)
            self.type_only -= 1
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:  # relative: resolve against this module's package
            package = self.source if self.is_package else self.source.rsplit(".", 1)[0]
            head = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*head, *([node.module] if node.module else [])])
        own_ancestor = base == self.source or base in _ancestors(self.source)
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            if sub in self.known:
                self._add(sub, node.lineno)  # a submodule: only it runs
            elif not own_ancestor:
                self._add(base, node.lineno)
            elif base != self.source:  # a name from a package being initialised: a cycle
                self._add(base, node.lineno)
        if not node.names:
            self._add(base, node.lineno)


def imports(root: Path) -> list[Import]:
    """Every import of a mensi_sim module by another, with implicit ``__init__`` runs."""
    known = modules(root)
    found: list[Import] = []
    for name, path in known.items():
        collector = _Collector(name, path.name == "__init__.py", set(known))
        collector.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        found += collector.found
    return found


def floor_of(module: str) -> int | None:
    """The index of a module's floor in FLOORS (None if it is on none)."""
    top = module.split(".")[1] if "." in module else ""
    for index, (_, names) in enumerate(FLOORS):
        if top in names:
            return index
    return None


def _allowed_upward(edge: Import) -> bool:
    return (edge.source, edge.function, edge.target) in UPWARD_CALLS or (
        edge.implicit
        and any(
            (edge.source, edge.function) == (s, f) and t.startswith(edge.target + ".")
            for s, f, t in UPWARD_CALLS
        )
    )


def upward(found: list[Import]) -> list[str]:
    """One line per import from a floor to a higher one (UPWARD_CALLS excepted)."""
    lines = []
    for edge in found:
        low, high = floor_of(edge.source), floor_of(edge.target)
        if low is None or high is None or high <= low or _allowed_upward(edge):
            continue
        where = f"{edge.function}(): " if edge.function else ""
        lines.append(
            f"{edge.source}:{edge.line}: {where}imports {edge.target} "
            f"({FLOORS[low][0]} -> {FLOORS[high][0]})"
        )
    return sorted(set(lines))


def cycles(found: list[Import]) -> list[list[str]]:
    """The groups of modules whose runtime imports form a cycle."""
    graph = nx.DiGraph()
    for edge in found:
        if edge.type_only or _allowed_upward(edge):
            continue
        graph.add_edge(edge.source, edge.target)
    return sorted(sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1)


def printing(root: Path) -> list[str]:
    """Modules outside the cli floor that print (print, typer.echo, a rich Console)."""
    lines = []
    cli = next(i for i, (name, _) in enumerate(FLOORS) if name == "cli")
    for name, path in modules(root).items():
        if floor_of(name) == cli or name in PRINTING_ALLOWED:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                f = node.func
                called = f.id if isinstance(f, ast.Name) else getattr(f, "attr", "")
                if called in PRINTERS or called == "Console":
                    lines.append(f"{name}:{node.lineno}: {called}()")
    return lines


def model_builders(root: Path) -> list[str]:
    """Modules above the model floor that build a MentoringModel (a call or a subclass)."""
    model = next(i for i, (name, _) in enumerate(FLOORS) if name == "model")
    lines = []
    for name, path in modules(root).items():
        floor = floor_of(name)
        if floor is None or floor <= model or name == MODEL_ENTRY_POINT:
            continue
        if name in MODEL_BUILDERS_ALLOWED:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            named = []
            if isinstance(node, ast.Call):
                named = [node.func]
            elif isinstance(node, ast.ClassDef):
                named = list(node.bases)
            for f in named:
                called = f.id if isinstance(f, ast.Name) else getattr(f, "attr", "")
                if called == "MentoringModel":
                    lines.append(f"{name}:{node.lineno}: builds a MentoringModel")
    return lines


# --- the package ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def found() -> list[Import]:
    return imports(ROOT)


def test_every_module_is_on_a_floor() -> None:
    lost = [m for m in modules(ROOT) if floor_of(m) is None]
    assert not lost, f"on no floor (add them to FLOORS and docs/ARCHITECTURE.md): {lost}"


def test_no_import_goes_up_a_floor(found: list[Import]) -> None:
    assert upward(found) == []


def test_the_upward_calls_exist(found: list[Import]) -> None:
    # each listed exception is a real deferred import (a stale entry would hide nothing)
    present = {(e.source, e.function, e.target) for e in found if e.function}
    assert UPWARD_CALLS <= present


def test_no_runtime_import_cycle(found: list[Import]) -> None:
    assert cycles(found) == []


def test_only_the_command_line_prints() -> None:
    assert printing(ROOT) == []


def test_models_of_recorded_runs_come_from_one_entry_point() -> None:
    assert model_builders(ROOT) == []


def test_the_layering_is_the_documented_one() -> None:
    doc = (ROOT.parent / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    for name, members in FLOORS:
        assert f"**{name}**" in doc, name
        for member in members:
            if member:
                assert f"`{member}" in doc, (name, member)


# --- the checks themselves, on a package made to break them ---------------------------


def _package(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / PACKAGE / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / PACKAGE


def test_the_checks_catch_upward_imports_cycles_and_prints(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "__init__.py": "",
            "errors.py": "def f():\n    from mensi_sim.cli import app\n",  # deferred, upward
            "codes.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from mensi_sim.model import M\n"  # type-only, upward
            ),
            "model.py": "print('hello')\n",
            "plotting/network.py": "def f(sc):\n    return MentoringModel(sc)\n",
            "experiments/__init__.py": "",
            "experiments/replicate.py": "def g(sc):\n    return MentoringModel(sc)\n",
            "analysis/__init__.py": "from mensi_sim.analysis import a\n",
            "analysis/a.py": "from mensi_sim.analysis.b import g\n",
            "analysis/b.py": "def g():\n    from mensi_sim.analysis.a import x\n",  # cycle
            "results/__init__.py": "",
            "results/results.py": (
                "class Results:\n    def plot(self):\n"
                "        from mensi_sim.plotting.timeseries import p\n"  # allowed upward
            ),
            "plotting/__init__.py": "from mensi_sim.plotting import collect\n",
            "plotting/collect.py": "from mensi_sim.results import results\n",
            "plotting/timeseries.py": "",
            "cli/__init__.py": "import typer\ntyper.echo('fine here')\n",
            "newthing.py": "",
        },
    )
    found = imports(root)
    assert upward(found) == [
        "mensi_sim.codes:3: imports mensi_sim.model (foundation -> model)",
        "mensi_sim.errors:2: f(): imports mensi_sim.cli (foundation -> cli)",
    ]
    # plotting -> results -> (Results.plot) plotting is no cycle: that call is allowed
    assert cycles(found) == [["mensi_sim.analysis.a", "mensi_sim.analysis.b"]]
    assert printing(root) == ["mensi_sim.model:1: print()"]
    assert model_builders(root) == ["mensi_sim.plotting.network:2: builds a MentoringModel"]
    assert floor_of("mensi_sim.newthing") is None


def test_a_name_from_a_package_being_initialised_is_a_cycle(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "__init__.py": "",
            "experiments/__init__.py": "from mensi_sim.experiments.runner import run\nX = 1\n",
            "experiments/runner.py": "from mensi_sim.experiments import X\n",
            "experiments/store.py": "",
            "experiments/other.py": "from mensi_sim.experiments import store\n",  # fine
        },
    )
    assert cycles(imports(root)) == [["mensi_sim.experiments", "mensi_sim.experiments.runner"]]
