"""How Results show themselves: the headline with formatted values, and a compact table
for notebooks (``Results._repr_html_``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from mensi_sim.formats import html_table, with_ci
from mensi_sim.outcomes import format_of

if TYPE_CHECKING:
    from mensi_sim.results.results import Results

MAX_COLUMNS = 6  # scenarios shown side by side in a notebook; .headline() has them all
NO_INTERVAL = "one replicate: no confidence interval (it needs at least 2)"


def formatted_headline(head: pd.DataFrame) -> pd.DataFrame:
    """The headline table with each outcome's ``label`` and its value as shown,
    ``formatted`` (``25.0% [23.7%, 26.3%]``; the mean alone without an interval)."""
    head = head.copy()
    styles = [format_of(o) for o in head["outcome"]]
    head.insert(head.columns.get_loc("outcome") + 1, "label", [s.label for s in styles])
    head["formatted"] = [
        with_ci(m, lo, hi, s.kind)
        for m, lo, hi, s in zip(head["mean"], head["ci_low"], head["ci_high"], styles, strict=True)
    ]
    return head


def _first(runs: pd.DataFrame, column: str) -> object | None:
    return runs[column].iloc[0] if column in runs.columns and len(runs) else None


def describe(res: Results) -> str:
    """One line: what ran (scenario or experiment), how many runs of how many weeks.

    Read from the run records and the manifest, so that showing results loaded from a
    folder never needs their scenario rebuilt.
    """
    runs = res.runs
    steps = _first(runs, "steps")
    weeks = f" x {int(steps)} weeks" if steps is not None else ""
    failed = len(res.failures)
    bad = f", {failed} failed" if failed else ""
    if res.is_sweep:
        name = res.manifest.get("experiment")
        return (
            f"{name}: {len(res.scenarios)} scenarios, {len(runs)} runs{weeks}, "
            f"root seed {res.seed}{bad}"
        )
    name = res.scenarios[0] if res.scenarios else res.manifest.get("scenario")
    schools, structure = _first(runs, "n_schools"), _first(runs, "structure")
    where = f", {int(schools):,} schools" if schools is not None else ""
    where += f" ({structure})" if structure is not None else ""
    plural = "s" if len(runs) != 1 else ""
    return f"{name}: {len(runs)} replicate{plural}{weeks}{where}, seed {res.seed}{bad}"


def results_html(res: Results) -> str:
    """The headline outcomes per scenario (mean [95% CI]) under a line saying what ran."""
    caption = describe(res) + (f"; in {res.path}" if res.path is not None else "")
    head = res.headline()
    if head.empty:
        return html_table([["no successful runs", ""]], caption=caption)
    names = list(dict.fromkeys(head["scenario"]))
    shown = names[:MAX_COLUMNS]
    cells = head.set_index(["outcome", "scenario"])["formatted"]
    rows = []
    for outcome in dict.fromkeys(head["outcome"]):
        rows.append([format_of(outcome).label, *(cells[(outcome, n)] for n in shown)])
    notes = []
    if int(head["n"].min()) < 2:
        notes.append(NO_INTERVAL)
    else:
        notes.append("mean [95% CI over replicates]")
    if len(names) > len(shown):
        notes.append(f"{len(names) - len(shown)} more scenarios in .headline()")
    table = html_table(rows, header=["outcome", *shown], caption=caption)
    return table + f"<p style='font-size:smaller'>{'; '.join(notes)}</p>"
