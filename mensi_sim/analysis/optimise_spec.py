"""Design files: what ``mensi-sim optimise`` searches over, for what, under which limits.

A design file (TOML) names a base scenario, the levers with their domains, the
objectives, the constraints and how to search (docs/EXPERIMENTS.md, section 7). It is
validated as strictly as an experiment file: unknown keys, wrong types and out-of-range
values are one-line errors naming the file and the field. Every candidate design is the
base scenario with ``network.structure = "designed"`` (``mensi_sim.networks.designed``)
and the levers' values applied.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from mensi_sim.errors import ScenarioError
from mensi_sim.experiments.design import apply_overrides, drawn_parameter_kinds, get_parameter
from mensi_sim.experiments.spec import (
    OUTCOME_NAMES,
    BaseSpec,
    check_executor,
    load_base_scenario,
)
from mensi_sim.experiments.uncertainty import Prior, PSADraws, UncertaintySpec, psa_draws
from mensi_sim.registry import INCENTIVE_TYPES, structure_names
from mensi_sim.scenario.loader import format_validation_error, scenario_hash
from mensi_sim.scenario.schema import Scenario, TargetGroup

#: the structure every candidate is built with
DESIGNED = "designed"
REGION_MODES = ("in_person", "online", "none")


def shipped_programmes() -> tuple[str, ...]:
    """The policy structures a design is compared with: every one but ``designed``."""
    return tuple(s for s in structure_names("policy") if s != DESIGNED)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _bounds(pair: list[float], what: str) -> list[float]:
    if len(pair) != 2 or not pair[0] < pair[1]:
        raise ValueError(f"{what}: must be [low, high] with low < high, got {pair}")
    return pair


class ParameterLever(_Strict):
    """One scenario parameter: a list of choices, an integer range or a real range."""

    kind: Literal["parameter"] = "parameter"
    parameter: str = Field(..., min_length=1, description="Dotted scenario parameter")
    choices: list[Any] | None = Field(None, min_length=1)
    integers: list[int] | None = None
    range: list[float] | None = None

    @model_validator(mode="after")
    def _one_domain(self) -> ParameterLever:
        given = [d for d in ("choices", "integers", "range") if getattr(self, d) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of choices, integers = [low, high], range = [low, high]"
            )
        if self.integers is not None:
            lo, hi = self.integers
            if len(self.integers) != 2 or not lo < hi:
                raise ValueError(
                    f"integers: must be [low, high] with low < high, got {self.integers}"
                )
        if self.range is not None:
            _bounds(self.range, "range")
        return self


class RegionsLever(_Strict):
    """The structure region by region: each region (or each country) in person, online or
    without a programme (``network.plan.regions``)."""

    kind: Literal["regions"]
    per: Literal["region", "country"] = "region"
    choices: list[Literal["in_person", "online", "none"]] = Field(
        default_factory=lambda: list(REGION_MODES), min_length=1
    )


class IncentiveLever(_Strict):
    """One incentive scheme: its type (or none) and its amount within the type's range."""

    kind: Literal["incentive"]
    types: list[str] = Field(
        default_factory=lambda: ["none", *INCENTIVE_TYPES.names()], min_length=1
    )
    amounts: dict[str, list[float]] = Field(
        default_factory=dict,
        description="EUR [low, high] per type (default: 0 to twice the type's default amount)",
    )
    target: TargetGroup = "participants"

    @field_validator("types")
    @classmethod
    def _known(cls, types: list[str]) -> list[str]:
        for t in types:
            if t != "none" and t not in INCENTIVE_TYPES:
                names = ", ".join(["none", *INCENTIVE_TYPES.names()])
                raise ValueError(f"unknown incentive type {t!r} (allowed: {names})")
        return types

    @model_validator(mode="after")
    def _amounts(self) -> IncentiveLever:
        for t, pair in self.amounts.items():
            if t not in self.types or t == "none":
                raise ValueError(f"amounts.{t}: not one of the lever's types")
            if len(pair) != 2 or not 0 <= pair[0] < pair[1]:
                raise ValueError(f"amounts.{t}: must be [low, high] with 0 <= low < high")
        return self

    def amount_range(self, kind: str) -> tuple[float, float]:
        """The EUR range of one type's amount."""
        if kind in self.amounts:
            lo, hi = self.amounts[kind]
            return float(lo), float(hi)
        return 0.0, 2.0 * INCENTIVE_TYPES.get(kind).default_amount


