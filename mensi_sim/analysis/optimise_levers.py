"""Levers: the decision variables of a design file, a candidate's scenario, and its words.

A *candidate* is one value per decision variable (a dict of plain Python values). The
levers of a design file expand into variables (``variables``): a parameter lever is one
variable, a regions lever one per region or country, an incentive lever a type and a level
in [0, 1] of the type's amount range, a mentors lever one yes/no per listed school, a
roll-out lever one random key in [0, 1] per region or country (their order, cut into
waves, is the roll-out: ``rollout_waves``). A
candidate becomes dotted scenario updates (``candidate_updates``), a scenario named by a
hash of its values (``candidate_scenario``) and a sentence a ministry reads
(``describe_design``).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from mensi_sim.analysis.optimise_spec import (
    Design,
    IncentiveLever,
    MentorsLever,
    ParameterLever,
    RegionsLever,
    RolloutLever,
)
from mensi_sim.errors import ScenarioError
from mensi_sim.experiments.design import apply_overrides, get_parameter
from mensi_sim.population import generate_population
from mensi_sim.scenario.schema import Scenario

#: "key": a random key in [0, 1] of a roll-out lever (a real number whose rank counts)
Kind = Literal["choice", "integer", "real", "binary", "key"]


@dataclass(frozen=True)
class Variable:
    """One decision variable: its name (``lever`` or ``lever.part``), kind and domain."""

    name: str
    lever: str
    kind: Kind
    options: tuple[Any, ...] = ()
    bounds: tuple[float, float] = (0.0, 1.0)


def plain(value: Any) -> Any:
    """A numpy scalar as the Python value a strict scenario accepts."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def region_labels(scenario: Scenario) -> list[str]:
    """The label of each region, in region id order: ``<country>-<k>`` (k = 1, 2, ...)."""
    pop = scenario.population
    return [f"{c}-{k + 1}" for c in pop.countries for k in range(pop.regions_per_country)]


def variables(design: Design) -> list[Variable]:
    """The decision variables of a design's levers, in lever order."""
    out: list[Variable] = []
    pop = design.base.population
    for name, lever in design.spec.levers.items():
        if isinstance(lever, ParameterLever):
            if lever.choices is not None:
                out.append(Variable(name, name, "choice", tuple(lever.choices)))
            elif lever.integers is not None:
                lo, hi = lever.integers
                out.append(Variable(name, name, "integer", bounds=(lo, hi)))
            else:
                lo, hi = lever.range
                out.append(Variable(name, name, "real", bounds=(lo, hi)))
        elif isinstance(lever, RegionsLever):
            parts = pop.countries if lever.per == "country" else region_labels(design.base)
            out.extend(
                Variable(f"{name}.{part}", name, "choice", tuple(lever.choices)) for part in parts
            )
        elif isinstance(lever, IncentiveLever):
            out.append(Variable(f"{name}.type", name, "choice", tuple(lever.types)))
            out.append(Variable(f"{name}.level", name, "real", bounds=(0.0, 1.0)))
        elif isinstance(lever, MentorsLever):
            out.extend(Variable(f"{name}.{i}", name, "binary") for i in lever.candidates)
        elif isinstance(lever, RolloutLever):
            out.extend(
                Variable(f"{name}.{part}", name, "key", bounds=(0.0, 1.0))
                for part in rollout_parts(design.base, lever)
            )
    return out


def rollout_parts(scenario: Scenario, lever: RolloutLever) -> list[str]:
    """What a roll-out lever orders: the countries, or the regions (``region_labels``)."""
    return (
        list(scenario.population.countries) if lever.per == "country" else region_labels(scenario)
    )


