"""mensi_sim for EMA Workbench (3.x): a scenario or an experiment as an EMA model.

Exploratory modelling speaks of **uncertainties** (what nobody controls, sampled),
**levers** (what is decided), **constants**, **outcomes** and **replications**; this
module names the parts of a mensi_sim scenario that way, so that analysts can use EMA's
samplers, evaluators, optimisation and scenario discovery (PRIM, CART) on mensi_sim::

    from ema_workbench import perform_experiments
    from ema_workbench.analysis import prim
    from mensi_sim.ema import ema_model

    model = ema_model("mensi_pilot", replications=4)
    experiments, outcomes = perform_experiments(model, scenarios=100, policies=5)
    box = prim.Prim(experiments[list(model.uncertainties.keys())],
                    outcomes["final_adoption_share"] > 0.25).find_box()

An EMA parameter is named by its dotted mensi_sim parameter (``adoption.p``). Every
experiment runs ``experiments.replicate.run_once``, so replication r of every
experiment uses ``replicate_seed(seed, r)`` (common random numbers, as in a sweep)
and the outcomes are those of ``summary.parquet``, averaged over the replications.
``ema_model("structures")`` takes an experiment file instead: its uncertainties,
its levers, and its policies as one categorical lever ``named_policy``; ``ema_policies``
gives its design (levers x policies) as EMA samples.

Needs the ``ema`` extra (``pip install 'mensi_sim[ema]'``: ema_workbench >= 3).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

try:
    import ema_workbench as ema
except ImportError as exc:  # pragma: no cover - the extra is part of the test set-up
    raise ImportError("mensi_sim.ema needs EMA Workbench: pip install 'mensi_sim[ema]'") from exc
import numpy as np

from mensi_sim import shipped
from mensi_sim.errors import ScenarioError
from mensi_sim.experiments.design import apply_overrides, flatten_overrides, get_parameter
from mensi_sim.experiments.replicate import run_once
from mensi_sim.experiments.spec import (
    DEFAULT_OUTCOMES,
    OUTCOME_NAMES,
    Experiment,
    load_experiment,
)
from mensi_sim.scenario import Scenario, load_scenario, policy_structures
from mensi_sim.scenario.loader import read_toml

__all__ = ["POLICY", "default_uncertainties", "ema_model", "ema_policies", "run_scenario"]

# the lever naming one of an experiment's [[factors.policies]] (not "policy": EMA's
# experiments table has columns scenario, policy and model of its own)
POLICY = "named_policy"
# outcomes a policy wants more of, and less of (for EMA's optimisation; others: INFO)
MORE = ("adoption_share", "adopters", "capacity_gain", "final_mean_capacity", "members_final")
LESS = ("cost", "cash", "staff", "weeks_to_half", "equity_gap", "gini", "dropouts")
Range = tuple[float, float] | Sequence[Any]  # [low, high] of a number, or the options


def default_uncertainties() -> dict[str, list[float]]:
    """The uncertainties of the shipped sensitivity experiment (its [factors.uncertainties]):
    the adoption, learning, contact and engagement parameters with their ranges."""
    folder = shipped.folder("experiments")
    if folder is None:
        raise ScenarioError("no shipped experiments: give the uncertainties")
    factors = read_toml(folder / "sensitivity.toml").get("factors", {})
    ranges = factors.get("uncertainties", factors.get("ranges", {}))
    return {k: [float(v) for v in pair] for k, pair in flatten_overrides(ranges).items()}


def _direction(outcome: str) -> int:
    if any(word in outcome for word in LESS):
        return ema.ScalarOutcome.MINIMIZE
    if any(word in outcome for word in MORE):
        return ema.ScalarOutcome.MAXIMIZE
    return ema.ScalarOutcome.INFO


def _cast(base: Scenario, name: str, value: Any) -> Any:
    """An EMA value (numpy scalars, floats for integers) as the parameter's own type."""
    current = get_parameter(base, name)
    if isinstance(current, bool):
        return bool(value)
    if isinstance(current, int) and isinstance(value, int | float | np.number):
        return int(round(float(value)))
    if isinstance(current, float) and isinstance(value, int | float | np.number):
        return float(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def run_scenario(
    base: Scenario,
    steps: int | None,
    seed: int,
    outcomes: Sequence[str],
    policies: Mapping[str, Mapping[str, Any]] | None = None,
    replicate: int = 0,
    **values: Any,
) -> dict[str, float]:
    """One run of ``base`` with EMA's values applied: the outcomes of its summary row.

    ``values`` holds the uncertainties, levers and constants by dotted name, and
    ``named_policy`` (``POLICY``) the name of a policy whose overrides apply first.

    Raises:
        ScenarioError: A value that makes no valid scenario (one line).
    """
    updates: dict[str, Any] = {}
    if POLICY in values:
        updates.update((policies or {})[str(values.pop(POLICY))])
    updates.update({k: _cast(base, k, v) for k, v in values.items()})
    scenario = apply_overrides(base, updates, "ema experiment")
    out = run_once(scenario, seed, int(replicate), steps)
    return {o: float(out.summary[o]) for o in outcomes}


def _parameter(
    base: Scenario, name: str, spec: Range, where: str, options: bool = False
) -> ema.Parameter:
    """An EMA parameter for a dotted parameter: Real or Integer over [low, high] of a
    number, Categorical over a list of options (Boolean for both truth values); with
    ``options``, a list is always options (an experiment's levers: two numbers are two
    values to choose from, not a range)."""
    try:
        current = get_parameter(base, name)
    except KeyError:
        raise ScenarioError(f"{where}: unknown parameter {name!r}") from None
    values = list(spec)
    numeric = isinstance(current, int | float) and not isinstance(current, bool)
    pair = len(values) == 2 and all(isinstance(v, int | float) for v in values)
    if numeric and pair and not options:
        low, high = values
        if not low < high:
            raise ScenarioError(f"{where}: {name}: needs [low, high] with low < high, got {spec}")
        for bound in values:  # both ends must make a valid scenario
            apply_overrides(base, {name: _cast(base, name, bound)}, where)
        if isinstance(current, int):
            return ema.IntegerParameter(name, int(round(low)), int(round(high)))
        return ema.RealParameter(name, float(low), float(high))
    for option in values:
        apply_overrides(base, {name: option}, where)
    if isinstance(current, bool) and sorted(values) == [False, True]:
        return ema.BooleanParameter(name)
    return ema.CategoricalParameter(name, values)


def _identifier(name: str) -> str:
    text = re.sub(r"\W", "_", name)
    return text if text.isidentifier() else f"m_{text}"


def ema_model(
    source: Scenario | Experiment | str | Path,
    *,
    uncertainties: Mapping[str, Range] | None = None,
    levers: Mapping[str, Range] | None = None,
    constants: Mapping[str, Any] | None = None,
    outcomes: Sequence[str] | None = None,
    replications: int | None = None,
    seed: int | None = None,
    steps: int | None = None,
) -> ema.Model | ema.ReplicatorModel:
    """An EMA Workbench model of a scenario (or of an experiment's base scenario).

    Args:
        source: A Scenario, an Experiment, or the path or shipped name of either
            (a scenario is looked for first: ``"mensi_pilot"``, ``"structures"``).
        uncertainties: Dotted parameter -> ``[low, high]`` (Real, or Integer for an
            integer parameter) or a list of options (Categorical). Default: an
            experiment's uncertainties, else ``default_uncertainties()``.
        levers: As ``uncertainties``. Default: an experiment's levers and its policies
            (one categorical lever ``named_policy``), else the policy structures
            (``network.structure``: none, top_down, bottom_up, virtual, hybrid).
        constants: Dotted parameter -> value, fixed in every experiment.
        outcomes: Outcomes of the summary (default: the experiment's, else the headline
            outcomes), each an EMA ScalarOutcome (MAXIMIZE, MINIMIZE or INFO).
        replications: Runs per experiment (default: the experiment's, else 1); more than
            one gives a ReplicatorModel whose outcomes are the mean over replications.
        seed: Root seed: replication r uses ``replicate_seed(seed, r)`` (default: the
            experiment's root seed, else 0).
        steps: Weeks to simulate (default: the scenario's).

    Raises:
        ScenarioError: One line: an unknown parameter, a range or option that makes no
            valid scenario, an unknown outcome.
    """
    experiment = _experiment(source)
    base = experiment.base if experiment is not None else _scenario(source)
    spec = experiment.spec if experiment is not None else None
    policies: dict[str, dict[str, Any]] = {}
    chosen_from: set[str] = set()  # levers whose values are options (an experiment's)
    if spec is not None:
        policies = {p.name: flatten_overrides(p.overrides) for p in spec.factors.scenarios}
        if len(policies) == 1:  # one policy: part of the model, not a choice
            base = apply_overrides(base, policies.popitem()[1], f"{spec.name}: policies")
        if uncertainties is None and spec.factors.ranges:
            uncertainties = flatten_overrides(spec.factors.ranges)
        if levers is None:
            levers = dict(flatten_overrides(spec.factors.grid))
            chosen_from = set(levers)
            if len(policies) > 1:
                levers[POLICY] = list(policies)
        outcomes = outcomes or spec.outcomes
        replications = replications or spec.replications
        seed = spec.root_seed if seed is None else seed
        steps = steps or spec.steps
    if uncertainties is None:
        uncertainties = default_uncertainties()
    if levers is None:
        levers = {"network.structure": list(policy_structures())}
    outcomes = list(outcomes or DEFAULT_OUTCOMES)
    unknown = [o for o in outcomes if o not in OUTCOME_NAMES]
    if unknown:
        raise ScenarioError(f"ema_model: outcomes: unknown outcome {unknown[0]!r}")
    replications = replications or 1
    function = partial(run_scenario, base, steps, 0 if seed is None else seed, outcomes, policies)
    name = _identifier(experiment.name if experiment is not None else base.name)
    model: ema.Model | ema.ReplicatorModel
    if replications > 1:
        model = ema.ReplicatorModel(name, function=function)
        model.replications = [{"replicate": r} for r in range(replications)]
    else:
        model = ema.Model(name, function=function)
    where = f"ema_model({name})"
    model.uncertainties = [
        _parameter(base, n, r, f"{where}: uncertainties") for n, r in uncertainties.items()
    ]
    model.levers = [
        ema.CategoricalParameter(POLICY, list(policies))
        if n == POLICY
        else _parameter(base, n, r, f"{where}: levers", options=n in chosen_from)
        for n, r in levers.items()
    ]
    model.constants = [ema.Constant(n, v) for n, v in (constants or {}).items()]
    for n, v in (constants or {}).items():
        apply_overrides(base, {n: v}, f"{where}: constants")
    mean = np.mean if replications > 1 else None
    model.outcomes = [ema.ScalarOutcome(o, kind=_direction(o), function=mean) for o in outcomes]
    return model


def ema_policies(source: Experiment | str | Path) -> list[ema.Sample]:
    """An experiment's design of what is decided as EMA samples: every combination of its
    levers with each of its policies, named as the sweep names its scenarios
    (``top_down/funding``); pass them as ``perform_experiments(..., policies=...)``.
    An experiment of sampled uncertainties has none (an empty list)."""
    experiment = source if isinstance(source, Experiment) else load_experiment(source)
    factors = experiment.spec.factors
    if factors.samples:
        return []
    grid = flatten_overrides(factors.grid)
    named = [p.name for p in factors.scenarios] or [None]
    points = iter(experiment.points)  # in design order: levers, then policies
    samples = []
    for combo in itertools.product(*grid.values()):
        for policy in named:
            values = dict(zip(grid, combo, strict=True))
            if len(named) > 1:
                values[POLICY] = policy
            samples.append(ema.Sample(next(points).name, **values))
    return samples


def _experiment(source: Scenario | Experiment | str | Path) -> Experiment | None:
    if isinstance(source, Experiment):
        return source
    if isinstance(source, Scenario):
        return None
    located = shipped.locate(source, "scenarios")
    if located.is_file():
        return None
    return load_experiment(source)


def _scenario(source: Scenario | str | Path) -> Scenario:
    return source if isinstance(source, Scenario) else load_scenario(source)
