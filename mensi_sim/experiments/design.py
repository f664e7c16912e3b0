"""Expanding an experiment's factors into design points, and the SALib samplers.

Named scenarios are crossed with the full-factorial grid; samples (Latin
hypercube, Sobol/Saltelli, Morris) are drawn over ``factors.uncertainties`` with SALib,
seeded, so the same file always gives the same design. Each sample is drawn once,
here: its points (``SampleDesign.points``, before integer parameters are rounded)
are kept on the ``Experiment`` for the sensitivity analysis.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ValidationError

from mensi_sim.errors import ScenarioError
from mensi_sim.scenario.loader import format_validation_error
from mensi_sim.scenario.schema import Scenario

if TYPE_CHECKING:
    from mensi_sim.experiments.spec import ExperimentSpec, SampleSpec


@dataclass(frozen=True)
class DesignPoint:
    """One scenario of the experiment: its name, its scenario and what set it apart.

    Attributes:
        index: Position in the design (the sort order of every results table).
        name: Unique scenario name (the ``scenario`` column of the results).
        scenario: The complete validated scenario.
        overrides: The dotted parameters the factors set (not the base overrides).
        sample: ``(sample label, row)`` for sample points (label: the method, numbered
            when a method appears twice), else None.
        option: A PSA point: the option (named scenario x grid point) it evaluates.
        draw: A PSA point: the parameter draw (row of ``Experiment.draws``).
        root_seed: The root seed of its replicates when it is not the experiment's (a PSA
            draw's own stream, ``uncertainty.draw_root_seed``).
    """

    index: int
    name: str
    scenario: Scenario
    overrides: dict[str, Any]
    sample: tuple[str, int] | None = None  # (sample label, row in the sample)
    option: str | None = None
    draw: int | None = None
    root_seed: int | None = None

    def seed(self, root_seed: int) -> int:
        """The root seed its replicates run under (its own, else the experiment's)."""
        return self.root_seed if self.root_seed is not None else root_seed


@dataclass(frozen=True)
class SampleDesign:
    """One sample of an experiment as drawn: what the sensitivity analysis needs of it.

    Attributes:
        label: The sample's label (its method, numbered when a method appears twice).
        spec: The ``[[factors.samples]]`` entry.
        seed: The sampler's seed.
        problem: The SALib problem (names and bounds of ``factors.uncertainties``).
        points: The points as sampled (rows, before integer parameters are rounded), in
            sample order: row i is the design point ``<label>-<i>``.
    """

    label: str
    spec: SampleSpec
    seed: int
    problem: dict[str, Any]
    points: np.ndarray = field(compare=False, repr=False)


def _section_model(model: type[BaseModel], key: str) -> type[BaseModel] | None:
    info = model.model_fields.get(key)
    ann = getattr(info, "annotation", None)
    return ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None


def flatten_overrides(overrides: dict[str, Any], model: type[BaseModel] = Scenario) -> dict:
    """Dotted paths from overrides written as dotted keys or as nested tables.

    ``{"adoption": {"p": 0.01}}`` and ``{"adoption.p": 0.01}`` both give
    ``{"adoption.p": 0.01}``; a table is only opened where the schema has a
    section (so dict-valued parameters such as ``country_capacity_shift`` stay whole).
    """
    flat: dict[str, Any] = {}
    for key, value in overrides.items():
        head, _, rest = key.partition(".")
        sub = _section_model(model, head)
        if sub is not None and rest:
            for k, v in flatten_overrides({rest: value}, sub).items():
                flat[f"{head}.{k}"] = v
        elif sub is not None and isinstance(value, dict):
            for k, v in flatten_overrides(value, sub).items():
                flat[f"{head}.{k}"] = v
        else:
            flat[key] = value
    return flat


def get_parameter(scenario: Scenario, path: str) -> Any:
    """The value of a dotted parameter of a scenario (KeyError if there is none)."""
    node: Any = scenario.model_dump()
    for key in path.split("."):
        if isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]  # an item of a list: "training.courses.0.completion_prob"
            continue
        if not isinstance(node, dict) or key not in node:
            raise KeyError(path)
        node = node[key]
    return node


def apply_overrides(scenario: Scenario, overrides: dict[str, Any], where: str) -> Scenario:
    """``scenario.with_updates`` with one-line errors: ``where: field: problem (allowed: ...)``."""
    flat = flatten_overrides(overrides)
    try:
        return scenario.with_updates(flat)
    except KeyError as exc:
        raise ScenarioError(f"{where}: unknown parameter {exc.args[0]!r}") from None
    except ValidationError as err:
        raise ScenarioError(format_validation_error(err, where, Scenario)) from None


