"""The sections on what was run and what it gave: in brief, what was run, assumptions,
results, provenance.

Written for a policy analyst who has not seen the code: every number carries its unit
and its 95% interval, and every table says what it compares.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from mensi_sim.formats import fmt, with_ci
from mensi_sim.outcomes import CENSORED_FLAG, CENSORED_OUTCOME, format_of
from mensi_sim.report.common import (
    CHOSEN_AT_START,
    HEADLINE,
    MAX_ROWS,
    SAME_AT_START,
    START_LABELS,
    adoption_rule_text,
    adoption_rules,
    base_scenario,
    censored_note,
    ci_row,
    cost_basis,
    flatten,
    fully_censored,
    key_parameters,
    listed,
    more,
    n_schools,
    parameters_that_matter,
    replicates_text,
    runs_by_scenario,
    sentence,
    value_text,
    verdict_caveat,
    week0_spread,
)
from mensi_sim.report.html import esc, table
from mensi_sim.results import Results
from mensi_sim.results.display import reading_weeks


def in_brief(res: Results) -> str:
    m = res.manifest
    names = res.scenarios
    n = n_schools(res)
    rep_text = replicates_text(res)
    what = (
        f"the sweep <b>{esc(m.get('experiment'))}</b>"
        if res.is_sweep
        else f"the scenario <b>{esc(m.get('scenario'))}</b>"
    )
    parts = [
        f"<p class='lead'>This report describes {what}: {len(names)} scenario"
        f"{'s' if len(names) != 1 else ''} of {fmt(n, 'int')} schools over "
        f"{esc(m.get('steps'))} weeks, {rep_text} replicate runs each (root seed "
        f"{esc(m.get('root_seed'))}). Numbers are means over replicates with 95% confidence "
        "intervals in brackets.</p>"
    ]
    s = res.summary
    if len(names) == 1 and len(s):
        parts.append(_single_brief(res))
    ce = res.try_comparison()
    if ce is not None and "frontier" in ce.columns and len(ce) > 1:
        parts.append(_verdict_paragraph(res, ce))
    if res.is_psa and "psa" in res.tables:
        parts.append(_psa_brief(res))
    parts.append(sensitivity_brief(res))
    failed = runs_by_scenario(res)["failed"].sum() if len(res.runs) else 0
    if failed:
        parts.append(
            f"<p class='note'>{int(failed)} of {len(res.runs)} runs failed; they "
            "are left out of every number (runs.parquet has their errors).</p>"
        )
    return "".join(parts)


def _single_brief(res: Results) -> str:
    """One scenario's adoption at the horizon and at the programme's end, its capacity
    gain, and its cash apart from the total with staff time valued."""
    s = res.summary
    weeks = reading_weeks(res.timeseries)
    row = ci_row(s, "final_adoption_share")
    gain = ci_row(s, "capacity_gain")
    first = (
        res.timeseries[res.timeseries["step"] == 0]["adoption_share"].mean()
        if len(res.timeseries)
        else math.nan
    )
    horizon = f" ({weeks.horizon}, the last simulated)" if weeks.horizon else ""
    at_end = ""
    if "end_adoption_share" in s.columns:
        when = f", {weeks.programme_end}" if weeks.programme_end else ""
        at_end = (
            f"; {with_ci(*ci_row(s, 'end_adoption_share'), 'pct')} when the programme ended{when}"
        )
    text = (
        f"<p>At the horizon{horizon}, <b>{with_ci(*row, 'pct')}</b> of schools had adopted the "
        f"practice (from {fmt(first, 'pct')} at the start{at_end}). Mean capacity changed by "
        f"{with_ci(*gain, 'num3')} on the 0-1 scale."
    )
    total = with_ci(*ci_row(s, "total_cost"), "eur")
    if "total_cash" not in s.columns:  # results from before cash and staff time were apart
        return f"{text} Cost to the horizon, cash and staff time together: {total}.</p>"
    cash = with_ci(*ci_row(s, "total_cash"), "eur")
    staff = with_ci(*ci_row(s, "total_staff_time"), "eur")
    return (
        f"{text} Cost to the horizon: <b>{cash}</b> in cash, paid by the programme; with the "
        f"schools' staff time valued ({staff}, an opportunity cost, not a payment), {total} "
        "in total.</p>"
    )


def sensitivity_brief(res: Results) -> str:
    """Which parameters matter for each outcome (of ``sensitivity.parquet``), in a list."""
    sv = res.tables.get("sensitivity")
    if sv is None or sv.empty:
        return ""
    items = []
    found = parameters_that_matter(sv)
    for f in found:
        matter = ", ".join(f"<b>{esc(p)}</b> ({v:.2g})" for p, v in f["matter"]) or "none"
        if not f["matter"]:
            items.append(f"<li>{esc(format_of(f['outcome']).label)}: {esc(f['rule'])}</li>")
            continue
        little = (
            f"; little: {esc(', '.join(f['little']))} ({esc(f['rule'])})" if f["little"] else ""
        )
        label = format_of(f["outcome"]).label
        items.append(f"<li>{esc(label)} ({esc(f['index'])}): {matter}{little}</li>")
    indexed = {f["outcome"] for f in found}
    for outcome in [o for o in dict.fromkeys(sv["outcome"]) if o not in indexed]:
        label = format_of(outcome).label
        items.append(f"<li>{esc(label)}: no index could be computed</li>")
    return (
        "<p>Which uncertain parameters matter, over the ranges sampled (details in the "
        "Sensitivity section):</p><ul>" + "".join(items) + "</ul>"
    )


def _verdict_paragraph(res: Results, ce: pd.DataFrame) -> str:
    """Who adds the most, or "not distinguishable"; the frontier with each verdict's
    probability over bootstrap resamples of the replicates; a few-replicate warning."""
    from mensi_sim.analysis.verdicts import (
        MIN_FIRM_REPLICATES,
        VERDICT_PROBABILITY,
        firmness,
        leading_options,
    )

    base = res.baseline
    lead = leading_options(res.summary, base)
    text = esc(lead.sentence()) if lead is not None else ""
    path = ce[ce["frontier"] == "frontier"].sort_values("mean_cost")
    probs = ""
    if "p_frontier" in ce.columns:
        # a bootstrap over 3 replicates is "firm" far too easily: firmness says so
        reps = (
            int(ce["bootstrap_replicates"].iloc[0])
            if "bootstrap_replicates" in ce.columns
            else None
        )
        items = ", ".join(
            f"{esc(r['scenario'])} {r['p_frontier']:.2f} ({firmness(r['p_frontier'], reps)})"
            for _, r in ce[ce["scenario"] != base].iterrows()
        )
        fewest = f" with at least {MIN_FIRM_REPLICATES} replicates" if reps is not None else ""
        probs = (
            f" Probability of being on the frontier over bootstrap resamples of the replicates "
            f"(a verdict is firm at {VERDICT_PROBABILITY:.2f} or more{fewest}): {items}."
        )
    caveat = "" if res.is_psa else f"<p class='note'>{esc(verdict_caveat(res))}</p>"
    return (
        f"<p>Against the baseline <b>{esc(base)}</b>: {text}. The cost-effectiveness "
        f"frontier on the means, counting {esc(cost_basis(ce))} against adopting schools "
        f"at the horizon, runs <b>{esc(' → '.join(path['scenario']))}</b>"
        f"{_dominated_text(ce)}.{probs}</p>{caveat}"
    )


def _psa_brief(res: Results) -> str:
    """The PSA's verdict with its probability, and the largest value of information."""
    from mensi_sim.analysis.verdicts import VERDICT_PROBABILITY

    t = res.tables["psa"]
    wtp = float(t["wtp"].iloc[0])
    best = t[t["verdict"] != ""].iloc[0]
    firm = best["verdict"] == "best"
    out = (
        f"<p>Over {int(t['draws'].iloc[0])} draws of the uncertain parameters, at "
        f"{esc(fmt(wtp, 'eur'))} per additional adopting school, <b>{esc(best['option'])}</b> "
        f"has the largest expected net benefit (counting {esc(cost_basis(t))}) and is best "
        f"in {best['p_best']:.0%} of the "
        "draws: "
        + (
            f"a firm verdict (at least {VERDICT_PROBABILITY:.0%})."
            if firm
            else f"below the {VERDICT_PROBABILITY:.0%} needed to call it better."
        )
    )
    vi = res.tables.get("evppi")
    if vi is not None and not vi.empty:
        top = vi[~vi["group"].isin(["all", "dummy"])].sort_values("evppi", ascending=False)
        if len(top) and top.iloc[0]["evppi"] <= 0:
            out += " No uncertainty here is worth resolving for this decision (every EVPPI is 0)."
        elif len(top):
            r = top.iloc[0]
            out += (
                f" The uncertainty most worth resolving is <b>{esc(r['group'])}</b> (EVPPI "
                f"{esc(fmt(r['evppi'], 'eur'))} per run)."
            )
    return out + "</p>"


