"""Outcomes and comparisons by group: by country, by region, by disadvantage band.

Pure functions of a ``group_summary`` table (``mensi_sim.groups``: one row per scenario,
replicate, grouping and group, with the summary's outcome columns). A group's rows are a
summary of their own, so every pooled analysis applies to them unchanged: the paired
comparison of a country is ``comparison_table`` of that country's rows, with the same
replicates paired (common random numbers: replicate r of every scenario has the same
schools and draws).

    from mensi_sim.analysis.groups import group_comparison
    group_comparison(res.group_summary, baseline="none", by="country")

The cross-country reading (``country_exchange``) asks of each country: what did the
scenario achieve there against the baseline, at what cost, and how sure is it? Its
verdicts never say more than the paired intervals do.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from mensi_sim.analysis.comparison import comparison_table
from mensi_sim.analysis.paired import COMPARE_OUTCOMES
from mensi_sim.groups import GROUPINGS
from mensi_sim.stats import describe_outcomes


def _check_by(table: pd.DataFrame, by: str) -> pd.DataFrame:
    if by not in GROUPINGS:
        raise ValueError(f"by: {by!r} is not a grouping (allowed: {', '.join(GROUPINGS)})")
    if table.empty or "by" not in table.columns:
        raise ValueError("no outcomes by group in these results (made before they existed?)")
    return table[table["by"] == by]


def group_order(table: pd.DataFrame) -> list[str]:
    """The groups of a grouping's rows in order of first appearance."""
    return list(dict.fromkeys(table["group"].astype(str)))


def group_headline(
    table: pd.DataFrame,
    by: str = "country",
    outcomes: Sequence[str] = COMPARE_OUTCOMES,
    level: float = 0.95,
) -> pd.DataFrame:
    """Mean and Student-t interval of each outcome per scenario and group.

    Returns:
        One row per (group, scenario, outcome): ``by``, ``group``, ``country``,
        ``scenario``, ``outcome``, ``mean``, ``ci_low``, ``ci_high``, ``n`` (replicates).

    Raises:
        ValueError: ``by`` is not a grouping, or the table has no group rows.
    """
    rows = _check_by(table, by)
    frames = []
    for group, part in rows.groupby("group", sort=False):
        described = describe_outcomes(part, tuple(outcomes), level=level)
        described.insert(0, "country", str(part["country"].iloc[0]))
        described.insert(0, "group", str(group))
        described.insert(0, "by", by)
        frames.append(described)
    return pd.concat(frames, ignore_index=True)


def group_comparison(
    table: pd.DataFrame, baseline: str, by: str = "country", level: float = 0.95
) -> pd.DataFrame:
    """``analysis.comparison_table`` of every group: paired differences against the
    baseline and cost-effectiveness, one row per (group, scenario).

    Columns ``by``, ``group``, ``country`` and then those of ``comparison_table`` (the
    costs and adopters are the group's own: costs booked to its schools, its adopting
    schools).

    Raises:
        ValueError: ``by`` is not a grouping, or the table has no group rows.
        KeyError: ``baseline`` is not a scenario of the table.
    """
    rows = _check_by(table, by)
    frames = []
    for group, part in rows.groupby("group", sort=False):
        wide = comparison_table(part, baseline, level=level)
        wide.insert(0, "country", str(part["country"].iloc[0]))
        wide.insert(0, "group", str(group))
        wide.insert(0, "by", by)
        frames.append(wide)
    return pd.concat(frames, ignore_index=True)


def verdict(difference: float, low: float, high: float) -> str:
    """What a paired interval lets one say: ``"higher"``, ``"lower"`` (the interval
    excludes 0 on that side), ``"no detectable difference"`` (it includes 0) or
    ``"unknown"`` (too few replicates for an interval)."""
    if any(math.isnan(v) for v in (difference, low, high)):
        return "unknown"
    if low > 0:
        return "higher"
    if high < 0:
        return "lower"
    return "no detectable difference"


EXCHANGE_OUTCOMES = ("final_adoption_share", "capacity_gain", "total_cash", "total_cost")
#: the columns of ``comparison_table`` that ``country_exchange`` keeps for the ICER: the
#: additional adopters, the ratio with Fieller's set, and the dominance its reading needs
#: (``cost_effectiveness.icer_text``)
ICER_COLUMNS = (
    "delta_effect",
    "delta_effect_ci_low",
    "delta_effect_ci_high",
    "icer",
    "icer_ci_low",
    "icer_ci_high",
    "icer_set",
    "icer_excluded_low",
    "icer_excluded_high",
    "icer_note",
    "dominance",
    "dominance_significant",
)


def country_exchange(
    table: pd.DataFrame,
    scenario: str,
    baseline: str,
    structures: dict[str, str] | None = None,
    level: float = 0.95,
    comparison: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """What ``scenario`` achieved in each country against the baseline, at what cost,
    how sure: one row per country.

    Columns: ``country``, ``structure`` (from ``structures``, else ""), ``n_schools``,
    ``n_pairs``; for each of ``EXCHANGE_OUTCOMES`` the scenario's mean, the paired
    difference with its interval and its ``verdict``; the additional adopting schools
    (``delta_effect`` with interval), the ICER (extra EUR of total cost per additional
    adopting school with Fieller's set, ``icer_note``, and the ``dominance`` against the
    baseline that says how to read it: ``ICER_COLUMNS``) and the cash per participating
    school and programme year. Every cost is the country's own (its schools' staff
    hours at its hour rate, its mentors' coordination). ``comparison``: the
    ``group_comparison`` by country against ``baseline``, when already computed.

    Raises:
        ValueError: The table has no country rows.
        KeyError: ``scenario`` or ``baseline`` is not a scenario of the table.
    """
    wide = (
        comparison
        if comparison is not None
        else group_comparison(table, baseline, by="country", level=level)
    )
    rows = wide[wide["scenario"] == scenario]
    if rows.empty:
        raise KeyError(f"no scenario {scenario!r} in the outcomes by country")
    countries = _check_by(table, "country")
    per_school = countries[countries["scenario"] == scenario].groupby("group", sort=False)
    out = []
    for _, r in rows.iterrows():
        country = str(r["group"])
        part = per_school.get_group(country)
        entry: dict[str, object] = {
            "country": country,
            "structure": (structures or {}).get(country, ""),
            "n_schools": int(part["n_schools"].iloc[0]),
            "n_pairs": int(r["n_pairs"]),
        }
        for outcome in EXCHANGE_OUTCOMES:
            entry[f"{outcome}_mean"] = float(r[f"{outcome}_mean"])
            for col in ("difference", "ci_low", "ci_high"):
                entry[f"{outcome}_{col}"] = float(r[f"{outcome}_{col}"])
            entry[f"{outcome}_verdict"] = verdict(
                entry[f"{outcome}_difference"], entry[f"{outcome}_ci_low"],
                entry[f"{outcome}_ci_high"],
            )  # fmt: skip
        for col in ICER_COLUMNS:
            entry[col] = r[col]
        entry["cash_per_participant_year"] = float(part["cash_per_participant_year"].mean())
        out.append(entry)
    return pd.DataFrame(out)