class MentorsLever(_Strict):
    """Which of the listed schools mentor (``network.plan.mentors``): one yes/no per school."""

    kind: Literal["mentors"]
    candidates: list[int] = Field(..., min_length=1, description="School ids that may mentor")

    @field_validator("candidates")
    @classmethod
    def _distinct(cls, ids: list[int]) -> list[int]:
        if len(set(ids)) != len(ids) or min(ids) < 0:
            raise ValueError("must be distinct school ids >= 0")
        return ids


class RolloutLever(_Strict):
    """A staged roll-out: the order in which the regions (or countries) start, in
    ``waves`` groups a year apart (``programme.waves``; docs/EXPERIMENTS.md 7.6). Each
    region or country is one random key in [0, 1]; the keys' order is the roll-out's
    order, cut into ``waves`` consecutive groups as equal as can be (the first groups one
    larger)."""

    kind: Literal["rollout"]
    per: Literal["region", "country"] = "country"
    waves: int = Field(2, ge=1, le=100, description="Waves, one a year, the first at start_week")


def _lever_kind(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("kind", "parameter"))
    return getattr(value, "kind", "parameter")


Lever = Annotated[
    Annotated[ParameterLever, Tag("parameter")]
    | Annotated[RegionsLever, Tag("regions")]
    | Annotated[IncentiveLever, Tag("incentive")]
    | Annotated[MentorsLever, Tag("mentors")]
    | Annotated[RolloutLever, Tag("rollout")],
    Discriminator(_lever_kind),
]


class ConstraintsSpec(_Strict):
    """Limits every design must keep (each checked on the mean over replicates)."""

    budget: float | str | None = Field(
        None, description="EUR per programme year, or a shipped structure whose cost it is"
    )
    budget_kind: Literal["cash", "total"] = Field(
        "cash", description="cash (what a ministry pays) or total (cash + staff time)"
    )
    max_mentors: int | None = Field(None, ge=0, description="Most mentor schools the plan names")
    min_disadvantaged_coverage: float | None = Field(
        None, ge=0, le=1, description="Least share of disadvantaged schools in the programme"
    )

    @field_validator("budget")
    @classmethod
    def _budget(cls, value: float | str | None) -> float | str | None:
        if isinstance(value, str) and value not in shipped_programmes():
            raise ValueError(
                f"{value!r} is not a shipped structure ({', '.join(shipped_programmes())}); "
                "give EUR per year or a structure name"
            )
        if isinstance(value, float | int) and not value > 0:
            raise ValueError("must be > 0")
        return value


class SearchSpec(_Strict):
    """How the optimiser searches and how many replicates each candidate gets."""

    algorithm: Literal["auto", "nsga2", "nsga3"] = "auto"
    population: int = Field(24, ge=4, le=10_000)
    generations: int = Field(10, ge=1, le=10_000)
    seed: int = Field(0, ge=0, le=2**32 - 1)
    replications: int = Field(
        8,
        ge=4,
        le=100_000,
        description="first replicates per candidate (the bootstrap of the stability rule "
        "cannot tell noise from fewer than 4)",
    )
    max_replications: int = Field(32, ge=4, le=100_000)
    stability: float = Field(0.8, gt=0, le=1, description="least mean Jaccard of bootstrap fronts")
    bootstrap: int = Field(200, ge=10, le=100_000)
    start: list[dict[str, Any]] = Field(
        default_factory=list,
        description="designs in the first generation: lever values, the rest the base's "
        "(a regions lever's name sets every region)",
    )

    @model_validator(mode="after")
    def _cap(self) -> SearchSpec:
        if self.max_replications < self.replications:
            raise ValueError("max_replications: must be >= replications")
        return self


