"""The parameter reference: every field of the scenario schema as rows and as Markdown tables.

``parameter_rows()`` walks :class:`~mensi_sim.scenario.schema.Scenario` recursively and
gives one row per parameter (dotted name, default, unit, allowed range, description,
source), read from the fields themselves, so the reference cannot drift from the schema.
``parameter_table_markdown()`` renders the rows as one Markdown table per section; docs/ODD.md
holds its output between ``<!-- parameters:start -->`` and ``<!-- parameters:end -->``
(tests/test_docs.py checks that it is current). Regenerate with::

    python -m mensi_sim.cli.reference > /tmp/parameters.md   (or scripts/update-odd-parameters)
"""

from __future__ import annotations

import inspect
import math
import types
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from mensi_sim.registry import ADOPTION_RULES, INCENTIVE_TYPES, STRUCTURES
from mensi_sim.scenario.fields import allowed_range
from mensi_sim.scenario.schema import Scenario

#: the registries whose names a field accepts (its ``choices`` extra)
_REGISTRIES = {
    "structures": STRUCTURES,
    "adoption rules": ADOPTION_RULES,
    "incentive types": INCENTIVE_TYPES,
}

#: section name of the top-level scalar fields of a Scenario (name, description, ...)
TOP_SECTION = "scenario"
#: columns of a row, in table order (``section`` is the heading, not a column)
COLUMNS = ("name", "default", "unit", "range", "description", "source")
_HEADERS = ("parameter", "default", "unit", "allowed range", "description", "source")


def _model_class(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model class of an annotation, or None if it is not one."""
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _list_item_model(annotation: Any) -> type[BaseModel] | None:
    """For ``list[SomeModel]``, SomeModel; otherwise None."""
    if get_origin(annotation) is list:
        args = get_args(annotation)
        if len(args) == 1:
            return _model_class(args[0])
    return None


def _union_members(annotation: Any) -> tuple[Any, ...]:
    """The members of ``A | B`` / ``Optional[A]``; ``(annotation,)`` for anything else."""
    if get_origin(annotation) in (Union, types.UnionType):
        return get_args(annotation)
    return (annotation,)


def format_value(value: Any) -> str:
    """A default written compactly, TOML-like.

    Floats keep up to 4 significant digits (``0.03 / 52`` -> ``0.0005769``); whole floats
    print without a decimal point (``5000.0`` -> ``5000``); booleans ``true``/``false``;
    strings quoted; lists and dicts element by element; None as ``None``.
    """
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.4g}"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {format_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def _default_text(info: FieldInfo) -> str:
    """The default of a field as text; ``required`` when the field has none."""
    if info.default_factory is not None:
        return format_value(info.default_factory())
    if info.default is PydanticUndefined:
        return "required"
    return format_value(info.default)


def _range_text(info: FieldInfo) -> str:
    """Allowed values: the numeric bounds, the choices of a Literal, or true/false."""
    members = _union_members(info.annotation)
    optional = type(None) in members
    concrete = [m for m in members if m is not type(None)]
    registry = _REGISTRIES.get(_extra(info, "choices"))
    if registry is not None:
        text = ", ".join(format_value(choice) for choice in registry.names())
    elif len(concrete) == 1 and get_origin(concrete[0]) is Literal:
        text = ", ".join(format_value(choice) for choice in get_args(concrete[0]))
    elif concrete == [bool]:
        text = "true, false"
    else:
        text = allowed_range(info)
    if optional and text:
        text += ", or None"
    return text


def _extra(info: FieldInfo, key: str) -> str:
    extra = info.json_schema_extra
    if isinstance(extra, dict):
        value = extra.get(key, "")
        return "" if value is None else str(value)
    return ""


def _walk(model: type[BaseModel], prefix: str, section: str) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for field_name, info in model.model_fields.items():
        dotted = f"{prefix}{field_name}"
        sub = _model_class(info.annotation)
        if sub is not None:
            rows.extend(_walk(sub, f"{dotted}.", dotted))
            continue
        item = _list_item_model(info.annotation)
        if item is not None:
            rows.extend(_walk(item, f"{dotted}[].", f"{dotted}[]"))
            continue
        rows.append(
            {
                "section": section,
                "name": dotted,
                "default": _default_text(info),
                "unit": _extra(info, "unit"),
                "range": _range_text(info),
                "description": info.description or "",
                "source": _extra(info, "source"),
            }
        )
    return rows


def parameter_rows() -> list[dict[str, str]]:
    """One row per parameter of the Scenario schema, in schema order.

    Each row has the keys ``section`` (``scenario`` for the top-level fields, then
    ``time``, ``population``, ..., ``training.courses[]`` for Course, ``incentives[]``
    for IncentiveScheme), ``name`` (dotted, e.g. ``adoption.p`` or
    ``training.courses[].completion_prob``), ``default`` (compact text; ``required``
    when there is none), ``unit`` (may be empty), ``range`` (numeric bounds, the
    choices of a Literal, ``true, false`` for switches, or empty), ``description``
    and ``source`` (empty when the field declares none).
    """
    return _walk(Scenario, "", TOP_SECTION)


def section_summaries() -> dict[str, str]:
    """First docstring line of the model class behind each section, by section name."""
    out: dict[str, str] = {TOP_SECTION: _first_line(Scenario)}

    def visit(model: type[BaseModel], prefix: str) -> None:
        for field_name, info in model.model_fields.items():
            dotted = f"{prefix}{field_name}"
            sub = _model_class(info.annotation)
            if sub is not None:
                out[dotted] = _first_line(sub)
                visit(sub, f"{dotted}.")
                continue
            item = _list_item_model(info.annotation)
            if item is not None:
                out[f"{dotted}[]"] = _first_line(item)
                visit(item, f"{dotted}[].")

    visit(Scenario, "")
    return out


def _first_line(model: type[BaseModel]) -> str:
    doc = inspect.getdoc(model) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip()


def parameter_table_markdown() -> str:
    """All parameters as Markdown: a ``#### <section>`` heading and one table per section.

    Deterministic (schema order); ends with a single newline.
    """
    rows = parameter_rows()
    summaries = section_summaries()
    sections: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        sections.setdefault(row["section"], []).append(row)
    parts: list[str] = []
    for section, section_rows in sections.items():
        lines = [f"#### {section}", ""]
        if summaries.get(section):
            lines += [_cell(summaries[section]), ""]
        lines.append("| " + " | ".join(_HEADERS) + " |")
        lines.append("|" + "|".join("---" for _ in _HEADERS) + "|")
        for row in section_rows:
            default = row["default"]
            cells = [
                f"`{row['name']}`",
                f"`{default}`" if default != "required" else "required",
                row["unit"],
                row["range"],
                row["description"],
                row["source"],
            ]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"
