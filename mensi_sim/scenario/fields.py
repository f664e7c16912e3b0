"""`param`: one way to declare a scenario parameter with its default, unit, range and source.

Every number of the model is declared once, in the schema, with this helper, so that
the documentation, the validation message and the default cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field


def param(
    default: Any,
    description: str,
    *,
    unit: str = "",
    ge: float | None = None,
    le: float | None = None,
    gt: float | None = None,
    lt: float | None = None,
    source: str = "assumption",
) -> Any:
    """A pydantic Field carrying unit and source in its JSON-schema extras.

    Args:
        default: The default value (used when the scenario file omits the field).
        description: One line saying what the parameter is, in domain words.
        unit: Physical unit, e.g. ``"EUR"``, ``"per term week"``, ``"km"``; empty if dimensionless.
        ge, le, gt, lt: Bounds; validation rejects values outside them and names the range.
        source: Where the default comes from (a citation) or ``"assumption"``.
    """
    return Field(
        default,
        description=description,
        ge=ge,
        le=le,
        gt=gt,
        lt=lt,
        json_schema_extra={"unit": unit, "source": source},
    )


def allowed_range(field_info: Any) -> str:
    """Human-readable range of a pydantic FieldInfo, e.g. ``"0 <= value <= 1"``; '' if unbounded."""
    lo = hi = None
    lo_op = hi_op = ""
    for m in getattr(field_info, "metadata", []):
        for attr, op in (("ge", "<="), ("gt", "<")):
            v = getattr(m, attr, None)
            if v is not None:
                lo, lo_op = v, op
        for attr, op in (("le", "<="), ("lt", "<")):
            v = getattr(m, attr, None)
            if v is not None:
                hi, hi_op = v, op
    if lo is None and hi is None:
        return ""
    left = f"{lo:g} {lo_op} " if lo is not None else ""
    right = f" {hi_op} {hi:g}" if hi is not None else ""
    return f"{left}value{right}"