def rollout_waves(
    scenario: Scenario, lever: RolloutLever, name: str, values: dict[str, Any]
) -> list[list[str]]:
    """The waves of a candidate: its parts by ascending key (ties by the parts' order),
    cut into ``lever.waves`` consecutive groups as equal as can be, the first ones larger;
    within a wave the parts in their own order (the order within a wave changes nothing)."""
    parts = rollout_parts(scenario, lever)
    keys = np.array([float(values[f"{name}.{part}"]) for part in parts])
    order = np.argsort(keys, kind="stable")
    return [[parts[i] for i in sorted(group)] for group in np.array_split(order, lever.waves)]


def rollout_keys(
    scenario: Scenario, lever: RolloutLever, name: str, waves: list[list[str]]
) -> dict[str, float]:
    """The canonical keys of a roll-out: every part of wave k (0-based) at (k + 0.5) /
    waves, so that every key vector giving the same waves gives the same candidate."""
    out = {}
    for k, wave in enumerate(waves):
        for part in wave:
            out[f"{name}.{part}"] = (k + 0.5) / lever.waves
    return out


def incentive_amount(lever: IncentiveLever, kind: str, level: float) -> float:
    """EUR of a scheme of type ``kind`` at ``level`` in [0, 1] of the type's range (rounded
    to whole euros, so that the words and the scenario say the same)."""
    lo, hi = lever.amount_range(kind)
    return float(round(lo + float(level) * (hi - lo)))


def candidate_updates(design: Design, values: dict[str, Any]) -> dict[str, Any]:
    """The dotted scenario updates of a candidate."""
    updates: dict[str, Any] = {}
    pop = design.base.population
    for name, lever in design.spec.levers.items():
        if isinstance(lever, ParameterLever):
            updates[lever.parameter] = plain(values[name])
        elif isinstance(lever, RegionsLever):
            if lever.per == "country":
                modes = [
                    str(values[f"{name}.{c}"])
                    for c in pop.countries
                    for _ in range(pop.regions_per_country)
                ]
            else:
                modes = [str(values[f"{name}.{label}"]) for label in region_labels(design.base)]
            updates["network.plan.regions"] = modes
        elif isinstance(lever, IncentiveLever):
            kind = str(values[f"{name}.type"])
            if kind == "none":
                updates["incentives"] = []
            else:
                amount = incentive_amount(lever, kind, values[f"{name}.level"])
                updates["incentives"] = [{"type": kind, "amount": amount, "target": lever.target}]
        elif isinstance(lever, MentorsLever):
            chosen = [i for i in lever.candidates if bool(values[f"{name}.{i}"])]
            if chosen:
                updates["network.plan.mentors"] = chosen
            else:  # no school chosen: no programme (an empty list would mean "by score")
                updates["network.plan.regions"] = ["none"] * len(region_labels(design.base))
        elif isinstance(lever, RolloutLever):
            updates["programme.waves"] = rollout_waves(design.base, lever, name, values)
    return updates


#: significant digits a candidate's real-valued levers keep (``canonical``)
LEVER_DIGITS = 12


def settled(value: Any) -> Any:
    """A real value rounded to ``LEVER_DIGITS`` significant digits; any other unchanged.

    The search's arithmetic (pymoo's crossover and mutation) can end in other last bits
    on another CPU or library build. Rounded, the same design has the same levers, the
    same scenario and the same id (``c-...``) on every machine: the README's optimiser
    ids had changed between machines with every number of the designs equal.
    """
    if isinstance(value, float) and math.isfinite(value):
        return float(f"{value:.{LEVER_DIGITS}g}")
    return value


def canonical(design: Design, values: dict[str, Any]) -> dict[str, Any]:
    """The candidate as plain values, with what does not change its scenario taken out (the
    level of an incentive of type none), so equal designs have equal keys; real values
    rounded to ``LEVER_DIGITS`` significant digits (``settled``)."""
    out = {v.name: settled(plain(values[v.name])) for v in variables(design)}
    for name, lever in design.spec.levers.items():
        if isinstance(lever, IncentiveLever) and out[f"{name}.type"] == "none":
            out[f"{name}.level"] = 0.0
        if isinstance(lever, IncentiveLever):
            out[f"{name}.level"] = float(out[f"{name}.level"])
        if isinstance(lever, RolloutLever):  # only the waves matter, not the keys
            out.update(
                rollout_keys(design.base, lever, name, rollout_waves(design.base, lever, name, out))
            )
    return out


