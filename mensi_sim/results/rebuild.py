"""Rebuilding what a results directory ran from its manifest: scenarios and experiments.

The results store outcomes, not the network. A picture of the network re-runs
replicate 0 (or another) of a scenario from the manifest: the scenario
parameters and the root seed give the same schools, ties and draws as the
original run, bit for bit, because the run's seed is
``replicate_seed(root_seed, replicate)`` (``experiments.replicate.replicate_model``).

A single run's manifest holds the full scenario (``parameters``). A sweep's
manifest holds the experiment (``experiment_spec``, ``source_path``) and each
scenario's hash: the experiment is rebuilt from its base scenario file and the
rebuilt scenario is used only if its hash matches the one recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mensi_sim.errors import MensiError, ResultsError
from mensi_sim.experiments.spec import Experiment, ExperimentSpec, build_experiment
from mensi_sim.scenario.loader import load_scenario, scenario_hash
from mensi_sim.scenario.schema import Scenario


@dataclass(frozen=True)
class ReplaySource:
    """What re-creates a run: the scenario, the root seed and the scenario's name in the results."""

    scenario: Scenario
    root_seed: int
    name: str


def _candidates(source_path: str) -> list[Path]:
    """Where a recorded (possibly relative) file may be now: as given, then beside the package."""
    p = Path(source_path)
    if p.is_absolute():
        return [p]
    repo = Path(__file__).resolve().parents[2]  # the checkout holding mensi_sim/
    return [p, repo / p]


def is_sample_design(manifest: dict[str, Any]) -> bool:
    """Whether a sweep's design points are samples over parameter ranges (Morris, Sobol, LHS)."""
    return any(e.get("sample") for e in manifest.get("scenarios", []))


def default_replay_name(manifest: dict[str, Any], names: list[str]) -> str | None:
    """The scenario a network picture shows when none is asked for.

    A single run: its scenario. A sweep of named scenarios: the first that is not
    the baseline and has a network (structure other than ``none``). A sample
    design (sensitivity): none, since no sampled point stands for the others.
    """
    if manifest.get("kind") != "experiment":
        return str(manifest.get("scenario", names[0] if names else "")) or None
    if is_sample_design(manifest):
        return None
    baseline = manifest.get("baseline")
    for entry in manifest.get("scenarios", []):
        if entry.get("name") in names and entry.get("name") != baseline:
            if entry.get("structure") not in (None, "none"):
                return str(entry["name"])
    return names[0] if names else None


def replay_source(
    manifest: dict[str, Any], name: str | None = None, experiment: Experiment | None = None
) -> ReplaySource:
    """The scenario and root seed of scenario ``name`` of a results directory.

    ``experiment``: a sweep's experiment, when already rebuilt (``Results.experiment``).

    Raises:
        ResultsError: One line saying why the run cannot be re-created (no
            parameters in the manifest, the experiment file is gone or has
            changed since the sweep, no such scenario).
    """
    try:
        root_seed = int(manifest["root_seed"])
    except (KeyError, TypeError, ValueError):
        raise ResultsError("manifest has no root_seed: cannot re-create a run") from None
    if manifest.get("kind") != "experiment":
        params = manifest.get("parameters")
        if not isinstance(params, dict):
            raise ResultsError("manifest has no scenario parameters: cannot re-create a run")
        if name is not None and name != manifest.get("scenario"):
            raise ResultsError(f"no scenario {name!r} in the results ({manifest.get('scenario')})")
        try:
            scenario = Scenario.model_validate(params)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ResultsError(
                f"manifest parameters are not a valid scenario for this version of mensi_sim "
                f"({where}: {first['msg']})"
            ) from None
        return ReplaySource(scenario, root_seed, str(manifest.get("scenario", scenario.name)))
    return _sweep_source(manifest, name, root_seed, experiment)


def scenario_from_manifest(manifest: dict[str, Any]) -> Scenario:
    """The scenario of a single run's manifest (a sweep: the base scenario of its experiment).

    Raises:
        ResultsError: One line saying why it cannot be rebuilt.
    """
    if manifest.get("kind") == "experiment":
        return experiment_from_manifest(manifest).base
    return replay_source(manifest).scenario


def experiment_from_manifest(manifest: dict[str, Any]) -> Experiment:
    """The ``Experiment`` of a sweep's manifest, rebuilt from its spec and base scenario file.

    Raises:
        ResultsError: The manifest has no experiment, or its base scenario file is gone.
    """
    source = str(manifest.get("source_path") or "")
    spec_data = manifest.get("experiment_spec")
    if not source or not isinstance(spec_data, dict):
        raise ResultsError("sweep manifest has no experiment file or spec: cannot re-create a run")
    try:
        spec = ExperimentSpec.model_validate(spec_data)
    except ValidationError:
        raise ResultsError("the experiment spec in the manifest does not validate") from None
    problems = []
    for exp_path in _candidates(source):
        base_path = Path(spec.base.scenario)
        if not base_path.is_absolute():
            base_path = exp_path.parent / base_path
        if not base_path.is_file():
            continue
        try:
            return build_experiment(spec, load_scenario(base_path), str(exp_path))
        except MensiError as exc:
            problems.append(str(exc))
    if problems:
        raise ResultsError(f"cannot rebuild the experiment: {problems[0]}")
    raise ResultsError(f"base scenario of {source} not found: cannot re-create a run")


def _sweep_source(
    manifest: dict[str, Any], name: str | None, root_seed: int, experiment: Experiment | None
) -> ReplaySource:
    entries = {e.get("name"): e for e in manifest.get("scenarios", [])}
    if name is None:
        name = default_replay_name(manifest, list(entries))
        if name is None:
            raise ResultsError("a sample design: name the scenario to picture (--scenario)")
    if name not in entries:
        shown = ", ".join(list(entries)[:8])
        raise ResultsError(f"no scenario {name!r} in the results ({shown})")
    if experiment is None:
        experiment = experiment_from_manifest(manifest)
    try:
        point = experiment.point(name)
    except KeyError:
        raise ResultsError(f"the experiment file no longer has scenario {name!r}") from None
    if scenario_hash(point.scenario) != entries[name].get("scenario_hash"):
        raise ResultsError(
            f"{experiment.source_path} or its base scenario has changed since the sweep "
            "(scenario hash differs): cannot re-create its runs"
        )
    return ReplaySource(point.scenario, point.seed(root_seed), name)
