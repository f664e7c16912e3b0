"""Experiment files: the schema, loading, and the ``Experiment`` object.

An experiment file (TOML) names a base scenario, the factors to vary (named
scenarios, a full-factorial grid, or samples over parameter ranges), the
replications, the root seed, the outcomes of interest and the executor. It is
validated as strictly as a scenario: unknown keys, wrong types and out-of-range
values are one-line errors naming the file, the field and the allowed range.
docs/EXPERIMENTS.md describes every key.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from mensi_sim.errors import ScenarioError
from mensi_sim.experiments.dask_address import SCHEMES, parse_address
from mensi_sim.experiments.design import (
    DesignPoint,
    SampleDesign,
    apply_overrides,
    expand,
    get_parameter,
)
from mensi_sim.experiments.limits import check_design
from mensi_sim.experiments.uncertainty import PSADraws, UncertaintySpec, psa_draws
from mensi_sim.files import missing, path_problem
from mensi_sim.metrics import SUMMARY_COLUMNS, SUMMARY_OUTCOMES
from mensi_sim.scenario.loader import format_validation_error, load_scenario, scenario_hash
from mensi_sim.scenario.schema import Scenario
from mensi_sim.seeds import MAX_SEED

# Every per-run outcome a summary row holds: metrics.SUMMARY_COLUMNS (from run_summary).
OUTCOME_NAMES: tuple[str, ...] = tuple(c for c in SUMMARY_COLUMNS if c != "half_adoption_reached")
# The outcomes of interest by default, and the outcomes every comparison reports: the
# headline outcomes except the cost per adopting school, a ratio whose incremental
# counterpart is the comparison's ICER.
DEFAULT_OUTCOMES: tuple[str, ...] = tuple(
    o for o in SUMMARY_OUTCOMES if o != "cost_per_adopting_school"
)
SAMPLE_METHODS = ("lhs", "sobol", "morris")
EXECUTOR_NAMES = ("serial", "local", "dask")
BASELINE_NAMES = ("none", "baseline")


def default_baseline(names: Sequence[str]) -> str:
    """A scenario named "none" or "baseline" (whole name, then every /-part), else the first."""
    names = list(names)
    if not names:
        raise ValueError("no scenarios")
    for name in names:
        if name.lower() in BASELINE_NAMES:
            return name
    for name in names:
        parts = name.lower().split("/")
        if all(p in BASELINE_NAMES for p in parts):
            return name
    for name in names:
        if any(b in name.lower() for b in BASELINE_NAMES):
            return name
    return names[0]


def resolve_baseline(names: Sequence[str], wanted: str | None = None) -> str:
    """The baseline of a comparison among ``names``: ``wanted``, else ``default_baseline``.

    This is the one place the baseline is chosen; ``Results.baseline`` adds which
    ``wanted`` to ask for (the stored comparison's, then the experiment's).

    Raises:
        KeyError: ``wanted`` is not one of ``names``.
    """
    names = list(names)
    if wanted is None:
        return default_baseline(names)
    if wanted not in names:
        raise KeyError(f"baseline {wanted!r} is not a scenario ({', '.join(names)})")
    return wanted


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _check_outcome(name: str) -> str:
    if name not in OUTCOME_NAMES:
        raise ValueError(f"unknown outcome {name!r} (allowed: {', '.join(OUTCOME_NAMES)})")
    return name


def check_executor(value: str) -> str:
    """An executor name (serial, local, dask) or a Dask scheduler address tcp://host:port
    (``dask_address.parse_address``: a host and a port from 1 to 65535)."""
    if value in EXECUTOR_NAMES:
        return value
    if value.startswith(SCHEMES):
        parse_address(value)
        return value
    raise ValueError(f"unknown executor {value!r} (allowed: serial, local, dask, tcp://host:port)")


class BaseSpec(_Strict):
    """The scenario every design point starts from."""

    scenario: str = Field(..., min_length=1, description="Scenario file, relative to this file")
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="Dotted parameters applied to the scenario"
    )


class NamedScenario(_Strict):
    """One named variant of the base scenario."""

    name: str = Field(..., min_length=1, pattern=r"^[A-Za-z0-9_.=+-]+$")
    description: str = ""
    overrides: dict[str, Any] = Field(default_factory=dict)


class SampleSpec(_Strict):
    """A sample over ``factors.uncertainties`` (SALib)."""

    method: Literal["lhs", "sobol", "morris"]
    n: int = Field(
        ...,
        ge=1,
        le=1_000_000,
        description="lhs: points; sobol: base sample N (N (D + 2) points, or N (2D + 2) "
        "with second order); morris: trajectories (r (D + 1) points)",
    )
    levels: int = Field(4, ge=2, le=100, description="morris: grid levels p")
    second_order: bool = Field(False, description="sobol: also second-order indices")
    seed: int | None = Field(None, ge=0, description="sampler seed (default: root_seed)")

    @model_validator(mode="after")
    def _check(self) -> SampleSpec:
        if self.method == "sobol" and self.n & (self.n - 1):
            raise ValueError(f"n: {self.n} is not a power of 2 (Saltelli/Sobol needs N = 2^k)")
        if self.method == "morris" and self.levels % 2:
            raise ValueError(f"levels: {self.levels} is odd (Morris needs an even number)")
        return self


# The keys of [factors] in EMA Workbench's words, and the names they had first (still
# accepted; docs/EXPERIMENTS.md): what is decided (levers, a full factorial of options;
# policies, named settings of them) and what is not controlled (uncertainties, sampled).
FACTOR_ALIASES = {"policies": "scenarios", "levers": "grid", "uncertainties": "ranges"}


def _key(name: str) -> Any:
    """The validation alias of a [factors] field: its EMA name, then its first name."""
    ema = next(k for k, v in FACTOR_ALIASES.items() if v == name)
    return AliasChoices(ema, name)


class Factors(_Strict):
    """What varies: policies (named scenarios) x levers (a grid), or samples over
    uncertainties (ranges). Attributes keep the first names; files may use either."""

    scenarios: list[NamedScenario] = Field(default_factory=list, validation_alias=_key("scenarios"))
    grid: dict[str, list[Any]] = Field(default_factory=dict, validation_alias=_key("grid"))
    ranges: dict[str, list[float]] = Field(default_factory=dict, validation_alias=_key("ranges"))
    samples: list[SampleSpec] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _one_name_each(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for ema, first in FACTOR_ALIASES.items():
                if ema in data and first in data:
                    raise ValueError(f"{ema} and {first} are one key ({first} is its old name)")
        return data

    @field_validator("grid")
    @classmethod
    def _grid_values(cls, grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, values in grid.items():
            if not values:
                raise ValueError(f"{key}: needs at least one value")
        return grid

    @field_validator("ranges")
    @classmethod
    def _ranges(cls, ranges: dict[str, list[float]]) -> dict[str, list[float]]:
        for key, pair in ranges.items():
            if len(pair) != 2 or not pair[0] < pair[1]:
                raise ValueError(f"{key}: must be [low, high] with low < high, got {pair}")
        return ranges

    @model_validator(mode="after")
    def _check(self) -> Factors:
        counts = Counter(s.name for s in self.scenarios)
        dup = sorted(n for n, c in counts.items() if c > 1)
        if dup:
            raise ValueError(f"scenarios: duplicate name {dup[0]!r}")
        if self.samples and (self.scenarios or self.grid):
            raise ValueError(
                "samples cannot be combined with policies (scenarios) or levers (grid)"
            )
        if self.samples and not self.ranges:
            raise ValueError("samples need [factors.uncertainties] (parameter = [low, high])")
        if self.ranges and not self.samples:
            raise ValueError("uncertainties are only used by samples; add [[factors.samples]]")
        return self


class AdaptiveSpec(_Strict):
    """Adaptive replications: add replicates until the CI half-width is below ``precision``."""

    precision: float = Field(..., gt=0, allow_inf_nan=False, description="Target 95% CI half-width")
    outcome: str = Field("final_adoption_share")
    max_replications: int = Field(1000, ge=2, le=1_000_000)

    @field_validator("outcome")
    @classmethod
    def _outcome(cls, value: str) -> str:
        return _check_outcome(value)


class BudgetSpec(_Strict):
    """A fixed budget: compare what each group (e.g. structure) achieves at equal cost."""

    amount: float = Field(..., gt=0, le=1e12, description="Budget, EUR (total over the run)")
    group_by: str = Field("network.structure", description="Dotted parameter naming the group")
    perspective: Literal["total", "cash"] = Field(
        "total", description="Cost the budget counts: total (cash + staff time) or cash"
    )


class ExperimentSpec(_Strict):
    """The validated content of an experiment file."""

    name: str = Field(..., min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    base: BaseSpec
    factors: Factors = Field(default_factory=Factors)
    replications: int = Field(10, ge=1, le=1_000_000)
    root_seed: int = Field(0, ge=0, le=MAX_SEED)
    steps: int | None = Field(None, ge=1, le=5200, description="Weeks (default: the scenario's)")
    outcomes: list[str] = Field(default_factory=lambda: list(DEFAULT_OUTCOMES), min_length=1)
    executor: str = "local"
    baseline: str | None = None
    adaptive: AdaptiveSpec | None = None
    budget: BudgetSpec | None = None
    uncertainty: UncertaintySpec | None = None

    @model_validator(mode="after")
    def _psa(self) -> ExperimentSpec:
        if self.uncertainty is not None and self.factors.samples:
            raise ValueError("uncertainty: cannot be combined with factors.samples")
        return self

    @field_validator("outcomes")
    @classmethod
    def _outcomes(cls, values: list[str]) -> list[str]:
        for v in values:
            _check_outcome(v)
        return values

    @field_validator("executor")
    @classmethod
    def _executor(cls, value: str) -> str:
        return check_executor(value)


@dataclass(frozen=True)
class Experiment:
    """A loaded experiment: the spec, the base scenario and the expanded design.

    Attributes:
        spec: The validated experiment file.
        base: The base scenario with the base overrides applied.
        points: The design points, in design order.
        source_path: The experiment file.
        samples: The samples of ``factors.samples`` as drawn (empty without samples).
    """

    spec: ExperimentSpec
    base: Scenario
    points: tuple[DesignPoint, ...]
    source_path: str = ""
    samples: tuple[SampleDesign, ...] = ()

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def steps(self) -> int:
        return self.points[0].scenario.time.steps

    @property
    def hash(self) -> str:
        """Hash of what determines every run: root seed and each point's name and parameters.

        Replications, executor, outcomes and the adaptive rule are not part of it, so a
        sweep can be resumed with more replications or another executor.
        """
        payload = {
            "root_seed": self.spec.root_seed,
            "points": [[p.name, scenario_hash(p.scenario)] for p in self.points],
        }
        blob = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    @property
    def baseline(self) -> str:
        """The scenario comparisons use as baseline (``resolve_baseline``); of a PSA, the
        baseline option."""
        return resolve_baseline(self.options or [p.name for p in self.points], self.spec.baseline)

    @property
    def options(self) -> list[str]:
        """A PSA's options (each named scenario x grid point) in design order; else []."""
        return list(dict.fromkeys(p.option for p in self.points if p.option is not None))

    @property
    def draws(self) -> PSADraws | None:
        """A PSA's parameter draws (drawn again, identically, from the spec), else None."""
        if self.spec.uncertainty is None:
            return None
        return psa_draws(self.spec.uncertainty, self.spec.root_seed, self.source_path)

    def point(self, name: str) -> DesignPoint:
        for p in self.points:
            if p.name == name:
                return p
        raise KeyError(name)

    def with_changes(self, **changes: Any) -> Experiment:
        """A copy with top-level spec keys replaced (``steps``, ``replications``, ...).

        ``sample_n`` sets ``n`` of every sample, ``draws`` the draws of a PSA. The design
        is expanded again.
        """
        data = self.spec.model_dump()
        sample_n = changes.pop("sample_n", None)
        draws = changes.pop("draws", None)
        data.update(changes)
        if draws is not None and data.get("uncertainty"):
            data["uncertainty"]["draws"] = draws
        if sample_n is not None:
            for s in data["factors"]["samples"]:
                s["n"] = sample_n
        where = self.source_path or "experiment"
        spec = _validate(data, where)
        return build_experiment(spec, self.base, where)


