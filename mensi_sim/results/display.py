"""How Results show themselves: the headline with formatted values, and a compact table
for notebooks (``Results._repr_html_``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from mensi_sim.formats import html_table, with_ci
from mensi_sim.outcomes import CENSORED_FLAG, CENSORED_OUTCOME, format_of

if TYPE_CHECKING:
    from mensi_sim.results.results import Results

MAX_COLUMNS = 6  # scenarios shown side by side in a notebook; .headline() has them all
NO_INTERVAL = "one replicate: no confidence interval (it needs at least 2)"

#: the words of an outcome's label (``outcomes.OUTCOME_FORMATS``) that say it is read at
#: the horizon (the last simulated week) or at the programme's end; ``ReadingWeeks.label``
#: puts the week after them
HORIZON_WORDS = ("at the horizon", "to the horizon")
PROGRAMME_END_WORDS = ("at the programme's end", "when the programme ends")


def weeks_text(weeks: pd.Series | list[int]) -> str:
    """``week 156``, or ``weeks 104-156`` when runs differ; empty without any."""
    values = sorted({int(w) for w in weeks})
    if not values:
        return ""
    if len(values) == 1:
        return f"week {values[0]}"
    return f"weeks {values[0]}-{values[-1]}"


@dataclass(frozen=True)
class ReadingWeeks:
    """When outcomes are read: ``horizon`` (the last simulated week, where ``final_*``
    outcomes and the cumulative costs are read) and ``programme_end`` (the state after the
    programme's last running week, ``metrics.programme_end_row``: ``end_*`` outcomes), each
    as ``weeks_text`` (empty when the tables do not say)."""

    horizon: str = ""
    programme_end: str = ""

    def label(self, text: str) -> str:
        """An outcome's label with the week after the words that say when it is read:
        ``Adoption share at the horizon, week 156``."""
        for words, week in (
            (HORIZON_WORDS, self.horizon),
            (PROGRAMME_END_WORDS, self.programme_end),
        ):
            for w in words:
                if week and w in text:
                    text = text.replace(w, f"{w}, {week}", 1)
        return text


def reading_weeks(timeseries: pd.DataFrame) -> ReadingWeeks:
    """The horizon and the programme's end of the runs of a time series (one row per
    scenario, replicate and step)."""
    keys = ["scenario", "replicate"]
    if timeseries.empty or not {*keys, "step"} <= set(timeseries.columns):
        return ReadingWeeks()
    runs = timeseries.groupby(keys, sort=False)["step"]
    horizon = weeks_text(runs.max())
    if "programme_running" not in timeseries.columns:
        return ReadingWeeks(horizon=horizon)
    # metrics.programme_end_row: the last running row of each run, its first row when the
    # programme never ran
    running = timeseries[timeseries["programme_running"].astype(bool)]
    ends = running.groupby(keys, sort=False)["step"].max().reindex(runs.min().index)
    return ReadingWeeks(horizon, weeks_text(ends.fillna(runs.min())))


def formatted_headline(head: pd.DataFrame, weeks: ReadingWeeks | None = None) -> pd.DataFrame:
    """The headline table with each outcome's ``label`` (with ``weeks``, the week it is read
    at: ``ReadingWeeks.label``) and its value as shown, ``formatted``
    (``25.0% [23.7%, 26.3%]``; the mean alone without an interval)."""
    head = head.copy()
    styles = [format_of(o) for o in head["outcome"]]
    dated = weeks or ReadingWeeks()
    labels = [dated.label(s.label) for s in styles]
    head.insert(head.columns.get_loc("outcome") + 1, "label", labels)
    head["formatted"] = [
        with_ci(m, lo, hi, s.kind)
        for m, lo, hi, s in zip(head["mean"], head["ci_low"], head["ci_high"], styles, strict=True)
    ]
    return head


def censoring(summary: pd.DataFrame, by: str = "scenario") -> pd.DataFrame:
    """Per group of ``by``: ``reached`` (runs that brought half the schools to the
    practice), ``runs`` and ``horizon`` (the largest weeks to 50% adoption, which is the
    run length where a run never got there). Empty when the summary does not say."""
    columns = [by, "reached", "runs", "horizon"]
    if summary.empty or CENSORED_FLAG not in summary or CENSORED_OUTCOME not in summary:
        return pd.DataFrame(columns=columns)
    grouped = summary.groupby(by, sort=False)
    return pd.DataFrame(
        {
            "reached": grouped[CENSORED_FLAG].sum().astype(int),
            "runs": grouped.size(),
            "horizon": grouped[CENSORED_OUTCOME].max(),
        }
    ).reset_index()[columns]


def censored_mean(mean_text: str, reached: int, runs: int, horizon: float) -> str:
    """A mean of weeks to 50% adoption as it may be read when runs were censored: as it is
    when every run got there; ``> 156`` (the run length) when none did (every value, and
    so the mean, is only the run length); ``≥`` before it when some did not (a censored
    run counts the run length, so the mean understates the time)."""
    if reached >= runs:
        return mean_text
    if reached == 0:
        return f"> {horizon:.0f}"
    return f"≥ {mean_text}"


def censoring_note(reached: int, runs: int, steps: int, unit: str = "replicates") -> str:
    """The line under a table of means that says how weeks to 50% adoption was censored."""
    note = f"weeks to 50% adoption are censored at {steps}: reached in {reached} of {runs} {unit}"
    if 0 < reached < runs:
        note += f" (≥: the others count {steps}, so the mean understates the time)"
    return note


def mark_censored(head: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """The headline with ``formatted`` of weeks to 50% adoption read through
    ``censored_mean`` in each scenario where runs never got there (``> 156 (not reached)``
    where none did; the numbers unchanged)."""
    marks = censoring(summary)
    if marks.empty or head.empty:
        return head
    head = head.copy()
    for row in marks.itertuples(index=False):
        at = (head["outcome"] == CENSORED_OUTCOME) & (head["scenario"] == row.scenario)
        none = " (not reached)" if row.reached == 0 else ""
        head.loc[at, "formatted"] = [
            censored_mean(text, row.reached, row.runs, row.horizon) + none
            for text in head.loc[at, "formatted"]
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
    weeks = reading_weeks(res.timeseries)
    rows = []
    for outcome in dict.fromkeys(head["outcome"]):
        label = weeks.label(format_of(outcome).label)
        rows.append([label, *(cells[(outcome, n)] for n in shown)])
    notes = []
    if int(head["n"].min()) < 2:
        notes.append(NO_INTERVAL)
    else:
        notes.append("mean [95% CI over replicates]")
    if len(names) > len(shown):
        notes.append(f"{len(names) - len(shown)} more scenarios in .headline()")
    table = html_table(rows, header=["outcome", *shown], caption=caption)
    return table + f"<p style='font-size:smaller'>{'; '.join(notes)}</p>"
