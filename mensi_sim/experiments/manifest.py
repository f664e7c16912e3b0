"""The manifest of a results directory: what ran, with which code, seed and parameters.

``build_manifest`` describes the replicates of one scenario (``simulate``, ``mensi-sim
run``); ``build_sweep_manifest`` a sweep of an experiment. Both share the keys of
provenance (format, versions, git commit, command line, executor, created time).
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mensi_sim.experiments.design import get_parameter
from mensi_sim.scenario import Scenario, scenario_hash
from mensi_sim.scenario.roster import describe_roster

if TYPE_CHECKING:
    from mensi_sim.experiments.spec import Experiment

MANIFEST_FORMAT = "mensi_sim.results/1"
VERSIONED_PACKAGES = ("mensi_sim", "mesa", "numpy", "scipy", "pandas", "networkx", "pyarrow")


def package_versions() -> dict[str, str | None]:
    """Installed versions of mensi_sim, its main dependencies and Python (None if missing)."""
    versions: dict[str, str | None] = {}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    versions["python"] = platform.python_version()
    return versions


def _git(args: list[str], cwd: Path) -> str | None:
    """Output of a read-only git command, or None if git or the repository is missing."""
    env = dict(os.environ, GIT_OPTIONAL_LOCKS="0", LC_ALL="C")
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
            env=env,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip()


def git_state(package_dir: Path | None = None) -> dict[str, Any]:
    """Commit of the git work tree holding the mensi_sim sources, and whether it has changes.

    Returns ``{"commit": None, "dirty": None}`` when the package is not run from
    a git work tree (an installed wheel) or git is not installed. Never raises.
    """
    pkg = package_dir or Path(__file__).resolve().parents[1]
    none: dict[str, Any] = {"commit": None, "dirty": None}
    top = _git(["rev-parse", "--show-toplevel"], pkg)
    if not top or not (Path(top) / "mensi_sim" / "__init__.py").is_file():
        return none
    commit = _git(["rev-parse", "HEAD"], pkg)
    if not commit:
        return none
    status = _git(["status", "--porcelain", "--untracked-files=no"], pkg)
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def now_utc() -> str:
    """The current time in UTC, to the second, as ``2026-01-31T12:00:00Z``."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def command_text(command_line: str | Sequence[str] | None) -> str:
    """The command as one string (``sys.argv`` when None; a list is shell-quoted)."""
    if command_line is None:
        command_line = [sys.argv[0], *sys.argv[1:]]
    if not isinstance(command_line, str):
        command_line = shlex.join(str(a) for a in command_line)
    return command_line


def build_manifest(
    scenario: Scenario,
    *,
    root_seed: int,
    command_line: str | Sequence[str],
    executor: str,
    replications: int,
) -> dict[str, Any]:
    """Everything needed to know what produced a results directory and to redo it.

    Args:
        scenario: The scenario as it ran (with any command-line overrides applied).
        root_seed: The root of ``numpy.random.SeedSequence`` the run seeds come from.
        command_line: The command as typed (a string, or argv as a list).
        executor: Where the runs ran, e.g. ``"serial"`` or ``"process-pool(2)"``.
        replications: Number of replicates.

    Returns:
        A JSON-serialisable dict with keys ``format``, ``scenario``,
        ``scenario_hash``, ``source_path``, ``root_seed``, ``replications``,
        ``steps``, ``versions``, ``git_commit``, ``git_dirty``, ``command_line``,
        ``executor``, ``created_utc`` and ``parameters``.
    """
    command_line = command_text(command_line)
    git = git_state()
    return {
        "format": MANIFEST_FORMAT,
        "scenario": scenario.name,
        "scenario_hash": scenario_hash(scenario),
        "source_path": scenario.source_path,
        "root_seed": int(root_seed),
        "replications": int(replications),
        "steps": int(scenario.time.steps),
        "versions": package_versions(),
        "git_commit": git["commit"],
        "git_dirty": git["dirty"],
        "command_line": command_line,
        "executor": executor,
        "created_utc": now_utc(),
        "parameters": scenario.model_dump(mode="json", exclude={"source_path"}),
        **roster_records([scenario]),
    }


def roster_records(scenarios: Sequence[Scenario]) -> dict[str, Any]:
    """``{"rosters": [...]}``: each distinct roster of the scenarios described
    (``describe_roster``), or ``{}`` when none has a roster."""
    seen = dict.fromkeys(s.population.roster_files for s in scenarios if s.population.roster_files)
    return {"rosters": [describe_roster(files) for files in seen]} if seen else {}


def json_value(value: Any) -> Any:
    """A value as plain JSON structures (pydantic models and tuples become dicts and lists)."""
    return json.loads(json.dumps(value, default=str))


def _psa_entry(experiment: Experiment) -> dict[str, Any]:
    """What a PSA's manifest says of its draws (their values are in each point's overrides)."""
    draws = experiment.draws
    u = experiment.spec.uncertainty
    return {
        "psa": {
            "parameters": list(draws.names),
            "groups": {k: list(v) for k, v in draws.group_items().items()},
            "source": draws.source,
            "draws": draws.n,
            "options": experiment.options,
            "wtp": u.wtp,
            "wtp_max": u.wtp_max,
            "dummy": [float(v) for v in draws.dummy],
        }
    }


def build_sweep_manifest(
    experiment: Experiment,
    *,
    executor: str,
    command_line: str | Sequence[str] | None,
    status: str,
    replications: dict[str, int],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The manifest.json of a sweep (the keys of ``build_manifest`` plus the experiment's)."""
    git = git_state()
    spec = experiment.spec
    return {
        "format": MANIFEST_FORMAT,
        "kind": "experiment",
        "experiment": spec.name,
        "experiment_hash": experiment.hash,
        "source_path": experiment.source_path,
        "scenario": experiment.base.name,
        # the base scenario in full: with each scenario's overrides below, every run's
        # parameters can be rebuilt from the manifest alone
        "base_parameters": experiment.base.model_dump(mode="json", exclude={"source_path"}),
        "root_seed": spec.root_seed,
        "replications": spec.replications,
        "replications_per_scenario": replications,
        "steps": experiment.steps,
        "outcomes": list(spec.outcomes),
        "baseline": spec.baseline,
        "budget": spec.budget.model_dump() if spec.budget else None,
        "scenarios": [
            {
                "name": p.name,
                "point": p.index,
                "scenario_hash": scenario_hash(p.scenario),
                "overrides": json_value(p.overrides),
                "sample": list(p.sample) if p.sample else None,
                "structure": p.scenario.network.structure,
                "group": json_value(get_parameter(p.scenario, spec.budget.group_by))
                if spec.budget
                else None,
                **(
                    {"option": p.option, "draw": p.draw, "root_seed": p.root_seed}
                    if p.option is not None
                    else {}
                ),
            }
            for p in experiment.points
        ],
        "versions": package_versions(),
        "git_commit": git["commit"],
        "git_dirty": git["dirty"],
        "command_line": command_text(command_line),
        "executor": executor,
        "status": status,
        "created_utc": now_utc(),
        "experiment_spec": spec.model_dump(mode="json"),
        **roster_records([experiment.base, *(p.scenario for p in experiment.points)]),
        **(_psa_entry(experiment) if spec.uncertainty is not None else {}),
        **(extra or {}),
    }
