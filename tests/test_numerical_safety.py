"""Numerical safety: for any valid scenario, every output is a number in its range.

A hypothesis property over random valid scenarios: every numeric parameter of every
section is drawn within its schema bounds (``ge``/``gt``/``le``/``lt`` read from the
schema itself, so a new parameter is fuzzed without touching this file), with small
populations (<= 200 schools) and few weeks (<= 20) so that many scenarios run. Each is run
through ``simulate`` (2 replicates) and stepped once more by hand to check the school
state after every week:

- capacity and its baseline, engagement: in [0, 1]; every share in [0, 1];
- costs: non-negative, per school and category cumulative (never decreasing), and the
  total equals the sum of the categories;
- no NaN or infinity anywhere in the state, the time series or the summary;
- no floating-point warning (division by zero, invalid value, overflow) is raised.

A scenario can be valid and still describe an impossible network (e.g. more mentors per
region than schools, an odd ring degree); building it must then raise NetworkError,
which counts as a clean refusal. The number of cases run is printed (``-s``) and
recorded in docs/VALIDATION.md.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Literal, get_args, get_origin

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from mensi_sim import MentoringModel, simulate
from mensi_sim.errors import NetworkError
from mensi_sim.metrics import STEP_METRICS
from mensi_sim.registry import ADOPTION_RULES, INCENTIVE_TYPES, STRUCTURES, structure_names
from mensi_sim.scenario.schema import (
    AdoptionParams,
    ContactParams,
    CostParams,
    Course,
    EngagementParams,
    IncentiveScheme,
    LearningParams,
    NetworkParams,
    OpeningParams,
    PopulationParams,
    ProgrammeParams,
    Scenario,
    TimeParams,
)

MAX_EXAMPLES = 120
STEPS_MAX = 20
SCHOOLS_MAX = 200

# caps on integer parameters that would otherwise make a run slow, not more interesting
CAPS = {
    "n_schools": SCHOOLS_MAX,
    "steps": STEPS_MAX,
    "regions_per_country": 12,
    "mentors_per_region": 4,
    "mentees_per_mentor": 12,
    "mentor_limit": 12,
    "virtual_mentees_per_mentor": 12,
    "virtual_mentors_per_country": 6,
    "graph_degree": 12,
    "graph_m": 6,
    "proximity_max_ties": 8,
    "min_adopting_neighbours": 6,
    "dropout_weeks": 12,
    "start_week": 2 * STEPS_MAX,
    "end_week": 2 * STEPS_MAX,
    "duration_weeks": 3 * STEPS_MAX,
    "initial_count": SCHOOLS_MAX,
}
SKIP = {
    "countries",
    "country_weights",
    "country_capacity_shift",
    "file",
    "initial_ids",
    "capacity_sd",
    "disadvantaged_sd",
    "name",
}


# the registries whose names a field accepts (the schema's ``choices`` extra)
REGISTRIES = {
    "structures": STRUCTURES,
    "adoption rules": ADOPTION_RULES,
    "incentive types": INCENTIVE_TYPES,
}


def bounds(info: Any) -> dict[str, float]:
    out = {}
    for meta in info.metadata:
        for attr in ("ge", "gt", "le", "lt"):
            value = getattr(meta, attr, None)
            if value is not None:
                out[attr] = value
    return out


def field_strategy(name: str, info: Any) -> st.SearchStrategy | None:
    """Values within the schema's bounds for one field (None: keep the default)."""
    annotation = info.annotation
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    registry = REGISTRIES.get(extra.get("choices"))
    if registry is not None:
        return st.sampled_from(registry.names())
    if get_origin(annotation) is Literal:
        return st.sampled_from(get_args(annotation))
    if annotation is bool:
        return st.booleans()
    if annotation == bool | None:
        return st.sampled_from([None, True, False])
    b = bounds(info)
    if annotation is int:
        lo = int(b.get("ge", b.get("gt", -1) + 1))
        hi = int(min(b.get("le", b.get("lt", 10**6) - 1), CAPS.get(name, 10**6)))
        return st.integers(lo, max(lo, hi))
    if annotation in (float, float | None):
        lo, hi = b.get("ge", b.get("gt")), b.get("le", b.get("lt"))
        floats = st.floats(
            min_value=lo,
            max_value=hi,
            exclude_min="gt" in b,
            exclude_max="lt" in b,
            allow_nan=False,
            allow_infinity=False,
            allow_subnormal=False,
        )
        return floats if annotation is float else st.one_of(st.none(), floats)
    return None