class HoldoutSpec(_Strict):
    """The out-of-sample re-evaluation of the front on fresh seeds."""

    replications: int = Field(40, ge=2, le=100_000)
    root_seed: int | None = Field(None, ge=0, le=2**63 - 1, description="default: root_seed + 1")
    max_designs: int = Field(16, ge=1, le=10_000)
    compare: list[str] = Field(default_factory=lambda: list(shipped_programmes()))

    @field_validator("compare")
    @classmethod
    def _shipped(cls, names: list[str]) -> list[str]:
        for n in names:
            if n not in shipped_programmes():
                raise ValueError(
                    f"{n!r} is not a shipped structure ({', '.join(shipped_programmes())})"
                )
        return names


class RobustnessSpec(_Strict):
    """``[robustness]``: the front and the shipped programmes on a PSA draw set, paired by
    draw, and each design's regret across the draws (docs/EXPERIMENTS.md 7.7).

    The draws are declared as in an experiment's ``[uncertainty]`` (``priors`` or a
    calibration ``posterior``), or ``uncertainty`` names an experiment file whose
    ``[uncertainty]`` table is reused (``draws``, ``seed`` and ``wtp`` given here override
    its own)."""

    uncertainty: str | None = Field(
        None, min_length=1, description="experiment file whose [uncertainty] gives the draws"
    )
    draws: int | None = Field(None, ge=2, le=100_000, description="parameter draws")
    replications: int = Field(2, ge=1, le=10_000, description="replicates per draw")
    root_seed: int | None = Field(
        None,
        ge=0,
        le=2**63 - 1,
        description="runs of draw d: its own stream of this seed "
        "(default: the holdout's root seed)",
    )
    seed: int | None = Field(None, ge=0, description="seed of the draws (default: root_seed)")
    priors: dict[str, Prior] = Field(default_factory=dict, description="parameter -> prior")
    posterior: str | None = Field(None, min_length=1, description="posterior.parquet")
    wtp: float | None = Field(
        None, ge=0, description="EUR per additional adopting school of the net benefit"
    )

    @model_validator(mode="after")
    def _source(self) -> RobustnessSpec:
        inline = bool(self.priors) or self.posterior is not None
        if self.uncertainty is not None and inline:
            raise ValueError("give uncertainty = 'experiment.toml' or priors/posterior, not both")
        if self.uncertainty is None and not inline:
            raise ValueError(
                "needs priors, posterior = 'posterior.parquet' or uncertainty = 'experiment.toml'"
            )
        if self.uncertainty is None and self.draws is None:
            raise ValueError("draws: required key missing (with priors or posterior)")
        return self