def candidate_id(values: dict[str, Any]) -> str:
    """A short stable name of a candidate: ``c-`` and 10 hex digits of a hash of its values."""
    blob = json.dumps(values, sort_keys=True, separators=(",", ":"), default=str).encode()
    return "c-" + hashlib.sha256(blob).hexdigest()[:10]


def candidate_scenario(design: Design, values: dict[str, Any], name: str | None = None) -> Scenario:
    """The scenario of a candidate (named by its id), validated; ScenarioError if invalid."""
    values = canonical(design, values)
    where = f"{design.source_path or 'design'}: candidate {values}"
    scenario = apply_overrides(design.base, candidate_updates(design, values), where)
    return scenario.model_copy(update={"name": name or candidate_id(values)})


def check_lever_domains(design: Design) -> None:
    """Apply each end of every parameter lever's domain to the base scenario, so that a
    value the scenario would refuse is an error when the file is loaded, not mid-search."""
    where = design.source_path or "design"
    for name, lever in design.spec.levers.items():
        if not isinstance(lever, ParameterLever):
            continue
        domain = lever.choices or lever.integers or lever.range or []
        for value in domain:
            apply_overrides(design.base, {lever.parameter: value}, f"{where}: levers.{name}")


def base_values(design: Design) -> dict[str, Any]:
    """The value of every decision variable in the base scenario (a lever whose base value
    lies outside its domain takes the nearest end, or its first choice)."""
    base, out = design.base, {}
    plan = base.network.plan
    labels = region_labels(base)
    modes = plan.regions or [plan.mode] * len(labels)
    for name, lever in design.spec.levers.items():
        if isinstance(lever, ParameterLever):
            value = get_parameter(base, lever.parameter)
            if lever.parameter == "network.community" and value is None:
                value = base.has_community  # None: the structure's default
            if lever.choices is not None:
                out[name] = value if value in lever.choices else lever.choices[0]
            else:
                lo, hi = lever.integers or lever.range
                out[name] = min(max(value, lo), hi)
        elif isinstance(lever, RegionsLever):
            per = base.population.regions_per_country
            parts = (
                {c: modes[i * per] for i, c in enumerate(base.population.countries)}
                if lever.per == "country"
                else dict(zip(labels, modes, strict=True))
            )
            for part, mode in parts.items():
                out[f"{name}.{part}"] = mode if mode in lever.choices else lever.choices[0]
        elif isinstance(lever, IncentiveLever):
            scheme = base.incentives[0] if base.incentives else None
            kind = scheme.type if scheme is not None and scheme.type in lever.types else "none"
            if kind == "none" and "none" not in lever.types:
                kind = lever.types[0]
            level = 0.0
            if scheme is not None and kind == scheme.type:
                lo, hi = lever.amount_range(kind)
                level = min(max((scheme.payment - lo) / (hi - lo), 0.0), 1.0)
            out[f"{name}.type"], out[f"{name}.level"] = kind, level
        elif isinstance(lever, MentorsLever):
            for i in lever.candidates:
                out[f"{name}.{i}"] = i in plan.mentors
        elif isinstance(lever, RolloutLever):
            # the parts in their own order (the base's waves are not read back)
            parts = rollout_parts(base, lever)
            out.update({f"{name}.{p}": (i + 0.5) / len(parts) for i, p in enumerate(parts)})
    return out