def _dominated_text(ce: pd.DataFrame) -> str:
    """The dominated schemes, each with the one that dominates it on the means and whether
    that holds on the paired intervals ("significant"), as ``compare`` says it."""
    dom = ce[ce["frontier"].astype(str).str.startswith("dominated")]
    if dom.empty:
        return ""
    items = []
    for _, r in dom.iterrows():
        if "frontier_dominance_significant" not in r:
            how = r["frontier"]
        elif bool(r["frontier_dominance_significant"]):
            how = f"{r['frontier']}, significant"
        else:
            how = f"{r['frontier']} on the means, not significant"
        items.append(f"{r['scenario']} ({how})")
    return f"; dominated: {esc(listed(items, 'in the cost-effectiveness ranking'))}"


def what_was_run(res: Results) -> str:
    m = res.manifest
    counts = runs_by_scenario(res)
    if not res.is_sweep:
        p = m.get("parameters") or {}
        net, pop, t = p.get("network", {}), p.get("population", {}), p.get("time", {})
        incent = (
            ", ".join(f"{i.get('type')} to {i.get('target')}" for i in p.get("incentives", []))
            or "none"
        )
        courses = ", ".join(c.get("name", "?") for c in p.get("training", {}).get("courses", []))
        rows = [
            ("Scenario", m.get("scenario")),
            ("Description", p.get("description") or "-"),
            ("Cluster structure", net.get("structure")),
            ("Schools", fmt(pop.get("n_schools"), "int")),
            (
                "Countries x regions",
                f"{len(pop.get('countries', []))} x {pop.get('regions_per_country')}",
            ),
            (
                "Weeks simulated (school weeks per year)",
                f"{t.get('steps')} ({t.get('term_weeks')})",
            ),
            ("How schools adopt", adoption_rule_text(res)),
            ("Incentive schemes", incent),
            ("Training courses", courses or "none"),
            ("Replicates per scenario", replicates_text(res)),
            ("Scenario file", m.get("source_path") or "-"),
        ]
        return table(None, rows, caption="The scenario")
    spec = m.get("experiment_spec") or {}
    about = esc(sentence(spec.get("description", "")))
    intro = (
        f"<p>Experiment <b>{esc(m.get('experiment'))}</b>: {about} "
        f"Base scenario <code>{esc((spec.get('base') or {}).get('scenario', ''))}</code>"
        + (
            ".</p>"
            if res.is_sample_design
            else f"; baseline for comparisons: <b>{esc(res.baseline)}</b>.</p>"
        )
    )
    intro += f"<p><b>How schools adopt.</b> {esc(adoption_rule_text(res))}</p>"
    entries = m.get("scenarios", [])
    if res.is_sample_design:
        intro += _uncertainties(spec, len(entries))
    rows = []
    for e in entries[:MAX_ROWS]:
        over = "; ".join(f"{k} = {value_text(v)}" for k, v in (e.get("overrides") or {}).items())
        c = counts.loc[e["name"]] if e["name"] in counts.index else None
        ok = int(c["ok"]) if c is not None else 0
        bad = int(c["failed"]) if c is not None else 0
        rows.append(
            (
                e["name"],
                e.get("structure"),
                over or "(base scenario)",
                f"{ok}" + (f" ({bad} failed)" if bad else ""),
            )
        )
    listing = table(
        ["Scenario", "Structure", "What differs from the base scenario", "Runs"],
        rows,
        numeric=[3],
        caption="The scenarios of the sweep",
    ) + more(len(entries), "manifest.json")
    if res.is_sample_design:  # hundreds of sampled points: there, not in the way
        listing = (
            f"<details><summary>The {len(entries):,} sample points</summary>{listing}</details>"
        )
    return intro + listing


