"""docs/ODD.md must stay true to the code: parameter table and quoted rule formulas."""

from __future__ import annotations

import inspect
import re
import types
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import pytest
from pydantic import BaseModel

from mensi_sim.dynamics import (
    adoption,
    contacts,
    costs,
    engagement,
    incentives,
    learning,
    training,
)
from mensi_sim.model import MentoringModel
from mensi_sim.scenario.reference import (
    format_value,
    parameter_rows,
    parameter_table_markdown,
)
from mensi_sim.scenario.schema import Scenario

ODD = Path(__file__).resolve().parents[1] / "docs" / "ODD.md"
START, END = "<!-- parameters:start -->", "<!-- parameters:end -->"
REGENERATE = (
    "docs/ODD.md's parameter table is out of date. Regenerate it with\n"
    "    python -m mensi_sim.cli.reference > /tmp/parameters.md\n"
    f"and paste the file between the lines {START} and {END} in docs/ODD.md."
)


def odd_text() -> str:
    return ODD.read_text(encoding="utf-8")


def table_in_odd() -> str:
    text = odd_text()
    assert text.count(START) == 1 and text.count(END) == 1, "ODD.md needs both markers once"
    return text[text.index(START) + len(START) : text.index(END)]


def squash(text: str) -> str:
    """Whitespace-normalised text, so line wrapping does not matter."""
    return " ".join(text.split())


def _model(annotation: Any) -> type[BaseModel] | None:
    return annotation if inspect.isclass(annotation) and issubclass(annotation, BaseModel) else None


def schema_fields(model: type[BaseModel] = Scenario, prefix: str = "") -> dict[str, Any]:
    """Every leaf field of the schema by dotted name (independent of reference.py's walk)."""
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        dotted = f"{prefix}{name}"
        if (sub := _model(info.annotation)) is not None:
            out.update(schema_fields(sub, f"{dotted}."))
        elif (
            get_origin(info.annotation) is list
            and (item := _model(get_args(info.annotation)[0])) is not None
        ):
            out.update(schema_fields(item, f"{dotted}[]."))
        else:
            out[dotted] = info
    return out


def _is_number(annotation: Any) -> bool:
    members = (
        get_args(annotation)
        if get_origin(annotation) in (Union, types.UnionType)
        else (annotation,)
    )
    return any(m in (int, float) for m in members)


# (a) ------------------------------------------------------------------------------------


def test_parameter_table_in_odd_is_current():
    assert table_in_odd().strip() == parameter_table_markdown().strip(), REGENERATE


def test_parameter_table_is_deterministic_and_sectioned():
    first = parameter_table_markdown()
    assert first == parameter_table_markdown()
    headings = re.findall(r"^#### (\S+)$", first, flags=re.MULTILINE)
    assert headings == [
        "scenario",
        "time",
        "population",
        "network",
        "network.plan",
        "contacts",
        "learning",
        "training.courses[]",
        "adoption",
        "engagement",
        "opening",
        "programme",
        "costs",
        "incentives[]",
    ]


def test_defaults_are_compact():
    assert format_value(0.03 / 52) == "0.0005769"
    assert format_value(74 / 93) == "0.7957"
    assert format_value(5000.0) == "5000"
    assert format_value(True) == "true"
    rows = {r["name"]: r for r in parameter_rows()}
    assert rows["adoption.p"]["default"] == "0.0005769"
    assert rows["training.courses[].completion_prob"]["default"] == "0.7957"
    assert rows["adoption.rule"]["range"] == '"contact", "bass", "threshold"'
    assert rows["learning.rate"]["range"] == "0 <= value <= 1"


# (b) ------------------------------------------------------------------------------------


def test_every_schema_field_is_in_the_table():
    fields = schema_fields()
    names = [r["name"] for r in parameter_rows()]
    assert sorted(names) == sorted(fields), "parameter_rows() and the schema disagree"
    assert len(names) == len(set(names))
    table = table_in_odd()
    missing = [name for name in fields if f"| `{name}` |" not in table]
    assert not missing, f"not in docs/ODD.md's table: {missing}. {REGENERATE}"


# (c) ------------------------------------------------------------------------------------


@pytest.mark.parametrize("row", parameter_rows(), ids=lambda r: r["name"])
def test_every_field_is_documented(row):
    assert row["description"].strip(), f"{row['name']}: empty description"
    assert isinstance(row["unit"], str), f"{row['name']}: no unit entry"
    assert isinstance(row["source"], str), f"{row['name']}: no source entry"
    assert row["default"], f"{row['name']}: no default entry"


def test_numeric_parameters_declare_unit_and_source():
    for name, info in schema_fields().items():
        if not _is_number(info.annotation):
            continue
        extra = info.json_schema_extra
        assert isinstance(extra, dict) and "unit" in extra, f"{name}: no unit declared"
        assert str(extra.get("source", "")).strip(), f"{name}: no source declared"
    rows = {r["name"]: r for r in parameter_rows()}
    assert rows["adoption.p"]["source"].startswith("Sultan, Farley & Lehmann 1990")
    assert rows["costs.travel_per_km"]["unit"] == "EUR per km"


# (d) ------------------------------------------------------------------------------------

FORMULAS = [
    (
        learning.learning_change,
        "gain_j = rate * strength * e_i * e_j * absorb_j * reach_j * (c_i - c_j)+ / dilution",
    ),
    (learning.learning_change, "reciprocity * gain_j * (1 - c_i)"),
    (learning.learning_change, "drift * (baseline - c)"),
    (learning.staff_reach, "reach_j = min(1, delegates_j * teachers_per_delegate / teachers_j)"),
    (
        MentoringModel,
        "lambda * strength * e_i * e_j * absorb_j * reach_j * (c_i - c_j)+ / dilution",
    ),
    (adoption.contact_probability, "1 - exp(-r(c) (p + exposure * E))"),
    (adoption.readiness, "r(c) = 1 / (1 + exp(-slope (c - midpoint)))"),
    (adoption.bass_rule, "min(1, c^theta (p + q m))"),
    (adoption.contact_rule, "r (1 - c)"),
    (engagement.engagement_target, "target = base + incentive effects - fatigue_per_mentee * load"),
    (engagement.relax_engagement, "e(t+1) = e + rate * (target - e)"),
    (training.completion_gain, "capacity_gain * (1 - c)"),
    (contacts.delegates, "clip(ceil(teachers / teachers_per_delegate), 1, max_delegates)"),
    (contacts.meeting_costs, "2 d * travel_per_km"),
    (contacts.meeting_costs, "2 d / travel_speed_kmh"),
    (incentives.dose_effect, "max_effect * A / (A + half_effect)"),
    (costs.platform_cost, "platform_per_school_year / 52"),
]


@pytest.mark.parametrize(
    ("owner", "formula"), FORMULAS, ids=[f"{o.__name__}:{f[:24]}" for o, f in FORMULAS]
)
def test_rule_formulas_match_the_code(owner, formula):
    doc = squash(owner.__doc__ or "")
    assert formula in doc, f"{owner.__qualname__}'s docstring no longer says {formula!r}"
    assert formula in squash(odd_text()), f"docs/ODD.md does not quote {formula!r}"