def start_values(design: Design, start: dict[str, Any]) -> dict[str, Any]:
    """A starting design: the base's values with those of ``start`` (variable names, or a
    regions lever's name for every region); ScenarioError naming an unknown name."""
    values = base_values(design)
    where = f"{design.source_path or 'design'}: search.start"
    for key, value in start.items():
        lever = design.spec.levers.get(key)
        if isinstance(lever, RolloutLever):  # the waves, as lists of parts
            values.update(_start_rollout(design, lever, key, value, where))
        elif isinstance(lever, RegionsLever):
            for var in values:
                if var.startswith(f"{key}."):
                    values[var] = value
        elif key in values:
            values[key] = value
        else:
            raise ScenarioError(
                f"{where}: {key!r} is not a decision variable ({', '.join(values)})"
            )
    candidate_scenario(design, values)  # a value the scenario refuses is an error now
    return values


def _start_rollout(
    design: Design, lever: RolloutLever, name: str, waves: Any, where: str
) -> dict[str, float]:
    """The keys of a starting roll-out given as waves (lists of parts, every part once)."""
    parts = rollout_parts(design.base, lever)
    if (
        not isinstance(waves, list)
        or len(waves) != lever.waves
        or not all(isinstance(w, list) for w in waves)
        or sorted(p for w in waves for p in w) != sorted(parts)
    ):
        raise ScenarioError(
            f"{where}: {name}: give {lever.waves} lists of {lever.per} names, every one of "
            f"{', '.join(parts)} once"
        )
    return rollout_keys(design.base, lever, name, waves)


def region_sizes(scenario: Scenario) -> np.ndarray:
    """Schools per region (deterministic: the split over countries and regions draws
    nothing), and each school's region."""
    pop = generate_population(scenario.population, np.random.default_rng(0))
    return np.bincount(pop.region, minlength=pop.n_regions), pop.region


def planned_mentors(scenario: Scenario) -> int:
    """How many mentor schools the plan of a designed scenario names."""
    plan, net = scenario.network.plan, scenario.network
    sizes, region_of = region_sizes(scenario)
    modes = plan.regions or [plan.mode] * sizes.size
    taking_part = np.array([m != "none" for m in modes], dtype=bool)
    if plan.mentors:
        ids = np.unique(np.asarray(plan.mentors, dtype=np.int64))
        return int(taking_part[region_of[ids]].sum())
    return int(np.minimum(sizes, net.mentors_per_region)[taking_part & (sizes > 0)].sum())


# ---------------------------------------------------------------------------- words

_MODE_WORDS = {"in_person": "in person", "online": "online", "none": "no programme"}
_MENTEE_WORDS = {
    "nearest": "the nearest schools",
    "disadvantaged": "the most disadvantaged schools",
    "least_capable": "the least capable schools",
}
_INCENTIVE_WORDS = {
    "funding": "funding of {amount} per school-year",
    "release_time": "release time worth {amount} per school-year",
    "recognition": "a recognition award of {amount}",
    "adoption_reward": "a reward of {amount} per school that adopts",
}


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _eur(amount: float) -> str:
    return f"EUR {amount:,.0f}"


def _regions_words(scenario: Scenario) -> str:
    pop = scenario.population
    plan = scenario.network.plan
    modes = plan.regions or [plan.mode] * (len(pop.countries) * pop.regions_per_country)
    per = pop.regions_per_country
    parts = []
    for mode in ("online", "in_person", "none"):
        whole, partial = [], 0
        for i, country in enumerate(pop.countries):
            own = modes[i * per : (i + 1) * per]
            if all(m == mode for m in own):
                whole.append(country)
            else:
                partial += sum(m == mode for m in own)
        if not whole and not partial:
            continue
        where = []
        if whole:
            where.append(", ".join(whole) if len(whole) < len(pop.countries) else "every country")
        if partial:
            where.append(f"{partial} more region{'s' if partial > 1 else ''}")
        parts.append(f"{_MODE_WORDS[mode]} in {' and '.join(where)}")
    return "; ".join(parts)