def _label(path: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    leaf = path.rsplit(".", 1)[-1]
    if isinstance(value, bool):
        return f"{leaf}={str(value).lower()}"
    if isinstance(value, int | float):
        return f"{leaf}={value:g}"
    return f"{leaf}={value}"


#: the dummy parameter every sensitivity sample carries (last column, on [0, 1]): the model
#: never reads it, so its index is what noise and estimation error alone produce, and every
#: other index is reported against it
DUMMY = "dummy"


def problem(ranges: dict[str, list[float]], *, dummy: bool = True) -> dict[str, Any]:
    """The SALib problem dict of parameter ranges (names are the dotted parameters), with
    the ``DUMMY`` parameter last unless ``dummy=False``."""
    names = list(ranges)
    bounds = [[float(lo), float(hi)] for lo, hi in ranges.values()]
    if dummy:
        names.append(DUMMY)
        bounds.append([0.0, 1.0])
    return {"num_vars": len(names), "names": names, "bounds": bounds}


def sample_matrix(
    prob: dict[str, Any],
    method: str,
    n: int,
    *,
    seed: int,
    levels: int = 4,
    second_order: bool = False,
) -> np.ndarray:
    """Sample points (rows) over the problem's ranges with SALib.

    ``lhs``: n points; ``sobol``: Saltelli's scheme (scrambled Sobol sequence),
    n (D + 2) points, or n (2D + 2) with ``second_order``; ``morris``: n
    trajectories of D + 1 points on a ``levels``-level grid.
    """
    if method == "lhs":
        from SALib.sample import latin

        return latin.sample(prob, n, seed=seed)
    if method == "sobol":
        from SALib.sample import sobol

        return sobol.sample(prob, n, calc_second_order=second_order, scramble=True, seed=seed)
    if method == "morris":
        from SALib.sample import morris

        return morris.sample(prob, n, num_levels=levels, seed=seed)
    raise ValueError(f"unknown sample method {method!r}")


def sample_labels(spec: ExperimentSpec) -> list[str]:
    """The label of each sample (its method, numbered when a method appears twice)."""
    methods = [s.method for s in spec.factors.samples]
    return [m if methods.count(m) == 1 else f"{m}{k}" for k, m in enumerate(methods)]


def _expand_samples(
    spec: ExperimentSpec, base: Scenario, where: str
) -> tuple[list[tuple[str, dict[str, Any], tuple[str, int]]], list[SampleDesign]]:
    ranges = flatten_overrides(spec.factors.ranges)
    integer = {}
    for path, (lo, hi) in ranges.items():
        try:
            value = get_parameter(base, path)
        except KeyError:
            raise ScenarioError(
                f"{where}: factors.uncertainties: unknown parameter {path!r}"
            ) from None
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ScenarioError(f"{where}: factors.uncertainties: {path}: not a numeric parameter")
        integer[path] = isinstance(value, int)
        for bound in (lo, hi):  # both ends, rounded as the samples will be, must be valid
            shown = int(round(bound)) if integer[path] else float(bound)
            apply_overrides(base, {path: shown}, f"{where}: factors.uncertainties")
    prob = problem(ranges)
    out = []
    designs = []
    labels = sample_labels(spec)
    for k, sample in enumerate(spec.factors.samples):
        seed = spec.root_seed if sample.seed is None else sample.seed
        x = sample_matrix(
            prob,
            sample.method,
            sample.n,
            seed=seed,
            levels=sample.levels,
            second_order=sample.second_order,
        )
        prefix = labels[k]
        designs.append(SampleDesign(prefix, sample, seed, prob, x))
        width = max(4, len(str(len(x) - 1)))
        for i, row in enumerate(x):
            values = {  # the dummy (last column) is never applied
                path: int(round(v)) if integer[path] else float(v)
                for path, v in zip(ranges, row[: len(ranges)], strict=True)
            }
            out.append((f"{prefix}-{i:0{width}d}", values, (prefix, i)))
    return out, designs


def expand(
    spec: ExperimentSpec, base: Scenario, where: str
) -> tuple[list[DesignPoint], list[SampleDesign]]:
    """The design points of an experiment, in design order, and its samples as drawn.

    Named scenarios x grid (grid labels first, then the scenario name, joined by
    ``/``, e.g. ``top_down/funding``); or one point per sample row (``sobol-0007``);
    or the base scenario alone when there are no factors.
    """
    f = spec.factors
    rows: list[tuple[str, dict[str, Any], tuple[str, int] | None, str]] = []
    designs: list[SampleDesign] = []
    if f.samples:
        drawn, designs = _expand_samples(spec, base, where)
        rows = [(n, v, s, "factors.uncertainties") for n, v, s in drawn]
    else:
        grid = flatten_overrides(f.grid)
        combos = list(itertools.product(*grid.values())) if grid else [()]
        named = f.scenarios or [None]
        for combo in combos:
            for sc in named:
                values = dict(zip(grid, combo, strict=True))
                labels = [_label(p, v) for p, v in values.items()]
                field = "factors.levers"
                if sc is not None:
                    own = flatten_overrides(sc.overrides)
                    clash = sorted(set(own) & set(values))
                    if clash:
                        raise ScenarioError(
                            f"{where}: factors.policies.{sc.name}: {clash[0]} is also in "
                            "factors.levers (set it in one place)"
                        )
                    values.update(own)
                    labels.append(sc.name)
                    field = f"factors.policies.{sc.name}.overrides"
                name = "/".join(labels) if labels else base.name
                rows.append((name, values, None, field))
    counts = Counter(r[0] for r in rows)  # linear: a 16,000-point sample is checked at once
    dup = sorted(n for n, c in counts.items() if c > 1)
    if dup:
        raise ScenarioError(f"{where}: factors: two design points are named {dup[0]!r}")
    if spec.uncertainty is not None:
        return _expand_draws(spec, base, where, rows), designs
    points = []
    for i, (name, values, sample, field) in enumerate(rows):
        scenario = apply_overrides(base, {**values, "name": name}, f"{where}: {field}")
        points.append(DesignPoint(i, name, scenario, values, sample))
    return points, designs


def typed_value(value: Any) -> Any:
    """A parameter value as one typed cell: a number, string or bool as it is; anything
    else (a list of incentive schemes, a table per country) as its JSON text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def parameter_table(points: tuple[DesignPoint, ...] | list[DesignPoint]) -> pd.DataFrame:
    """One row per design point (column ``point``) and a typed column per parameter that
    any point's factors set, named by its dotted path (``adoption.p``), holding the value
    the point's scenario has (a point that leaves it alone: the base value), so that
    ``runs.parquet`` holds the sampled parameters as columns rather than one JSON text."""
    names = list(dict.fromkeys(name for p in points for name in p.overrides))
    rows = [
        {"point": p.index, **{n: typed_value(get_parameter(p.scenario, n)) for n in names}}
        for p in points
    ]
    return pd.DataFrame(rows, columns=["point", *names])


def drawn_parameter_kinds(base: Scenario, names: Sequence[str], where: str) -> dict[str, bool]:
    """Per drawn parameter, whether it is an integer (its draws are rounded); every one must
    be a numeric parameter of ``base``.

    Raises:
        ScenarioError: ``where: unknown parameter ...`` or ``where: path: not a numeric
            parameter``.
    """
    integer = {}
    for path in names:
        try:
            value = get_parameter(base, path)
        except KeyError:
            raise ScenarioError(f"{where}: unknown parameter {path!r}") from None
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ScenarioError(f"{where}: {path}: not a numeric parameter")
        integer[path] = isinstance(value, int)
    return integer


def _expand_draws(
    spec: ExperimentSpec, base: Scenario, where: str, options: list[tuple[str, dict, Any, str]]
) -> list[DesignPoint]:
    """A PSA's points: every option on every draw (``<option>/draw-0007``), option-major;
    draw d of every option runs under ``draw_root_seed(root_seed, d)``."""
    from mensi_sim.experiments.uncertainty import draw_root_seed, psa_draws

    draws = psa_draws(spec.uncertainty, spec.root_seed, where)
    integer = drawn_parameter_kinds(base, draws.names, f"{where}: uncertainty")
    width = max(4, len(str(draws.n - 1)))
    points = []
    for option, values, _, where_set in options:
        clash = sorted(set(values) & set(draws.names))
        if clash:
            raise ScenarioError(
                f"{where}: {where_set}: {clash[0]} is also drawn in [uncertainty] "
                "(set it in one place)"
            )
        for d in range(draws.n):
            name = f"{option}/draw-{d:0{width}d}"
            drawn = draws.overrides(d, integer)
            scenario = apply_overrides(
                base, {**values, **drawn, "name": name}, f"{where}: uncertainty: draw {d}"
            )
            points.append(
                DesignPoint(
                    len(points),
                    name,
                    scenario,
                    {**values, **drawn},
                    None,
                    option=option,
                    draw=d,
                    root_seed=draw_root_seed(spec.root_seed, d),
                )
            )
    return points