def _validate(data: dict[str, Any], where: str) -> ExperimentSpec:
    try:
        return ExperimentSpec.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(format_validation_error(err, where, ExperimentSpec)) from None


def build_experiment(spec: ExperimentSpec, base: Scenario, where: str) -> Experiment:
    """Apply the base overrides and expand the factors into design points."""
    updates = dict(spec.base.overrides)
    if spec.steps is not None:
        updates["time.steps"] = spec.steps
    base = apply_overrides(base, updates, f"{where}: base.overrides")
    check_design(spec, where)  # before a single point is built
    points, samples = expand(spec, base, where)
    known = {p.option if p.option is not None else p.name for p in points}
    if spec.baseline is not None and spec.baseline not in known:
        names = ", ".join(list(dict.fromkeys(known))[:8])
        raise ScenarioError(f"{where}: baseline: no scenario named {spec.baseline!r} ({names})")
    if spec.budget is not None:
        try:
            get_parameter(base, spec.budget.group_by)
        except KeyError:
            raise ScenarioError(
                f"{where}: budget.group_by: unknown parameter {spec.budget.group_by!r}"
            ) from None
    return Experiment(
        spec=spec, base=base, points=tuple(points), source_path=where, samples=tuple(samples)
    )


def load_experiment(path: str | Path) -> Experiment:
    """Load and validate an experiment file, given by path or by the name of a shipped one
    (``load_experiment("structures")``); one-line ScenarioError on any problem.

    The base scenario path is resolved against the experiment file's folder.
    """
    from mensi_sim import shipped
    from mensi_sim.scenario.loader import not_found, read_toml

    p = shipped.locate(path, "experiments")
    if missing(p):  # a path that cannot be read for another reason: read_toml says why
        raise ScenarioError(not_found(path, "experiments"))
    data = read_toml(p)
    spec = _validate(data, str(p))
    return build_experiment(spec, load_base_scenario(p, spec.base.scenario), str(p))


def load_base_scenario(path: Path, scenario: str) -> Scenario:
    """The base scenario a file names, relative to that file's folder; one-line errors."""
    scenario_path = Path(scenario)
    if not scenario_path.is_absolute():
        scenario_path = path.parent / scenario_path
    problem = path_problem(scenario_path)
    if problem is not None:
        raise ScenarioError(f"{path}: base.scenario: {problem}: {scenario_path}")
    try:
        return load_scenario(scenario_path)
    except ScenarioError as exc:
        raise ScenarioError(f"{path}: base.scenario: {exc}") from None
