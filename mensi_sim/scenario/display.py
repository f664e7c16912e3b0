"""How a Scenario shows itself: a one-line ``repr`` and a compact table for notebooks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mensi_sim.formats import html_table

if TYPE_CHECKING:
    from mensi_sim.scenario.schema import Scenario


def scenario_repr(sc: Scenario) -> str:
    """``Scenario('mensi_pilot': top_down, 120 schools, 156 weeks)``."""
    return (
        f"Scenario({sc.name!r}: {sc.network.structure}, {sc.population.n_schools:,} schools, "
        f"{sc.time.steps} weeks)"
    )


def scenario_rows(sc: Scenario) -> list[list[str]]:
    """The facts a reader wants first: what, where, how long, which rule, what is paid."""
    pop, prog = sc.population, sc.programme
    countries = len(pop.countries)
    incentives = ", ".join(f"{i.type} ({i.target})" for i in sc.incentives) or "none"
    courses = ", ".join(c.name for c in sc.training.courses) or "none"
    window = f"programme in weeks {prog.start_week} to {prog.end_week - 1}"
    if prog.staged:  # a roll-out: the first wave's window, then one a year
        window += f" for wave 1 of {prog.n_waves}, a year later for each next wave"
    rows = [
        ["structure", f"{sc.network.structure} ({sc.participation} participation)"],
        [
            "schools",
            f"{pop.n_schools:,} in {countries} countr{'y' if countries == 1 else 'ies'}, "
            f"{countries * pop.regions_per_country} regions",
        ],
        [
            "weeks",
            f"{sc.time.steps} ({window}; {sc.time.term_weeks} term weeks a year)",
        ],
        ["adoption rule", sc.adoption.rule],
        ["incentives", incentives],
        ["courses", courses],
    ]
    if prog.staged:
        rows.append(["waves", "; ".join(", ".join(w) for w in prog.waves)])
    if sc.source_path:
        rows.append(["file", sc.source_path])
    return rows


def scenario_html(sc: Scenario) -> str:
    """The scenario as a compact HTML table, its name and description as the caption."""
    caption = sc.name + (f": {sc.description}" if sc.description else "")
    return html_table(scenario_rows(sc), caption=caption, numbers=False)