def _uncertainties(spec: dict[str, Any], points: int) -> str:
    """The sampled uncertainties with their ranges, and the samples drawn over them."""
    factors = spec.get("factors") or {}
    ranges = flatten(factors.get("ranges") or {})
    samples = ", ".join(
        f"{s.get('method')} (n = {s.get('n')})" for s in factors.get("samples") or []
    )
    rows = [(name, value_text(lo), value_text(hi)) for name, (lo, hi) in ranges.items()]
    return (
        f"<p>{points:,} sample points ({esc(samples)}) over {len(rows)} uncertain "
        "parameters, each uniform over its range:</p>"
        + table(["Parameter", "Low", "High"], rows, numeric=[1, 2], caption="Uncertainties")
    )


def assumptions(res: Results) -> str:
    from mensi_sim.scenario.reference import parameter_rows

    scenario, note = base_scenario(res)
    if scenario is None:
        return f"<p class='note'>The parameters cannot be listed: {esc(note)}.</p>"
    meta = {r["name"]: r for r in parameter_rows()}
    values = flatten(scenario.model_dump(mode="json", exclude={"source_path"}))
    which = "the base scenario of the sweep" if res.is_sweep else "the scenario"
    intro = (
        f"<p>The model's parameters for {which}. A highlighted row differs from the "
        "package default. <i>Source</i> says where a default comes from; "
        "<i>assumption</i> means no published figure backs it: treat it as a lever to "
        "test, not a fact.</p>"
    )

    def rows_for(names: Sequence[str]) -> tuple[list[tuple], list[str]]:
        rows, classes = [], []
        for name in names:
            if name not in values or name not in meta:
                continue
            r = meta[name]
            text = value_text(values[name])
            rows.append((name, r["description"], text, r["unit"], r["source"] or "-"))
            classes.append("changed" if text != r["default"].replace('"', "") else "")
        return rows, classes

    key_rows, key_cls = rows_for(key_parameters(adoption_rules(res)))
    skip = {"name", "description", "training.courses", "incentives"}
    all_rows, all_cls = rows_for([n for n in values if n not in skip])
    heads = ["Parameter", "Meaning", "Value", "Unit", "Source"]
    parts = [
        intro,
        table(heads, key_rows, caption="Key assumptions", row_classes=key_cls, numeric=[2]),
    ]
    courses = values.get("training.courses") or []
    if courses:
        parts.append(_courses_table(courses))
    schemes = values.get("incentives") or []
    if schemes:
        parts.append(_incentives_table(schemes))
    parts.append(
        "<details><summary>All parameters</summary>"
        + table(heads, all_rows, row_classes=all_cls, numeric=[2])
        + "</details>"
    )
    return "".join(parts)


