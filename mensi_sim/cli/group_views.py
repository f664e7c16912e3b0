"""``compare --by country|region|disadvantage``: the comparison within each group.

One table: per group and scenario, the paired difference against the baseline of the
adoption share, the capacity gain, the cash and the total cost (each the group's own:
its schools' adoption and the costs booked to them), and the ICER of the group. Written
as ``group_comparison.parquet`` beside ``comparison.parquet``.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from mensi_sim.cli.common import at_the_horizon, fail, fmt, simple_table, user_errors
from mensi_sim.results import Results

GROUPINGS = ("country", "region", "disadvantage")
#: (outcome, number format of its difference) of the table
SHOWN = (
    ("final_adoption_share", "dpct"),
    ("capacity_gain", "signed3"),
    ("total_cash", "eur"),
    ("total_cost", "eur"),
)


def check_by(by: str | None) -> None:
    """A one-line error for an unknown ``--by``."""
    if by is not None and by not in GROUPINGS:
        raise fail(f"--by: {by!r} is not a grouping (allowed: {', '.join(GROUPINGS)})")


def _cell(row, outcome: str, kind: str) -> str:  # noqa: ANN001 - a pandas row
    star = "*" if row[f"{outcome}_significant"] else ""
    return (
        f"{fmt(row[f'{outcome}_difference'], kind)}{star} "
        f"[{fmt(row[f'{outcome}_ci_low'], kind)}, {fmt(row[f'{outcome}_ci_high'], kind)}]"
    )


def print_group_comparison(res: Results, by: str, baseline: str, console: Console) -> Path:
    """Print the comparison within each group and write it; returns the file written. The
    ICER reads as compare's main table (``cost_effectiveness.icer_text``): "dominant" or
    "dominated" instead of a negative ratio, with whether the paired intervals bear it out
    (compare's "vs baseline" column, which this table has not, says so), a saving per
    adopting school forgone."""
    from mensi_sim.analysis.cost_effectiveness import icer_text
    from mensi_sim.analysis.groups import group_comparison
    from mensi_sim.report.common import cost_basis

    if res.group_summary.empty:
        raise fail(f"{res.path}: no outcomes by group (results made before they existed)")
    table = group_comparison(res.group_summary, baseline, by=by)
    order = {name: i for i, name in enumerate(res.scenarios)}
    groups = {g: i for i, g in enumerate(dict.fromkeys(table["group"]))}
    table = table.sort_values(
        ["group", "scenario"], key=lambda c: c.map(groups if c.name == "group" else order)
    ).reset_index(drop=True)  # each group's scenarios in design order
    with user_errors():
        written = res.write_table("group_comparison", table)
    console.print(
        f"by {by}: paired differences against {baseline!r} within each {by} (its schools' "
        f"adoption {at_the_horizon(res)}, the costs booked to "
        "its schools, summed to it; 95% paired-t CI, * = CI excludes 0; ICER = extra EUR of "
        f"{cost_basis(table)} per additional adopting school, Fieller 95% CI; dominant: "
        "cheaper and more adopting schools, dominated: dearer and fewer)",
        soft_wrap=True,
    )
    headings = ("Δ adoption [CI]", "Δ capacity gain [CI]", "Δ cash [CI]", "Δ total cost [CI]")
    t = simple_table(by, "scenario", *headings, "ICER [CI]")
    for _, row in table.iterrows():
        if row["scenario"] == baseline:
            continue
        t.add_row(
            str(row["group"]),
            str(row["scenario"]),
            *(_cell(row, o, k) for o, k in SHOWN),
            icer_text(row, significance=True),
        )
    console.print(t)
    return written
