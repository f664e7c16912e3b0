"""The report's sections on countries: the schools a roster brought, the outcomes by
country (small multiples and one table per country), and the cross-country comparison a
ministry can hand to its peers.

Every number is the country's own: its schools' adoption and capacity, the cash and staff
time booked to its schools (staff hours at its hour rate). Every verdict is the paired
interval's (``analysis.groups.verdict``): "higher" only when the 95% interval excludes
zero; otherwise "no detectable difference", never "no effect".
"""

from __future__ import annotations

import pandas as pd

from mensi_sim.analysis.cost_effectiveness import icer_reading, icer_text
from mensi_sim.analysis.groups import country_exchange
from mensi_sim.errors import ResultsError
from mensi_sim.formats import fmt, with_ci
from mensi_sim.outcomes import format_of
from mensi_sim.report.common import COST_BASIS
from mensi_sim.report.html import esc, table
from mensi_sim.results import Results
from mensi_sim.results.display import reading_weeks
from mensi_sim.scenario.roster import drawn_attributes

#: (outcome, kind of its value) of the per-country tables
COUNTRY_OUTCOMES = (
    ("final_adoption_share", "pct"),
    ("end_adoption_share", "pct"),
    ("capacity_gain", "signed3"),
    ("total_cash", "eur"),
    ("total_staff_time", "eur"),
    ("cash_per_participant_year", "eur"),
)
VERDICT_TEXT = {
    "higher": "higher than under {base} (the 95% interval excludes zero)",
    "lower": "lower than under {base} (the 95% interval excludes zero)",
    "no detectable difference": "not distinguishable from {base} (the 95% interval includes zero)",
    "unknown": "not assessed (too few replicates for an interval)",
}


def countries(res: Results) -> list[str]:
    """The countries of the outcomes by group, in order (empty without them)."""
    gs = res.group_summary
    if gs.empty or "by" not in gs.columns:
        return []
    return list(dict.fromkeys(gs.loc[gs["by"] == "country", "group"].astype(str)))


def roster_paragraph(res: Results) -> str:
    """Which roster the schools came from, and which attributes were drawn (empty without
    a roster)."""
    rosters = res.manifest.get("rosters") or []
    parts = []
    for r in rosters:
        files = ", ".join(f"<code>{esc(f['path'])}</code>" for f in r.get("files", []))
        n = int(r.get("schools", 0))
        listed = drawn_attributes(r)
        drawn_text = (
            "Drawn as for generated schools, because the roster does not give them: "
            + "; ".join(esc(x) for x in listed)
            + "."
            if listed
            else "The roster gives every attribute; nothing was drawn."
        )
        ignored = r.get("ignored_columns") or []
        ignored_text = f" Columns not used: {esc(', '.join(ignored))}." if ignored else ""
        synthetic = any("synthetic" in str(f.get("path", "")).lower() for f in r.get("files", []))
        warning = (
            " <b>These are SYNTHETIC schools</b> (invented, in the published numbers per "
            "country; rosters/README.md): read no result as one about real schools."
            if synthetic
            else ""
        )
        parts.append(
            f"<p>The schools are the roster {files}: {fmt(n, 'int')} schools in "
            f"{len(r.get('countries', []))} countries and {fmt(r.get('regions'), 'int')} "
            f"regions (locations: {esc(r.get('location'))}). {drawn_text}{ignored_text}"
            f"{warning}</p>"
        )
    return "".join(parts)


def _structures(res: Results, name: str) -> dict[str, str]:
    """The structure each country had in scenario ``name`` (from the manifest)."""
    try:
        scenario = res.replay_source(name).scenario
    except (ResultsError, KeyError):
        return {}
    return {code: scenario.structure_of(code).name for code in countries(res)}


def _country_table(res: Results, country: str, comparison: pd.DataFrame | None) -> str:
    gs = res.group_summary
    rows_of = gs[(gs["by"] == "country") & (gs["group"].astype(str) == country)]
    head = res.headline_by("country", [o for o, _ in COUNTRY_OUTCOMES])
    head = head[head["group"] == country].set_index(["scenario", "outcome"])
    base = res.baseline if comparison is not None else None
    diff = comparison[comparison["group"] == country].set_index("scenario") if base else None
    rows = []
    for name in dict.fromkeys(rows_of["scenario"].astype(str)):
        cells = [esc(name)]
        for outcome, kind in COUNTRY_OUTCOMES:
            h = head.loc[(name, outcome)]
            text = esc(with_ci(h["mean"], h["ci_low"], h["ci_high"], kind))
            if diff is not None and name != base and f"{outcome}_difference" in diff.columns:
                d = diff.loc[name]
                change = format_of(outcome).change_kind
                delta = with_ci(
                    d[f"{outcome}_difference"], d[f"{outcome}_ci_low"], d[f"{outcome}_ci_high"],
                    change,
                )  # fmt: skip
                strong = bool(d[f"{outcome}_significant"])
                delta = f"<b>{esc(delta)}</b>" if strong else esc(delta)
                text += f"<br><span class='muted'>vs {esc(base)}: {delta}</span>"
            cells.append(text)
        rows.append(cells)
    n = int(rows_of["n_schools"].iloc[0]) if len(rows_of) else 0
    weeks = reading_weeks(res.timeseries)
    headers = ["Scenario", *(weeks.label(format_of(o).report) for o, _ in COUNTRY_OUTCOMES)]
    return table(
        headers,
        rows,
        numeric=list(range(1, len(headers))),
        raw=True,
        caption=f"{country}: {fmt(n, 'int')} schools (mean [95% CI] over replicates)",
    )


