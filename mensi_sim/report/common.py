"""What the report's sections share: table sizes, key parameters, small helpers.

Outcome labels and number formats come from ``mensi_sim.outcomes``; numbers are
written by ``mensi_sim.formats.fmt``.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from mensi_sim.errors import ResultsError
from mensi_sim.metrics import SUMMARY_OUTCOMES
from mensi_sim.outcomes import format_of
from mensi_sim.results import Results

MAX_ROWS = 30  # scenarios listed in a table before "... and N more"

# (summary column, label with unit, format) of the headline outcomes
HEADLINE = tuple((o, format_of(o).report, format_of(o).kind) for o in SUMMARY_OUTCOMES)
DIFFERENCE_SUFFIX = "_difference"  # <outcome>_difference: a column of the comparison table


def differences(table: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(outcome, label, format of a difference) of each outcome the comparison table holds."""
    names = [c.removesuffix(DIFFERENCE_SUFFIX) for c in table.columns]
    outcomes = [n for n, c in zip(names, table.columns, strict=True) if n != c]
    return [(o, format_of(o).change, format_of(o).change_kind) for o in outcomes]


KEY_PARAMETERS = (
    "time.steps",
    "time.term_weeks",
    "population.n_schools",
    "population.countries",
    "network.structure",
    "network.mentors_per_region",
    "network.mentees_per_mentor",
    "contacts.rate_in_person",
    "contacts.rate_online",
    "contacts.strength_in_person",
    "contacts.strength_online",
    "learning.rate",
    "learning.gamma",
    "adoption.rule",
    "adoption.p",
    "adoption.q",
    "adoption.theta",
    "adoption.initial",
    "adoption.initial_share",
    "engagement.target_voluntary",
    "engagement.target_compulsory",
    "costs.staff_hour_rate",
    "costs.travel_per_km",
    "costs.platform_per_school_year",
    "costs.coordination_top_down",
    "costs.coordination_bottom_up",
    "costs.coordination_virtual",
)


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested scenario dump -> dotted names (lists of sections are kept whole)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and name != "population.country_capacity_shift":
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def value_text(value: Any) -> str:
    from mensi_sim.scenario.reference import format_value

    return format_value(value).replace('"', "")


def n_schools(results: Results) -> int | None:
    runs = results.runs
    if "n_schools" in runs.columns and len(runs):
        return int(runs["n_schools"].max())
    params = results.manifest.get("parameters") or {}
    return (params.get("population") or {}).get("n_schools")


def base_scenario(results: Results) -> tuple[Any, str]:
    """The scenario whose assumptions the report lists (a sweep: its base), and a note."""
    try:
        return results.scenario, ""
    except ResultsError as exc:
        return None, str(exc)


def runs_by_scenario(results: Results) -> pd.DataFrame:
    runs = results.runs
    if runs.empty or "status" not in runs.columns:
        return pd.DataFrame(columns=["ok", "failed"])
    ok = runs["status"].eq("ok")
    return pd.DataFrame(
        {
            "ok": ok.groupby(runs["scenario"].astype(str)).sum(),
            "failed": (~ok).groupby(runs["scenario"].astype(str)).sum(),
        }
    )


def replicates_text(results: Results) -> str:
    """Replicates that ran per scenario (a range when they differ, e.g. adaptive)."""
    runs = results.runs
    if runs.empty or "scenario" not in runs.columns:
        return str(results.manifest.get("replications", "n/a"))
    counts = runs.groupby(runs["scenario"].astype(str))["replicate"].nunique()
    low, high = int(counts.min()), int(counts.max())
    return f"{low}" if low == high else f"{low}-{high}"


def sentence(text: str) -> str:
    """Text ending with a full stop (empty stays empty)."""
    text = text.strip()
    return text if not text or text.endswith((".", "!", "?")) else f"{text}."


def more(total: int) -> str:
    if total <= MAX_ROWS:
        return ""
    return f'<p class="muted">... and {total - MAX_ROWS} more (see summary.parquet).</p>'


def ci_row(summary: pd.DataFrame, column: str) -> tuple[float, float, float]:
    from mensi_sim.stats import mean_ci

    if column not in summary.columns or summary.empty:
        return (math.nan,) * 3
    return mean_ci(summary[column].to_numpy(dtype=float))
