"""Evidence files: observed targets and priors for calibration (``mensi-sim calibrate``).

An evidence file (TOML, ``evidence/*.toml``) names the scenarios the targets are observed
in, the targets (an outcome of a named scenario at a given week, observed as a value
with its standard error, or as a count k of n), each with its source, and the priors of
the parameters to fit. The observation uncertainty of a target comes from the data (the
standard error reported with it, or the binomial sampling of k of n), never from the
simulation. Validated as strictly as a scenario; docs/CALIBRATION.md describes every key.

    [scenarios.pilot]
    scenario = "../scenarios/mensi_pilot.toml"

    [[targets]]
    name = "mentor_course"
    scenario = "pilot"
    metric = "course_completion_share"   # a time-series metric (or a summary outcome)
    week = 8                             # the week it is read at (time series)
    k = 74
    n = 93
    source = "MenSI news page, 2021"

    [priors]
    "training.courses.0.completion_prob" = { dist = "uniform", low = 0.3, high = 1.0 }
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mensi_sim.errors import ScenarioError
from mensi_sim.experiments.design import apply_overrides, get_parameter
from mensi_sim.experiments.spec import OUTCOME_NAMES, check_executor
from mensi_sim.experiments.uncertainty import Prior
from mensi_sim.metrics import STEP_METRICS
from mensi_sim.scenario.loader import format_validation_error, load_scenario, read_toml
from mensi_sim.scenario.schema import Scenario


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class EvidenceScenario(_Strict):
    """A scenario targets are observed in: a scenario file, overrides, and where each fitted
    parameter sits in it (``parameters``: prior name -> dotted parameter, ``""`` for a prior
    this scenario does not use; by default a prior's name is its dotted parameter)."""

    scenario: str = Field(..., min_length=1, description="Scenario file, relative to this file")
    overrides: dict[str, Any] = Field(default_factory=dict)
    parameters: dict[str, str] = Field(
        default_factory=dict, description="Prior name -> dotted parameter here ('' = not used)"
    )


class Target(_Strict):
    """One observed target: ``value`` with ``sd`` (its standard error), or ``k`` of ``n``."""

    name: str = Field(..., min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    scenario: str = Field(..., min_length=1)
    metric: str = Field(..., description="A time-series metric or a summary outcome")
    week: int | None = Field(None, ge=0, le=5200, description="Week of a time-series metric")
    value: float | None = None
    sd: float | None = Field(None, gt=0, description="Standard error of value, from the data")
    k: int | None = Field(None, ge=0)
    n: int | None = Field(None, ge=1)
    source: str = Field(..., min_length=1, description="Where the number comes from")
    note: str = ""

    @model_validator(mode="after")
    def _check(self) -> Target:
        normal = self.value is not None or self.sd is not None
        count = self.k is not None or self.n is not None
        if normal == count:
            raise ValueError("give value and sd, or k and n (not both)")
        if normal and (self.value is None or self.sd is None):
            raise ValueError("value needs its sd (the standard error reported with it)")
        if count and (self.k is None or self.n is None):
            raise ValueError("k needs its n")
        if count and self.k > self.n:
            raise ValueError(f"k = {self.k} is larger than n = {self.n}")
        if self.metric in STEP_METRICS:
            if self.week is None:
                raise ValueError(f"metric {self.metric!r} is a time series: give its week")
        elif self.metric in OUTCOME_NAMES:
            if self.week is not None:
                raise ValueError(f"metric {self.metric!r} is a summary outcome: no week")
        else:
            names = ", ".join((*STEP_METRICS, *OUTCOME_NAMES))
            raise ValueError(f"unknown metric {self.metric!r} (allowed: {names})")
        return self

    @property
    def kind(self) -> str:
        """``"count"`` (k of n, binomial) or ``"value"`` (normal with sd)."""
        return "count" if self.k is not None else "value"

    @property
    def observed(self) -> float:
        """The observed value: ``value``, or the share ``k / n``."""
        return float(self.value) if self.value is not None else self.k / self.n


class ABCSettings(_Strict):
    """``[abc]``: how the ABC-SMC runs (pyabc)."""

    population_size: int = Field(200, ge=10, le=100_000, description="Particles per generation")
    max_generations: int = Field(12, ge=1, le=100)
    max_simulations: int = Field(200_000, ge=100, description="Stop after this many evaluations")
    replications: int = Field(4, ge=1, le=1000, description="Replicates per parameter set")
    common_random_numbers: bool = Field(
        False,
        description="Evaluate every parameter set on the same replicate seeds (see CALIBRATION.md)",
    )
    predictive_draws: int = Field(100, ge=10, le=10_000, description="Posterior-predictive draws")


class EvidenceSpec(_Strict):
    """The validated content of an evidence file."""

    name: str = Field(..., min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    synthetic: bool = Field(False, description="Generated by the model at known parameters")
    truth: dict[str, float] = Field(
        default_factory=dict, description="Synthetic: the parameters the targets came from"
    )
    root_seed: int = Field(0, ge=0, le=2**63 - 1)
    executor: str = "local"
    scenarios: dict[str, EvidenceScenario]
    targets: list[Target] = Field(..., min_length=1)
    priors: dict[str, Prior] = Field(..., min_length=1)
    abc: ABCSettings = Field(default_factory=ABCSettings)

    @model_validator(mode="after")
    def _check(self) -> EvidenceSpec:
        check_executor(self.executor)
        names = [t.name for t in self.targets]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"targets: duplicate name {dup[0]!r}")
        for name, entry in self.scenarios.items():
            unknown = sorted(set(entry.parameters) - set(self.priors))
            if unknown:
                raise ValueError(f"scenarios.{name}.parameters: {unknown[0]!r} has no prior")
        for t in self.targets:
            if t.scenario not in self.scenarios:
                raise ValueError(
                    f"targets.{t.name}: no scenario {t.scenario!r} "
                    f"(allowed: {', '.join(self.scenarios)})"
                )
        if self.synthetic and set(self.truth) != set(self.priors):
            raise ValueError("synthetic: truth must give a value for every parameter with a prior")
        if not self.synthetic and self.truth:
            raise ValueError("truth: only a synthetic evidence file has known parameters")
        return self


@dataclass(frozen=True)
class Evidence:
    """A loaded evidence file: the spec and each target scenario, validated and built.

    Attributes:
        spec: The validated file.
        scenarios: Name -> scenario (overrides applied, ``time.steps`` = the last week any
            of its time-series targets is read at, else the scenario's own).
        source_path: The evidence file.
        integer: Dotted parameter -> whether it is an integer parameter (rounded when drawn).
    """

    spec: EvidenceSpec
    scenarios: dict[str, Scenario]
    source_path: str
    integer: dict[str, bool]

    def paths(self, name: str) -> dict[str, str]:
        """Prior name -> dotted parameter in scenario ``name`` (the priors it uses)."""
        mapping = self.spec.scenarios[name].parameters
        out = {p: mapping.get(p, p) for p in self.spec.priors}
        return {p: path for p, path in out.items() if path}

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def parameters(self) -> list[str]:
        return list(self.spec.priors)

    @property
    def hash(self) -> str:
        """Hash of what determines the calibration: the spec and every scenario's parameters."""
        payload = {
            "spec": self.spec.model_dump(mode="json"),
            "scenarios": {k: v.model_dump(mode="json") for k, v in self.scenarios.items()},
        }
        blob = json.dumps(payload, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def scenario_with(self, name: str, parameters: dict[str, float]) -> Scenario:
        """Target scenario ``name`` with ``parameters`` applied (integers rounded).

        Raises:
            ScenarioError: A value the schema refuses (one line).
        """
        values = {}
        for prior, path in self.paths(name).items():
            v = parameters[prior]
            values[path] = int(round(v)) if self.integer.get(path) else float(v)
        return apply_overrides(self.scenarios[name], values, f"{self.source_path}: priors")


def _validate(data: dict[str, Any], where: str) -> EvidenceSpec:
    try:
        return EvidenceSpec.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(format_validation_error(err, where, EvidenceSpec)) from None


def load_evidence(path: str | Path) -> Evidence:
    """Load and validate an evidence file; one-line ScenarioError on any problem.

    Every prior's support ends (where finite) must be valid values of its parameter in
    every target scenario.
    """
    p = Path(path)
    spec = _validate(read_toml(p), str(p))
    scenarios = {}
    for name, entry in spec.scenarios.items():
        file = Path(entry.scenario)
        if not file.is_absolute():
            file = p.parent / file
        if not file.is_file():
            raise ScenarioError(f"{p}: scenarios.{name}.scenario: file not found: {file}")
        try:
            sc = load_scenario(file)
        except ScenarioError as exc:
            raise ScenarioError(f"{p}: scenarios.{name}: {exc}") from None
        sc = apply_overrides(sc, entry.overrides, f"{p}: scenarios.{name}.overrides")
        weeks = [t.week for t in spec.targets if t.scenario == name and t.week is not None]
        summary = [t for t in spec.targets if t.scenario == name and t.week is None]
        if weeks and not summary:
            sc = apply_overrides(sc, {"time.steps": max(max(weeks), 1)}, f"{p}: targets")
        elif weeks and max(weeks) > sc.time.steps:
            raise ScenarioError(
                f"{p}: targets: week {max(weeks)} is after the last week of scenario {name!r} "
                f"({sc.time.steps})"
            )
        scenarios[name] = sc
    integer = {}
    ev = Evidence(spec, scenarios, str(p), integer)
    for name, sc in scenarios.items():
        for prior_name, param in ev.paths(name).items():
            prior = spec.priors[prior_name]
            try:
                value = get_parameter(sc, param)
            except KeyError:
                raise ScenarioError(f"{p}: priors: unknown parameter {param!r}") from None
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise ScenarioError(f"{p}: priors: {param}: not a numeric parameter")
            integer[param] = isinstance(value, int)
            for end in prior.support():
                if abs(end) != float("inf"):
                    apply_overrides(sc, {param: end}, f"{p}: priors.{param} (support of {name})")
    return ev