def _why(exc: Exception) -> str:
    """An exception's message on one line (a KeyError's without the quotes it adds)."""
    text = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
    return " ".join(str(text).split())


def by_country(res: Results, figures: str) -> str:
    """Outcomes by country: the small multiples and one table per country."""
    names = countries(res)
    if len(names) < 2:
        return (
            "<p class='muted'>One country only (or results made before outcomes by group "
            "existed): see the pooled results.</p>"
        )
    comparison, missing = None, ""
    if len(res.scenarios) > 1 and res.try_comparison() is not None:
        try:
            comparison = res.group_comparison("country")
        except (ResultsError, ValueError, KeyError) as exc:
            missing = (
                f"<p class='note'>The paired differences from {esc(res.baseline)} by country "
                f"are left out: {esc(_why(exc))}.</p>"
            )
    intro = (
        "<p>Each country's own outcomes: the adoption and capacity of its schools, the cash "
        "and staff time booked to its schools (staff hours valued at its hour rate, "
        "<code>costs.staff_hour_rate_by_country</code>). Per country, the mean over replicates "
        "with its 95% interval"
        + (
            f"; below it the paired difference from <b>{esc(res.baseline)}</b> (the same "
            "schools and seeds; <b>bold</b>: the interval excludes zero)"
            if comparison is not None
            else ""
        )
        + ". Region and disadvantage-band rows are in <code>group_summary.parquet</code> "
        "(<code>mensi-sim compare --by region</code>).</p>"
    )
    gs = res.group_summary
    present = set(gs.loc[gs["by"] == "country", "scenario"].astype(str))
    absent = [n for n in res.scenarios if n not in present]
    if absent:
        missing += (
            "<p class='note'>No outcomes by country for "
            f"{esc(', '.join(absent))}: not in <code>group_summary.parquet</code>.</p>"
        )
    tables = "".join(_country_table(res, c, comparison) for c in names)
    return intro + missing + figures + tables


def _achieved(row: pd.Series, base: str, horizon: str) -> str:
    kind = format_of("final_adoption_share").change_kind
    delta = with_ci(
        row["final_adoption_share_difference"], row["final_adoption_share_ci_low"],
        row["final_adoption_share_ci_high"], kind,
    )  # fmt: skip
    what = VERDICT_TEXT[row["final_adoption_share_verdict"]].format(base=esc(base))
    gain = with_ci(
        row["capacity_gain_difference"], row["capacity_gain_ci_low"],
        row["capacity_gain_ci_high"], "signed3",
    )  # fmt: skip
    return (
        f"adoption at the horizon{horizon} {fmt(row['final_adoption_share_mean'], 'pct')}, "
        f"{esc(delta)} against {esc(base)}: {what}; capacity gain {esc(gain)} against it"
    )


def _cost(row: pd.Series) -> str:
    cash = with_ci(
        row["total_cash_difference"], row["total_cash_ci_low"], row["total_cash_ci_high"], "deur"
    )
    total = with_ci(
        row["total_cost_difference"], row["total_cost_ci_low"], row["total_cost_ci_high"], "deur"
    )
    return (
        f"extra cash {esc(cash)}, extra cash and staff time {esc(total)}; "
        f"{fmt(row['cash_per_participant_year'], 'eur')} cash per participating school and year"
    )


def _basis(rows: pd.DataFrame) -> str:
    """The cost the ICERs of a cross-country table count (its ``perspective``)."""
    kinds = rows["perspective"].astype(str) if "perspective" in rows.columns else ["total"]
    return " and ".join(COST_BASIS.get(k, k) for k in dict.fromkeys(kinds))