def _courses_table(courses: list[dict[str, Any]]) -> str:
    """Every field of each training course: who, when, how many enrol and complete, what
    it gives, and what it costs (its fee is cash, its hours staff time)."""
    return table(
        [
            "Course",
            "For",
            "Start week",
            "Weeks",
            "Enrolment",
            "Completion",
            "Capacity gain",
            "Fee per participant (EUR, cash)",
            "Staff hours per participant",
        ],
        [
            (
                c["name"],
                c["target"],
                c["start_week"],
                c["duration_weeks"],
                fmt(c["enrol_prob"], "pct"),
                fmt(c["completion_prob"], "pct"),
                c["capacity_gain"],
                fmt(c["cost_per_participant"], "eur"),
                fmt(c["staff_hours"], "num1"),
            )
            for c in courses
        ],
        caption="Training courses",
        numeric=[2, 3, 4, 5, 6, 7, 8],
    )


def _incentives_table(schemes: list[dict[str, Any]]) -> str:
    """Every field of each incentive scheme, its amount (cash) as its type pays it and the
    type's default where the scheme gives none (``registry.INCENTIVE_TYPES``)."""
    from mensi_sim.registry import INCENTIVE_TYPES

    rows = []
    for i in schemes:
        kind = INCENTIVE_TYPES.get(i["type"])
        amount = i["amount"] if i["amount"] is not None else kind.default_amount
        half = i["half_effect_amount"]
        half = half if half is not None else kind.default_amount
        per = " per teacher" if i.get("per") == "teacher" else ""
        rows.append(
            (
                i["type"],
                i["target"],
                f"{fmt(amount, 'eur')}{per}",
                kind.description.removeprefix("amount "),
                i["max_effect"],
                f"{fmt(half, 'eur')}{per}",
                i["start_week"],
                i["duration_weeks"],
            )
        )
    return table(
        [
            "Incentive",
            "For",
            "Amount (EUR, cash)",
            "Paid",
            "Largest effect on engagement",
            "Half the effect at",
            "From week",
            "Weeks",
        ],
        rows,
        caption="Incentive schemes (an amount not given is the type's default)",
        numeric=[2, 4, 5, 6, 7],
    )