def section_strategy(model: type[BaseModel]) -> st.SearchStrategy[dict]:
    """A dict of some of the section's fields, each drawn within bounds (others: default)."""
    fields = {}
    for name, info in model.model_fields.items():
        if name in SKIP:
            continue
        strategy = field_strategy(name, info)
        if strategy is not None:
            fields[name] = strategy
    return st.fixed_dictionaries({}, optional=fields)


def beta_sd(draw, means: list[float]) -> float:
    """An sd for which a Beta distribution with each mean exists: sd^2 < m (1 - m)."""
    limit = min(0.5, *(math.sqrt(m * (1 - m)) for m in means)) * 0.999
    return limit * draw(st.floats(min_value=1e-6, max_value=0.5))


@st.composite
def valid_scenarios(draw) -> dict:
    data: dict[str, Any] = {"name": "fuzz"}
    sections = {
        "time": TimeParams,
        "contacts": ContactParams,
        "learning": LearningParams,
        "adoption": AdoptionParams,
        "engagement": EngagementParams,
        "opening": OpeningParams,
        "costs": CostParams,
        "programme": ProgrammeParams,
    }
    for key, model in sections.items():
        data[key] = draw(section_strategy(model))
    pop = draw(section_strategy(PopulationParams))
    n = pop.get("n_schools", 120)
    countries = draw(
        st.lists(
            st.sampled_from(["IT", "PT", "HR", "CZ", "HU", "BE-VLG"]),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    pop["countries"] = countries
    if draw(st.booleans()):
        pop["country_weights"] = draw(
            st.lists(
                st.floats(0.0, 100.0), min_size=len(countries), max_size=len(countries)
            ).filter(lambda w: sum(w) > 0)
        )
    pop["country_capacity_shift"] = draw(
        st.dictionaries(st.sampled_from(countries), st.floats(-0.5, 0.5), max_size=len(countries))
    )
    means = [pop.get(f"capacity_mean_{r}", d) for r, d in (("advanced", 0.75), ("other", 0.4))]
    pop["capacity_sd"] = beta_sd(draw, means)
    pop["disadvantaged_sd"] = beta_sd(draw, [pop.get("disadvantaged_mean", 0.2)])
    data["population"] = pop
    net = draw(section_strategy(NetworkParams))
    net["structure"] = draw(st.sampled_from([s for s in structure_names() if s != "file"]))
    if STRUCTURES.get(net["structure"]).family == "policy" and draw(st.booleans()):
        # one policy structure per country for some of the countries (issue 16)
        net["structure_by_country"] = draw(
            st.dictionaries(
                st.sampled_from(countries),
                st.sampled_from(structure_names("policy")),
                max_size=len(countries),
            )
        )
    data["network"] = net
    adoption = data["adoption"]
    if adoption.get("initial") == "count":
        adoption["initial_count"] = draw(st.integers(0, n))
    if adoption.get("initial") == "ids":
        adoption["initial_ids"] = draw(st.lists(st.integers(0, n - 1), max_size=10))
    data["training"] = {
        "courses": draw(
            st.lists(section_strategy(Course).map(lambda c: {"name": "course", **c}), max_size=2)
        )
    }
    data["incentives"] = [
        {**scheme, "half_effect_amount": scheme.get("half_effect_amount") or 100.0}
        if scheme.get("per") == "teacher"
        else scheme
        for scheme in draw(
            st.lists(
                section_strategy(IncentiveScheme).map(lambda s: {"type": "funding", **s}),
                max_size=3,
            )
        )
    ]
    prog = data["programme"]
    start = prog.get("start_week", 0)
    if prog.get("end_week", 52) <= start:
        prog["end_week"] = start + draw(st.integers(1, 2 * STEPS_MAX))
    end = prog.get("end_week", 52)
    # courses and opening up belong to the programme: they start while it runs
    for course in data["training"]["courses"]:
        course["start_week"] = start + course.get("start_week", 0) % (end - start)
    opening = data["opening"]
    if opening.get("enabled") and opening.get("start_week", 52) >= end:
        opening["start_week"] = start
    return data


def check_state(model: MentoringModel, previous_cost: np.ndarray) -> np.ndarray:
    st_ = model.state
    for name in ("capacity", "baseline", "engagement"):
        values = getattr(st_, name)
        assert np.all(np.isfinite(values)), name
        assert np.all((values >= 0) & (values <= 1)), (name, values.min(), values.max())
    assert np.all(np.isfinite(st_.threshold))
    assert np.all(np.isfinite(st_.cost)) and np.all(st_.cost >= 0)
    assert np.all(st_.cost >= previous_cost), "a cost went down"
    assert np.all(np.isfinite(st_.staff_hours)) and np.all(st_.staff_hours >= 0)
    assert st_.adopted.dtype == bool and st_.active.dtype == bool
    return st_.cost.copy()


SHARES = [
    "adoption_share",
    "adoption_share_members",
    "adoption_share_outside",
    "mean_capacity",
    "capacity_gini",
]
COSTS = [m for m in STEP_METRICS if m.startswith("cost_")]
CATEGORIES = [m for m in COSTS if m not in ("cost_cash", "cost_total")]

COUNTS = {"run": 0, "impossible_network": 0}


@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=valid_scenarios())
def check_any_valid_scenario(data: dict) -> None:
    sc = Scenario.model_validate(data)  # the strategy draws only valid scenarios
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            res = simulate(sc, replications=2, seed=3)
        except NetworkError as err:
            assert "\n" not in str(err)
            COUNTS["impossible_network"] += 1
            return
        COUNTS["run"] += 1
        ts, summary = res.timeseries, res.summary
        numeric = ts.select_dtypes("number")
        assert np.all(np.isfinite(numeric.to_numpy(float))), "NaN/inf in the time series"
        assert np.all(np.isfinite(summary.select_dtypes("number").to_numpy(float))), (
            "NaN/inf in the summary"
        )
        assert ((ts[SHARES] >= 0) & (ts[SHARES] <= 1)).all().all(), ts[SHARES].describe()
        assert (ts[COSTS] >= 0).all().all()
        for _, one in ts.groupby("replicate"):
            assert (one[COSTS].diff().iloc[1:] >= 0).all().all(), "cumulative cost went down"
        parts = ts[CATEGORIES].sum(axis=1)
        np.testing.assert_allclose(ts["cost_total"], parts, rtol=1e-9, atol=1e-9)
        cash = ts[[c for c in CATEGORIES if c != "cost_staff_time"]].sum(axis=1)
        np.testing.assert_allclose(ts["cost_cash"], cash, rtol=1e-9, atol=1e-9)
        assert (ts["equity_gap"].abs() <= 1).all()
        assert (summary["total_cost"] >= 0).all()
        assert (summary["cost_per_adopting_school"] >= 0).all()
        # the school state, week by week
        model = MentoringModel(sc, rng=3)
        cost = check_state(model, np.zeros_like(model.state.cost))
        for _ in range(sc.time.steps):
            model.step()
            cost = check_state(model, cost)


def test_any_valid_scenario_gives_finite_outputs_in_range():
    COUNTS.update(run=0, impossible_network=0)
    check_any_valid_scenario()
    total = COUNTS["run"] + COUNTS["impossible_network"]
    print(
        f"NUMERICAL SAFETY: {total} valid scenarios, {COUNTS['run']} run, "
        f"{COUNTS['impossible_network']} refused as impossible networks"
    )
    assert COUNTS["run"] >= total // 2  # most valid scenarios are possible


def test_research_graph_names_are_all_drawn():
    # the strategy covers every structure but "file" (tests/networks holds the file ones)
    assert set(structure_names("research")) - {"file"} <= set(structure_names())


@pytest.mark.parametrize("sd", [1e-300, 1.86e-155, 1e-9])
def test_a_tiny_sd_gives_the_mean_not_nan(sd):
    # regression: an sd below ~1e-154 (valid: the schema only asks sd > 0) squared to 0 and
    # made every Beta draw NaN; population.beta_params now floors the sd at 1e-6
    sc = Scenario.model_validate(
        {
            "time": {"steps": 2},
            "population": {"n_schools": 20, "capacity_sd": sd, "disadvantaged_sd": sd},
            "network": {"structure": "none"},
        }
    )
    model = MentoringModel(sc, rng=0)
    assert np.allclose(model.state.capacity, 0.40, atol=1e-4)
    assert np.allclose(model.population.disadvantaged, 0.2, atol=1e-4)
    ts = simulate(sc, replications=1).timeseries
    assert np.all(np.isfinite(ts.select_dtypes("number").to_numpy(float)))


@pytest.mark.parametrize("p", [1e-300, 7.25e-30, 1e-17])
def test_a_tiny_edge_probability_gives_an_empty_graph_not_a_crash(p):
    # regression: networkx's fast_gnp_random_graph divides by log(1 - p), which is 0 when
    # 1 - p rounds to 1 (p < 2**-53): a valid scenario crashed with ZeroDivisionError
    sc = Scenario.model_validate(
        {
            "time": {"steps": 2},
            "population": {"n_schools": 50},
            "network": {"structure": "erdos_renyi", "graph_p": p, "proximity": False},
        }
    )
    model = MentoringModel(sc, rng=0)
    assert model.tie_src.size == 0