def _icer(row: pd.Series, basis: str, base: str) -> str:
    """The country's ICER in a sentence, read as ``compare`` reads it
    (``cost_effectiveness.icer_reading``): no negative ratio; a dominance says whether the
    paired intervals bear it out; cheaper and worse, the ratio is a saving."""
    reading = icer_reading(str(row.get("dominance", "")))
    sure = (
        "significant on the paired intervals"
        if bool(row.get("dominance_significant", False))
        else "on the means, not significant"
    )
    if reading == "dominant":
        return (
            f"Dominant: less {basis} and more adopting schools than {base} ({sure}), so no "
            "cost per additional adopter applies"
        )
    if reading == "dominated":
        return f"Dominated: more {basis} and fewer adopting schools than {base} ({sure})"
    note = str(row["icer_note"])
    if note.startswith("no difference"):
        return f"No additional adopting school on average: no {basis} per additional adopter"
    if reading == "saving":
        what = f"Saves {fmt(row['icer'], 'eur')} of {basis} per adopting school forgone"
    else:
        what = f"{fmt(row['icer'], 'eur')} of {basis} per additional adopting school"
    if note.startswith("Fieller"):
        return f"{what} [{fmt(row['icer_ci_low'], 'eur')}, {fmt(row['icer_ci_high'], 'eur')}]"
    return (
        f"{what}, but its interval is unbounded (the additional adopters' interval includes zero)"
    )


def exchange(res: Results) -> str:
    """The cross-country comparison: per country, what each scenario's approach achieved
    against the baseline, at what cost, how sure."""
    if res.is_sample_design:
        # its scenarios are sample points of the uncertain parameters, not approaches: each
        # against the first point would say nothing a ministry could use (and a Sobol
        # design's hundreds of points took minutes of paired comparisons per country)
        return (
            "<p class='muted'>No cross-country comparison: a sample design compares "
            "parameter values, not approaches: see the sensitivity section.</p>"
        )
    names = countries(res)
    base = res.baseline
    if len(names) < 2 or len(res.scenarios) < 2 or base is None:
        return (
            "<p class='muted'>No cross-country comparison: it needs several countries and a "
            "baseline to compare with (e.g. experiments/exchange.toml).</p>"
        )
    if res.summary["replicate"].nunique() < 2:
        return "<p class='muted'>No cross-country comparison: fewer than 2 replicates.</p>"
    parts = [
        "<p>For a ministry to hand to its peers. For each scenario and each country: what the "
        f"country's approach achieved on its own schools against <b>{esc(base)}</b> on the "
        "same schools (paired replicates), at what cost to the country, and how sure that "
        "is. A difference is called higher or lower only when its 95% interval excludes "
        "zero. Countries differ in their schools, their sizes and their prices: a larger "
        "effect in one country is not evidence that its approach would do as well in "
        "another; the scenario that puts one approach everywhere (if the experiment has "
        "one) is the comparison for that question.</p>"
    ]
    try:
        wide = res.group_comparison("country")
    except (ResultsError, ValueError, KeyError) as exc:
        return f"<p class='muted'>No cross-country comparison: {esc(_why(exc))}.</p>"
    week = reading_weeks(res.timeseries).horizon
    horizon = f" ({week})" if week else ""
    for name in [s for s in res.scenarios if s != base]:
        structures = _structures(res, name)
        try:
            rows = country_exchange(res.group_summary, name, base, structures, comparison=wide)
        except (KeyError, ValueError) as exc:  # said, not skipped in silence
            parts.append(
                f"<h3>{esc(name)} against {esc(base)}</h3><p class='note'>Not compared by "
                f"country: {esc(_why(exc))}.</p>"
            )
            continue
        basis = _basis(wide[wide["scenario"] == name])
        items = []
        for _, r in rows.iterrows():
            how = f"{esc(r['structure'])}" if r["structure"] else "its structure"
            items.append(
                f"<li><b>{esc(r['country'])}</b> ({fmt(r['n_schools'], 'int')} schools, "
                f"{how}, {int(r['n_pairs'])} paired replicates): {_achieved(r, base, horizon)}. "
                f"Cost: {_cost(r)}. {esc(_icer(r, basis, base))}.</li>"
            )
        table_rows = [
            (
                r["country"],
                r["structure"] or "-",
                with_ci(r["final_adoption_share_difference"], r["final_adoption_share_ci_low"],
                        r["final_adoption_share_ci_high"], "dpct"),
                r["final_adoption_share_verdict"],
                with_ci(r["total_cash_difference"], r["total_cash_ci_low"],
                        r["total_cash_ci_high"], "deur"),
                with_ci(r["total_cost_difference"], r["total_cost_ci_low"],
                        r["total_cost_ci_high"], "deur"),
                icer_text(r, significance=True),
            )
            for _, r in rows.iterrows()
        ]  # fmt: skip
        parts.append(
            f"<h3>{esc(name)} against {esc(base)}</h3>"
            + table(
                [
                    "Country",
                    "Approach",
                    "Δ adoption [CI]",
                    "Verdict",
                    "Δ cash [CI]",
                    "Δ cash + staff time [CI]",
                    f"EUR of {basis} per extra adopter",
                ],  # fmt: skip
                table_rows,
                numeric=[2, 4, 5, 6],
                caption=f"{name}: each country against {base} on its own schools",
            )
            + "<ul>"
            + "".join(items)
            + "</ul>"
        )
    return "".join(parts)
