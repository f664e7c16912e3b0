"""What real programmes cost per participating school and programme year, and the runs
outside it.

The documented range (docs/ASSUMPTIONS.md 8.5, its anchors in docs/sources/anchors.md):
cash EUR 200-2,500, staff time 20-150 hours, total (cash plus staff time valued) EUR
1,000-6,000 per participating school and programme year. The shipped top-down pilot is
held inside it (tests/test_fair_model.py); a scenario or an incentive scheme may leave it,
and a ministry should hear so next to the number, not find it out later.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

#: outcome -> (low, high, unit) per participating school and programme year
DOCUMENTED_RANGE: dict[str, tuple[float, float, str]] = {
    "cash_per_participant_year": (200.0, 2500.0, "EUR"),
    "staff_hours_per_participant_year": (20.0, 150.0, "hours"),
    "cost_per_participant_year": (1000.0, 6000.0, "EUR"),
}

_WHAT = {
    "cash_per_participant_year": "cash",
    "staff_hours_per_participant_year": "staff time",
    "cost_per_participant_year": "total cost (cash + staff time)",
}


def _amount(value: float, unit: str) -> str:
    return f"€{value:,.0f}" if unit == "EUR" else f"{value:,.0f} hours"


def _range(low: float, high: float, unit: str) -> str:
    return f"€{low:,.0f}-{high:,.0f}" if unit == "EUR" else f"{low:,.0f}-{high:,.0f} hours"


def outside_documented_range(means: Mapping[str, float], scenario: str | None = None) -> list[str]:
    """One line per outcome of ``means`` (means over replicates) outside the documented
    range, e.g. ``note: hybrid/funding: cash per participating school and programme year
    €4,559 is above what real programmes spend (€200-2,500, docs/ASSUMPTIONS.md 8.5)``.

    A run without participants (no programme: a value of 0 or NaN) has nothing to note.
    """
    notes = []
    who = f"{scenario}: " if scenario else ""
    for outcome, (low, high, unit) in DOCUMENTED_RANGE.items():
        value = means.get(outcome)
        if value is None or not math.isfinite(value) or value == 0:
            continue
        if low <= value <= high:
            continue
        side = "above" if value > high else "below"
        notes.append(
            f"note: {who}{_WHAT[outcome]} per participating school and programme year "
            f"{_amount(value, unit)} is {side} the range real programmes show "
            f"({_range(low, high, unit)}, docs/ASSUMPTIONS.md 8.5)"
        )
    return notes


def notes_by_scenario(rows: Iterable[tuple[str, Mapping[str, float]]]) -> list[str]:
    """``outside_documented_range`` for each (scenario, means) in order."""
    return [note for name, means in rows for note in outside_documented_range(means, name)]