def _mentor_words(scenario: Scenario) -> str:
    """Who mentors in a region: "the 2 most capable schools", "the school with the highest
    score (nearness +1.00, capacity +0.50)"."""
    plan, n = scenario.network.plan, scenario.network.mentors_per_region
    weights = {
        "capacity": plan.capacity,
        "centrality": plan.centrality,
        "nearness": plan.distance,
        "disadvantage": plan.disadvantage,
    }
    used = {k: w for k, w in weights.items() if w}
    schools = "school" if n == 1 else f"{n} schools"
    if list(used) == ["capacity"] and used["capacity"] > 0:
        return "the most capable school" if n == 1 else f"the {n} most capable schools"
    if not used:
        return f"the {schools} chosen with no preference (the most capable first)"
    text = ", ".join(f"{k} {w:+.2f}" for k, w in sorted(used.items(), key=lambda kv: -abs(kv[1])))
    return f"the {schools} with the highest score ({text})"


def _rates_words(scenario: Scenario) -> str:
    plan, c = scenario.network.plan, scenario.contacts
    modes = set(plan.regions or [plan.mode])
    term = scenario.time.term_weeks
    out = []
    if "in_person" in modes:
        out.append(f"in-person clusters meet about {c.rate_in_person * term:.0f} times a year")
    if "online" in modes:
        out.append(f"online clusters about {c.rate_online * term:.0f} times a year")
    return ", ".join(out)


def _rollout_words(waves: list[list[str]]) -> str:
    """ "Rolled out in 2 waves a year apart: wave 1: HR, IT; wave 2: CZ, PT"."""
    parts = "; ".join(f"wave {k + 1}: {', '.join(wave)}" for k, wave in enumerate(waves))
    return f"Rolled out in {len(waves)} waves a year apart: {parts}."


def describe_design(design: Design, values: dict[str, Any]) -> str:
    """The design of a candidate in words a ministry reads, e.g. "Online in HR, CZ; in
    person in IT. In each region the 2 most capable schools mentor up to 4 schools each
    (the nearest schools); online clusters about 18 times a year. Release time worth EUR
    3,000 per school-year for mentors. A community of practice."
    """
    sc = candidate_scenario(design, values)
    net, plan = sc.network, sc.network.plan
    sentences = [_first_upper(_regions_words(sc)) + "."]
    if plan.mentors:
        who = f"The schools {', '.join(map(str, plan.mentors))} mentor"
    else:
        verb = "mentors" if net.mentors_per_region == 1 else "mentor"
        who = f"In each region taking part {_mentor_words(sc)} {verb}"
    k = net.mentees_per_mentor
    sentence = f"{who} up to {k} school{'s' if k > 1 else ''} each ({_MENTEE_WORDS[plan.mentees]})"
    rates = _rates_words(sc)
    sentences.append(sentence + (f"; {rates}." if rates else "."))
    if sc.incentives:
        for scheme in sc.incentives:
            words = _INCENTIVE_WORDS.get(scheme.type, scheme.type + " of {amount}")
            sentences.append(
                _first_upper(words.format(amount=_eur(scheme.payment))) + f" for {scheme.target}."
            )
    else:
        sentences.append("No incentive.")
    if sc.has_community:
        sentences.append("An online community of practice.")
    if len(sc.programme.waves) > 1:
        sentences.append(_rollout_words(sc.programme.waves))
    covered = {
        lv.parameter
        for lv in design.spec.levers.values()
        if isinstance(lv, ParameterLever)
        and lv.parameter
        in (
            "network.mentors_per_region",
            "network.mentees_per_mentor",
            "contacts.rate_in_person",
            "contacts.rate_online",
            "network.community",
        )
        or (isinstance(lv, ParameterLever) and lv.parameter.startswith("network.plan."))
    }
    for name, lever in design.spec.levers.items():
        if isinstance(lever, ParameterLever) and lever.parameter not in covered:
            sentences.append(f"{lever.parameter} = {plain(values[name])}.")
    return " ".join(sentences)