def robustness_uncertainty(
    spec: RobustnessSpec, root_seed: int, where: str
) -> tuple[UncertaintySpec, int, str]:
    """The ``[uncertainty]`` a ``[robustness]`` table stands for, the root seed its draws
    default to, and the file a posterior path is relative to.

    Inline priors: the design's ``root_seed`` and the design file. ``uncertainty = FILE``
    (relative to the design file): that experiment's table, with this table's ``draws``,
    ``seed`` and ``wtp`` when given, and the experiment's ``root_seed`` (so the same number
    of draws gives the experiment's own draws).

    Raises:
        ScenarioError: One line naming the field (the file missing, no ``[uncertainty]``
            in it, or a bad value there).
    """
    from mensi_sim.scenario.loader import read_toml

    keep = {k: getattr(spec, k) for k in ("draws", "seed", "wtp") if getattr(spec, k) is not None}
    if spec.uncertainty is None:
        fields = {**keep, "priors": spec.priors, "posterior": spec.posterior}
        try:
            return UncertaintySpec(**fields), root_seed, where
        except ValidationError as err:
            msg = format_validation_error(err, f"{where}: robustness", UncertaintySpec)
            raise ScenarioError(msg) from None
    path = Path(spec.uncertainty)
    if not path.is_absolute():
        path = Path(where).parent / path
    if not path.is_file():
        raise ScenarioError(f"{where}: robustness.uncertainty: file not found: {path}")
    data = read_toml(path)
    table = data.get("uncertainty")
    if not isinstance(table, dict):
        raise ScenarioError(f"{where}: robustness.uncertainty: {path} has no [uncertainty] table")
    try:
        found = UncertaintySpec.model_validate({**table, **keep})
    except ValidationError as err:
        msg = format_validation_error(err, f"{path}: uncertainty", UncertaintySpec)
        raise ScenarioError(msg) from None
    seed = data.get("root_seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ScenarioError(f"{path}: root_seed: must be an integer >= 0, got {seed!r}")
    return found, seed, str(path)


def _default_objectives() -> dict[str, str]:
    return {
        "final_adoption_share": "max",
        "final_equity_gap": "min",
        "total_cash": "min",
        "total_staff_time": "min",
    }


class DesignSpec(_Strict):
    """The validated content of a design file."""

    name: str = Field(..., min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    base: BaseSpec
    levers: dict[str, Lever] = Field(..., min_length=1)
    objectives: dict[str, Literal["max", "min"]] = Field(
        default_factory=_default_objectives, min_length=1
    )
    constraints: ConstraintsSpec = Field(default_factory=ConstraintsSpec)
    search: SearchSpec = Field(default_factory=SearchSpec)
    holdout: HoldoutSpec = Field(default_factory=HoldoutSpec)
    robustness: RobustnessSpec | None = None
    root_seed: int = Field(0, ge=0, le=2**63 - 1)
    steps: int | None = Field(None, ge=1, le=5200)
    executor: str = "local"

    @field_validator("levers")
    @classmethod
    def _lever_names(cls, levers: dict[str, Any]) -> dict[str, Any]:
        import re

        for name in levers:
            if not re.fullmatch(r"[A-Za-z0-9_]+", name):
                raise ValueError(f"lever name {name!r}: letters, digits and _ only")
        kinds = [lv.kind for lv in levers.values()]
        for once in ("regions", "incentive", "mentors", "rollout"):
            if kinds.count(once) > 1:
                raise ValueError(f"at most one lever of kind {once!r}")
        return levers

    @field_validator("objectives")
    @classmethod
    def _outcomes(cls, objectives: dict[str, str]) -> dict[str, str]:
        for name in objectives:
            if name not in OUTCOME_NAMES:
                raise ValueError(f"unknown outcome {name!r} (allowed: {', '.join(OUTCOME_NAMES)})")
        return objectives

    @field_validator("executor")
    @classmethod
    def _executor(cls, value: str) -> str:
        return check_executor(value)

    @property
    def holdout_seed(self) -> int:
        """The root seed of the out-of-sample replicates (fresh: never the search's)."""
        seed = self.holdout.root_seed
        return self.root_seed + 1 if seed is None else seed


@dataclass(frozen=True)
class Design:
    """A loaded design file: the spec, the base scenario (structure ``designed``) and where
    it came from."""

    spec: DesignSpec
    base: Scenario
    source_path: str = ""
    #: the parameter draws of ``[robustness]`` (None without it)
    draws: PSADraws | None = None
    #: whether each drawn parameter is an integer (its draws are rounded)
    drawn_integer: dict[str, bool] | None = None
    #: the ``[uncertainty]`` the draws come from (its ``wtp`` prices the net benefit)
    uncertainty: UncertaintySpec | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def hash(self) -> str:
        """A hash of everything that decides the runs: the spec (without the executor) and
        the base scenario's parameters."""
        exclude = {"executor"} | ({"robustness"} if self.spec.robustness is None else set())
        spec = self.spec.model_dump(mode="json", exclude=exclude)
        payload: dict[str, Any] = {"spec": spec, "base": scenario_hash(self.base)}
        if self.draws is not None:  # the draws themselves (a reused file or posterior may change)
            payload["draws"] = hashlib.sha256(self.draws.values.tobytes()).hexdigest()
            payload["drawn"] = list(self.draws.names)
        blob = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def shipped(self, structure: str) -> Scenario:
        """The base scenario under a shipped structure (what a design is compared with)."""
        return self.base.with_updates({"network.structure": structure}).model_copy(
            update={"name": structure}
        )


def _validate(data: dict[str, Any], where: str) -> DesignSpec:
    try:
        return DesignSpec.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(format_validation_error(err, where, DesignSpec)) from None


def build_design(spec: DesignSpec, base: Scenario, where: str) -> Design:
    """Apply the base overrides, switch to the designed structure and check every lever's
    parameter against the scenario."""
    updates = dict(spec.base.overrides)
    if spec.steps is not None:
        updates["time.steps"] = spec.steps
    if base.network.structure == "file" or updates.get("network.structure") == "file":
        raise ScenarioError(
            f"{where}: base.scenario: a design plans regions of generated schools; "
            "a network read from a file has none"
        )
    updates["network.structure"] = DESIGNED
    scenario = apply_overrides(base, updates, f"{where}: base.overrides")
    for name, lever in spec.levers.items():
        if isinstance(lever, ParameterLever):
            try:
                get_parameter(scenario, lever.parameter)
            except KeyError:
                raise ScenarioError(
                    f"{where}: levers.{name}.parameter: unknown parameter {lever.parameter!r}"
                ) from None
        if isinstance(lever, RolloutLever):
            check_rollout(scenario, lever, f"{where}: levers.{name}")
        if isinstance(lever, MentorsLever):
            bad = [i for i in lever.candidates if i >= scenario.population.n_schools]
            if bad:
                raise ScenarioError(
                    f"{where}: levers.{name}.candidates: {bad[0]} outside 0 <= id < "
                    f"{scenario.population.n_schools}"
                )
    uncertainty, draws, integer = robustness_draws(spec, scenario, where)
    return Design(
        spec=spec,
        base=scenario,
        source_path=where,
        draws=draws,
        drawn_integer=integer,
        uncertainty=uncertainty,
    )


def robustness_draws(
    spec: DesignSpec, base: Scenario, where: str
) -> tuple[UncertaintySpec | None, PSADraws | None, dict[str, bool] | None]:
    """The ``[uncertainty]`` and the parameter draws of ``[robustness]`` (all None without
    it), checked against the base scenario: numeric parameters that no lever sets."""
    if spec.robustness is None:
        return None, None, None
    uncertainty, seed, origin = robustness_uncertainty(spec.robustness, spec.root_seed, where)
    try:
        draws = psa_draws(uncertainty, seed, origin)
    except ScenarioError as exc:  # a posterior file missing or not a posterior
        raise ScenarioError(f"{where}: robustness: {exc}") from None
    field = "robustness" if spec.robustness.uncertainty is None else "robustness.uncertainty"
    integer = drawn_parameter_kinds(base, draws.names, f"{where}: {field}")
    for name, lever in spec.levers.items():
        if isinstance(lever, ParameterLever) and lever.parameter in draws.names:
            raise ScenarioError(
                f"{where}: {field}: {lever.parameter} is drawn and also the lever "
                f"levers.{name} (a design's choice cannot be uncertain)"
            )
    return uncertainty, draws, integer


def check_rollout(scenario: Scenario, lever: RolloutLever, where: str) -> None:
    """A roll-out lever fits its base: no more waves than parts to order, and the last wave
    starting before the horizon; ScenarioError (one line) otherwise."""
    pop = scenario.population
    parts = (
        len(pop.countries)
        if lever.per == "country"
        else len(pop.countries) * (pop.regions_per_country)
    )
    if lever.waves > parts:
        plural = (
            {"country": "countries", "region": "regions"}[lever.per] if parts > 1 else lever.per
        )
        raise ScenarioError(
            f"{where}.waves: {lever.waves} waves of {parts} {plural} (at most one wave per "
            f"{lever.per})"
        )
    prog = scenario.programme
    last = prog.start_week + prog.wave_offset(lever.waves - 1)
    if last >= scenario.time.steps:
        raise ScenarioError(
            f"{where}.waves: wave {lever.waves} would start in week {last}, at or after the "
            f"horizon (time.steps = {scenario.time.steps})"
        )


def load_design(path: str | Path) -> Design:
    """Load and validate a design file; one-line ScenarioError on any problem.

    The base scenario path is resolved against the design file's folder.
    """
    from mensi_sim.scenario.loader import read_toml

    p = Path(path)
    data = read_toml(p)
    spec = _validate(data, str(p))
    return build_design(spec, load_base_scenario(p, spec.base.scenario), str(p))


def design_from_dict(data: dict[str, Any], base: Scenario, where: str = "design") -> Design:
    """A design from a dict (as a TOML file would give) and a base scenario object."""
    data = {**data, "base": data.get("base", {"scenario": "<given>"})}
    return build_design(_validate(data, where), base, where)