def results(res: Results) -> str:
    s = res.summary
    if s.empty:
        return "<p class='note'>No successful run: nothing to summarise.</p>"
    present = [h for h in HEADLINE if h[0] in s.columns]
    dropped = fully_censored(res)
    present = [h for h in present if not (dropped and h[0] == CENSORED_OUTCOME)]
    head = res.headline(tuple(h[0] for h in present))
    head["scenario"] = head["scenario"].astype(str)
    names = res.scenarios
    rows = []
    for name in names[:MAX_ROWS]:
        part = head[head["scenario"] == name].set_index("outcome")
        cells: list[Any] = [name, int(part["n"].iloc[0]) if len(part) else 0]
        for col, _, kind in present:
            r = part.loc[col]
            cells.append(with_ci(r["mean"], r["ci_low"], r["ci_high"], kind))
        rows.append(cells)
    weeks = reading_weeks(res.timeseries)
    censored = censored_note(res) if dropped else ""
    if not dropped and CENSORED_FLAG in s.columns and not s[CENSORED_FLAG].all():
        reached = int(s[CENSORED_FLAG].sum())
        censored = (
            f"<p class='muted'>Weeks to 50% adoption is censored at the run length: "
            f"half the schools adopted in only {reached} of {len(s)} runs, so the "
            "value understates the time where it was not reached.</p>"
        )
    return (
        "<p>What each scenario achieved: mean over its replicate runs with a 95% confidence "
        "interval (Student t over independent replicates).</p>"
        + table(
            ["Scenario", "Runs", *(weeks.label(h[1]) for h in present)],
            rows,
            numeric=list(range(1, 2 + len(present))),
            caption="Headline outcomes",
        )
        + more(len(names))
        + censored
        + starting_point(res)
    )


def starting_point(res: Results) -> str:
    """Week 0 across the scenarios of a sweep: what is the same (the schools: every arm
    starts from the same world), and what a structure chose (who is in the network)."""
    if len(res.scenarios) < 2:
        return ""
    same = week0_spread(res, SAME_AT_START)
    chosen = week0_spread(res, CHOSEN_AT_START)
    if not same:
        return ""
    equal = [START_LABELS[c] for c, d in same.items() if d <= 1e-12]
    differ = [c for c, d in same.items() if d > 1e-12]
    parts = []
    if not differ:
        parts.append(
            "<p><b>Week 0.</b> Every scenario starts from the same schools: replicate r of "
            "every scenario draws the schools, their capacities and the first adopters from "
            f"the same seed, so at week 0 the {', '.join(equal)} are equal in every scenario, "
            "replicate by replicate."
        )
    else:
        names = ", ".join(f"{START_LABELS[c]} (by up to {fmt(same[c], 'num3')})" for c in differ)
        parts.append(
            f"<p class='note'><b>Week 0.</b> The scenarios do not all start alike: {esc(names)} "
            "differ at week 0 within a replicate. A scenario that changes the schools "
            "themselves (their number, countries, initial capacities or first adopters) starts "
            "from another world; its differences from the baseline include that start."
        )
    moved = [START_LABELS[c] for c, d in chosen.items() if d > 1e-12]
    if moved:
        ts = res.timeseries
        members = ts[ts["step"] == 0].groupby("scenario", sort=False)["members"].mean()
        shown = listed(
            [f"{n} {fmt(v, 'int')}" for n, v in members.items()], "in timeseries.parquet", 8
        )
        parts.append(
            f" What differs at week 0 is what a structure chooses, who is in the network: "
            f"{', '.join(moved)} (network members at week 0: {esc(shown)}). These are not "
            "effects of the programme.</p>"
        )
    else:
        parts[-1] += "</p>"
    return "".join(parts)


def provenance(res: Results) -> str:
    m = res.manifest
    versions = m.get("versions") or {}
    commit = m.get("git_commit")
    dirty = m.get("git_dirty")
    code = (
        f"{commit}{' (with uncommitted changes)' if dirty else ''}"
        if commit
        else "not run from a git work tree"
    )
    rows = [
        ("Results directory", str(res.path)),
        ("Created (UTC)", m.get("created_utc")),
        ("Command", m.get("command_line")),
        ("Executor", m.get("executor")),
        ("Root seed", m.get("root_seed")),
        ("Replicates per scenario", replicates_text(res)),
        ("Weeks", m.get("steps")),
        (
            "Scenario hash" if not res.is_sweep else "Experiment hash",
            m.get("scenario_hash") if not res.is_sweep else m.get("experiment_hash"),
        ),
        ("Source file", m.get("source_path") or "-"),
        ("Code version (git commit)", code),
        ("Runs", f"{len(res.runs)} ({int(runs_by_scenario(res)['failed'].sum())} failed)"),
        ("Package versions", ", ".join(f"{k} {v}" for k, v in versions.items() if v)),
    ]
    return (
        "<p>Everything needed to reproduce these results: the same package versions, scenario "
        "and root seed give bit-identical runs (replicate r uses the r-th child of the root "
        "seed).</p>" + table(None, rows, caption="From manifest.json")
    )
