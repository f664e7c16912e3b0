"""The sections on comparisons: paired differences, the cost-effectiveness ranking,
sensitivity indices; and the closing notes with the glossary.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from mensi_sim.errors import ResultsError
from mensi_sim.formats import fmt, with_ci
from mensi_sim.outcomes import CENSORED_OUTCOME
from mensi_sim.plotting.collect import FigureSpec
from mensi_sim.report.common import (
    MAX_ROWS,
    adoption_explanation,
    censored_note,
    cost_basis,
    differences,
    fully_censored,
    more,
    verdict_caveat,
)
from mensi_sim.report.html import esc, table
from mensi_sim.results import Results
from mensi_sim.results.display import reading_weeks


def comparison(res: Results, figures: str) -> str:
    ce = res.try_comparison()
    if ce is None or len(ce) < 2:
        why = (
            "a sample design compares parameter values, not schemes: see the sensitivity section"
            if res.is_sample_design
            else "the results hold a single scenario; run a sweep (mensi-sim sweep) to compare "
            "structures or incentive schemes"
        )
        return f"<p class='muted'>No comparison: {why}.</p>"
    base = res.baseline
    src = (
        "from comparison.parquet (mensi-sim compare)"
        if res.comparison_source == "file"
        else "computed from the summary"
    )
    present = differences(ce)
    dropped = fully_censored(res)
    present = [d for d in present if not (dropped and d[0] == CENSORED_OUTCOME)]
    rows = []
    for _, r in ce[ce["scenario"] != base].head(MAX_ROWS).iterrows():
        cells = [r["scenario"], int(r.get("n_pairs", 0))]
        for o, _, kind in present:
            text = with_ci(r[f"{o}_difference"], r[f"{o}_ci_low"], r[f"{o}_ci_high"], kind)
            sig = bool(r.get(f"{o}_significant", False))
            cells.append(f"<b>{esc(text)}</b>" if sig else esc(text))
        rows.append(cells)
    weeks = reading_weeks(res.timeseries)
    return (
        f"<p>Each scheme minus the baseline <b>{esc(base)}</b>, run by run: replicate r of every "
        "scenario uses the same random seed (the same schools and chance events), so the "
        "differences are paired and their 95% intervals narrow. <b>Bold</b>: significant after "
        "Holm's adjustment for the number of schemes compared (adjusted p &lt; 0.05; the "
        f"intervals themselves are unadjusted). {_costs_sentence(weeks.horizon)} "
        f"Differences {src}.</p>"
        + table(
            ["Scheme", "Pairs", *(weeks.label(d[1]) for d in present)],
            rows,
            numeric=list(range(1, 2 + len(present))),
            raw=True,
            caption=f"Paired differences from {base} (mean [95% CI])",
        )
        + more(len(ce) - 1)
        + (censored_note(res) if dropped else "")
        + fixed_budget(res)
        + f"<p class='note'>{esc(verdict_caveat(res))}</p>"
        + figures
    )


def _the_horizon(horizon: str) -> str:
    """``the horizon (week 156, the last simulated week)`` of a ``ReadingWeeks.horizon``
    (without a week: what the horizon is)."""
    return f"the horizon ({horizon + ', ' if horizon else ''}the last simulated week)"


def _costs_sentence(horizon: str) -> str:
    """That the costs are cumulative to the horizon."""
    return f"Costs are cumulative from week 0 to {_the_horizon(horizon)}."


def _budget_table(res: Results) -> pd.DataFrame | None:
    """The fixed-budget table: budget.parquet (``compare``), else ``at_budget`` of the
    experiment's ``[budget]``; None without a budget."""
    stored = res.tables.get("budget")
    if stored is not None and not stored.empty:
        return stored
    spec = res.manifest.get("budget") or {}
    if not spec.get("amount") or res.is_psa or res.baseline is None:
        return None
    from mensi_sim.analysis import at_budget

    try:
        return at_budget(
            res.summary,
            res.groups,
            float(spec["amount"]),
            res.baseline,
            perspective=spec.get("perspective") or "total",
        )
    except (KeyError, ValueError) as exc:
        res.notes.append(f"fixed budget: cannot compute ({' '.join(str(exc).split())})")
        return None


def fixed_budget(res: Results) -> str:
    """What each group achieves at the experiment's fixed budget (mixing the two sizes whose
    mean costs bracket it), and the verdict: the leader against the runner-up on their paired
    difference, or "not distinguishable" (``analysis.verdicts.budget_sentence``)."""
    from mensi_sim.analysis.cost_effectiveness import sizes_mixed
    from mensi_sim.analysis.verdicts import budget_sentence

    ab = _budget_table(res)
    if ab is None or ab.empty:
        return ""
    amount = float(ab["budget"].iloc[0])
    rows = []
    for group, part in ab.groupby("group", sort=False):
        first = part.iloc[0]
        mix = sizes_mixed(first)
        by = part.set_index("outcome")
        cells = [esc(group), esc(mix), esc(fmt(first["spent"], "eur"))]
        for outcome, kind in (("adopters_final", "signed1"), ("final_adoption_share", "dpct")):
            if outcome in by.index:
                r = by.loc[outcome]
                cells.append(esc(with_ci(r["difference"], r["ci_low"], r["ci_high"], kind)))
            else:
                cells.append("-")
        rows.append(cells)
    verdict = budget_sentence(res.summary, ab)
    cost = str(ab["cost"].iloc[0]) if "cost" in ab.columns else "total_cost"
    return (
        f"<h3>At a fixed budget of {esc(fmt(amount, 'eur'))}</h3>"
        "<p>Each group's sizes are mixed: the two whose mean costs "
        f"({esc(cost)}) bracket the budget, the larger in the share of the regions that "
        "spends the budget exactly (a group whose largest size costs less spends less). "
        f"Differences from {esc(str(res.baseline))}, replicate by replicate.</p>"
        + table(
            [
                "Group",
                "Sizes mixed",
                "Spent",
                "Additional adopting schools",
                "Adoption (difference)",
            ],
            rows,
            numeric=[2, 3, 4],
            raw=True,
            caption=f"At a budget of {fmt(amount, 'eur')} (mean [95% CI], paired)",
        )
        + (f"<p><b>Verdict:</b> {esc(_sentence(verdict))}</p>" if verdict else "")
    )


def _ranking(ce: pd.DataFrame, base: str | None) -> pd.DataFrame:
    front = ce[ce["frontier"] == "frontier"].sort_values("mean_cost", kind="mergesort")
    rest = ce[ce["frontier"] != "frontier"].copy()
    rest = rest.sort_values(["icer", "mean_cost"], na_position="last", kind="mergesort")
    return pd.concat([front, rest])


def _status_words(r: pd.Series) -> tuple[str, str]:
    """A scheme's frontier status as ``compare`` prints it, in two parts: the status its
    probability belongs to, and what follows the probability. "dominated by X (significant)"
    when X dominates it significantly; else "dominated", then "; by X on the means, not
    significant" (the probability counts dominance by any scheme)."""
    status = str(r["frontier"])
    if not status.startswith("dominated by "):
        return status, ""
    if bool(r.get("frontier_dominance_significant", False)):
        return f"{status} (significant)", ""
    other = status.removeprefix("dominated by ")
    return "dominated", f"; by {other} on the means, not significant"


def cost_effectiveness(res: Results) -> str:
    from mensi_sim.analysis.cost_effectiveness import icer_reading
    from mensi_sim.analysis.verdicts import firmness

    ce = res.try_comparison()
    if ce is None or len(ce) < 2 or "frontier" not in ce.columns:
        return (
            "<p class='muted'>No cost-effectiveness ranking: it needs several schemes and a "
            "baseline (a sweep of named scenarios).</p>"
        )
    base = res.baseline
    ranked = _ranking(ce, base)
    replicates = (
        int(ce["bootstrap_replicates"].iloc[0]) if "bootstrap_replicates" in ce.columns else None
    )
    rows, classes = [], []
    rank = 0
    for _, r in ranked.head(MAX_ROWS).iterrows():
        on = r["frontier"] == "frontier"
        rank += on
        reading = icer_reading(str(r.get("dominance", "")))
        if r["scenario"] == base:
            icer = "-"
        elif reading in ("dominant", "dominated"):  # the negative ratio means nothing
            why = "cheaper and better" if reading == "dominant" else "dearer and worse"
            icer = f"{reading} ({why})"
            if bool(r.get("dominance_significant", False)):
                icer += " (significant)"
        elif str(r.get("icer_note", "")).startswith("no difference"):
            icer = "undefined (no difference in adopters)"
        elif str(r.get("icer_note", "")).startswith("Fieller"):
            icer = with_ci(r["icer"], r["icer_ci_low"], r["icer_ci_high"], "eur")
        elif r.get("icer_set") == "two rays":
            icer = (
                f"{fmt(r['icer'], 'eur')} (interval is two rays: at most "
                f"{fmt(r['icer_excluded_low'], 'eur')} or at least "
                f"{fmt(r['icer_excluded_high'], 'eur')})"
            )
        else:
            icer = f"{fmt(r['icer'], 'eur')} (interval unbounded: any value)"
        if reading == "saving" and r["scenario"] != base:
            icer = f"saves {icer} per adopting school forgone"
        step = r.get("frontier_icer")
        status = str(r["frontier"])
        badge = "good" if on else "bad" if status.startswith(("dominated", "extendedly")) else ""
        shown, after = _status_words(r)
        rows.append(
            (
                str(rank) if on else "-",
                esc(r["scenario"]),
                esc(fmt(r["mean_cost"], "eur")),
                esc(
                    with_ci(
                        r["delta_effect"],
                        r["delta_effect_ci_low"],
                        r["delta_effect_ci_high"],
                        "signed1",
                    )
                ),
                esc(
                    with_ci(
                        r["delta_cost"], r["delta_cost_ci_low"], r["delta_cost_ci_high"], "deur"
                    )
                ),
                esc(icer),
                esc(fmt(step, "eur") if on and r["scenario"] != base else "-"),
                f'<span class="badge {badge}">{esc(shown)}</span>'
                + (
                    f" (P {r['p_status']:.2f}, {esc(firmness(r['p_status'], replicates))})"
                    if "p_status" in r and r["scenario"] != base and r["p_status"] == r["p_status"]
                    else ""
                )
                + esc(after),
            )
        )
        classes.append("frontier" if on else "")
    path = ranked[ranked["frontier"] == "frontier"]
    steps = []
    prev = None
    for _, r in path.iterrows():
        if prev is not None:
            steps.append(
                f"from {esc(prev)} to <b>{esc(r['scenario'])}</b>: "
                f"{esc(fmt(r.get('frontier_icer'), 'eur'))} per additional adopting school"
            )
        prev = r["scenario"]
    reading = (
        "<p>Reading the frontier: " + "; ".join(steps) + ". A ministry willing to pay at least "
        "that much per additional adopting school should move to the next scheme on the "
        "frontier; schemes off the frontier buy fewer adopting schools for the money.</p>"
        if steps
        else ""
    )
    basis = cost_basis(ce)
    horizon = reading_weeks(res.timeseries).horizon
    return (
        "<p>Schemes ranked for value for money. Effect: additional schools that have adopted "
        f"the practice at {esc(_the_horizon(horizon))}, against <b>{esc(base)}</b>. Cost: "
        f"{esc(basis)}, cumulative from week 0 to the horizon. ICER (incremental "
        f"cost-effectiveness ratio): extra {esc(basis)} per additional adopting school, with "
        "Fieller's 95% interval. The <i>frontier</i> holds the schemes that no other scheme, "
        "or mix of two, beats; ranks 1, 2, ... follow the frontier in order of cost.</p>"
        + table(
            [
                "Rank",
                "Scheme",
                f"Mean cost: {basis}",
                "Additional adopting schools",
                "Incremental cost",
                "Cost per additional adopting school (ICER)",
                "ICER against the previous frontier scheme",
                "Status (P over bootstrap resamples of the replicates)",
            ],
            rows,
            numeric=[0, 2, 3, 4, 5, 6],
            raw=True,
            row_classes=classes,
            caption="Cost-effectiveness ranking (frontier first, then by ICER)",
        )
        + reading
        + more(len(ranked))
    )


def sensitivity(res: Results, figures: str) -> str:
    sv = res.tables.get("sensitivity")
    if sv is None or sv.empty:
        return (
            "<p class='muted'>No sensitivity analysis in these results (mensi-sim "
            "sensitivity writes sensitivity.parquet).</p>"
        )
    parts = [
        "<p>How much each uncertain parameter drives each outcome, over the ranges "
        "sampled. ± is the half-width of the 95% bootstrap interval.</p>"
    ]
    for (method, outcome), part in sv.groupby(["method", "outcome"], sort=False):
        wide = part.pivot(index="parameter", columns="index", values="value")
        conf = part.pivot(index="parameter", columns="index", values="conf")
        cols = ["mu_star", "sigma"] if method == "morris" else ["S1", "ST"]
        cols = [c for c in cols if c in wide.columns]
        wide = wide.sort_values(cols[0] if method == "morris" else cols[-1], ascending=False)
        rows = []
        for name, r in wide.iterrows():
            cells = [name]
            for c in cols:
                cf = conf.loc[name, c] if c in conf.columns else math.nan
                cells.append(f"{r[c]:.3g}" + ("" if pd.isna(cf) else f" ± {cf:.2g}"))
            rows.append(cells)
        noise = part["noise_share"].iloc[0] if "noise_share" in part.columns else math.nan
        warn = bool(part["noise_warning"].iloc[0]) if "noise_warning" in part.columns else False
        cap = (
            f"{method.capitalize()}: {outcome} (replicate noise {fmt(noise, 'pct')} of the "
            "variance of the point means" + ("; unreliable, add replications)" if warn else ")")
        )
        parts.append(
            table(["Parameter", *cols], rows, numeric=list(range(1, 1 + len(cols))), caption=cap)
        )
    return "".join(parts) + figures


GLOSSARY = (
    (
        "Capacity",
        "A school's capacity for digital innovation on a 0-1 scale; a SELFIE-style "
        "self-reflection score s on the 1-5 scale corresponds to c = (s - 1) / 4.",
    ),
    # "Adoption": how schools adopted in these results (``adoption_explanation``)
    (
        "Equity gap",
        "Mean capacity of schools with few disadvantaged students minus that of "
        "schools with many; above zero, disadvantaged schools lag behind.",
    ),
    (
        "Replicate",
        "One run of the model with its own random draws; results vary between "
        "replicates, so every number is a mean over them.",
    ),
    (
        "95% confidence interval",
        "The range that, over repeated sets of replicates, would "
        "contain the model's long-run mean 95% of the time. It measures simulation noise, not "
        "uncertainty in the assumptions (see the sensitivity section for that).",
    ),
    (
        "Paired difference",
        "Scheme minus baseline, computed replicate by replicate with the "
        "same random numbers, so that chance affects both alike.",
    ),
    # "ICER": which cost, and the week adoption is read at (``_glossary``)
    ("Dominated", "Another scheme costs no more and achieves no less (one of them strictly)."),
    ("Extendedly dominated", "A mix of two other schemes would achieve more for the same cost."),
    (
        "Cost-effectiveness frontier",
        "The schemes that are not dominated in either sense, in "
        "order of cost; the ICER between neighbours on it is the price of the next step up.",
    ),
    (
        "Morris mu*, sigma",
        "Screening of parameters: mu* is the mean absolute change of an "
        "outcome when a parameter moves, sigma the spread of those changes (non-linearity, "
        "interactions).",
    ),
    (
        "Sobol S1, ST",
        "Shares of an outcome's variance due to a parameter alone (S1) and "
        "together with its interactions (ST).",
    ),
)


def _glossary(res: Results) -> list[tuple[str, str]]:
    """GLOSSARY with the entries that depend on the results: Adoption (the rule the run
    used) after Capacity, ICER (the cost the comparison counts, adoption at the horizon)
    after Paired difference."""
    ce = res.try_comparison()
    basis = cost_basis(ce) if ce is not None else cost_basis(pd.DataFrame())
    horizon = reading_weeks(res.timeseries).horizon
    icer = (
        f"Incremental cost-effectiveness ratio: extra {basis} divided by the additional "
        f"schools adopted at {_the_horizon(horizon)}, both against the baseline."
    )
    entries = []
    for term, text in GLOSSARY:
        entries.append((term, text))
        if term == "Capacity":
            entries.append(("Adoption", adoption_explanation(res)))
        elif term == "Paired difference":
            entries.append(("ICER", icer))
    return entries


def reading_notes(res: Results) -> str:
    notes = "".join(f"<li>{esc(n)}</li>" for n in res.notes)
    items = "".join(f"<dt>{esc(t)}</dt><dd>{esc(d)}</dd>" for t, d in _glossary(res))
    horizon = reading_weeks(res.timeseries).horizon
    return (
        (
            f"<div class='note'><b>Left out of this report:</b><ul>{notes}</ul></div>"
            if notes
            else ""
        )
        + "<p>The results come from an agent-based simulation (mensi_sim) in which schools "
        "are agents that meet, learn from one another, adopt the practice and incur costs, "
        "one week at a time. They show what follows from the stated assumptions, not a "
        f"forecast. Costs are in EUR, cumulative from week 0 to {esc(_the_horizon(horizon))}. "
        "<i>Cash</i> is "
        "what the programme pays (travel, platform, coordination, course fees, incentives); "
        "<i>staff time</i> is the schools' staff hours valued at their country's hour rate "
        "(an opportunity cost, not a payment); <i>total cost</i> is the two together.</p>"
        f"<dl class='glossary'>{items}</dl>"
    )


def figures_html(specs: Sequence[FigureSpec], res: Results) -> str:
    from mensi_sim.plotting.common import figure_bytes, figure_notes
    from mensi_sim.report.html import figure

    parts = []
    for spec in specs:
        try:
            fig = spec.make()
        except (ValueError, ResultsError) as exc:
            res.notes.append(f"figure {spec.name}: skipped ({' '.join(str(exc).split())})")
            continue
        # what the figure says of itself (drawn larger than asked: its rows did not fit)
        caption = " ".join([spec.caption, *(f"Note: {n}." for n in figure_notes(fig))])
        parts.append(figure(figure_bytes(fig, "png"), spec.title, caption, spec.name))
    return "".join(parts)


def _range(r: pd.Series, mid: str, low: str, high: str) -> str:
    return f"{r[mid]:+.1f} [{r[low]:+.1f}, {r[high]:+.1f}]"


def uncertainty(res: Results, figures: str) -> str:
    """A PSA: net benefit and the verdict probabilities per option, the acceptability
    frontier, EVPPI per group, the budget over the draws, the ranking's stability."""
    if not res.is_psa:
        return (
            "<p class='muted'>Not a probabilistic sensitivity analysis: the intervals above "
            "cover replicate noise only. An experiment with [uncertainty] draws (mensi-sim "
            "sweep, then compare) gives the probability of each verdict over the uncertain "
            "parameters." + (f" {esc(verdict_caveat(res))}" if res.is_sweep else "") + "</p>"
        )
    t = res.tables.get("psa")
    if t is None or t.empty:
        return "<p class='muted'>Run mensi-sim compare on these results for the PSA tables.</p>"
    from mensi_sim.analysis.conclusions import budget_verdict
    from mensi_sim.analysis.cost_effectiveness import sizes_mixed
    from mensi_sim.analysis.verdicts import VERDICT_PROBABILITY

    wtp = float(t["wtp"].iloc[0])
    rows = [
        (
            esc(r["option"]),
            esc(fmt(r["mean_cost"], "eur")),
            esc(_range(r, "delta_effect", "delta_effect_low", "delta_effect_high")),
            esc(
                f"{fmt(r['inb'], 'eur')} [{fmt(r['inb_low'], 'eur')}, {fmt(r['inb_high'], 'eur')}]"
            ),
            "-" if r["p_inb_positive"] != r["p_inb_positive"] else f"{r['p_inb_positive']:.2f}",
            f"{r['p_best']:.2f}",
            f"{r['p_frontier']:.2f}",
            esc(r["frontier"]),
            esc(fmt(r["frontier_icer"], "eur"))
            if r["frontier_icer"] == r["frontier_icer"]
            else "-",
        )
        for _, r in t.iterrows()
    ]
    parts = [
        f"<p>Every option was run on the same {int(t['draws'].iloc[0])} draws of the uncertain "
        "parameters, with the same random numbers within a draw. Ranges in brackets hold 95% "
        "of the draws (parameter uncertainty, not a confidence interval). Net benefit = "
        f"{esc(fmt(wtp, 'eur'))} x additional adopting schools - cost. An option is called "
        f"better only when it is best in at least {VERDICT_PROBABILITY:.0%} of the draws.</p>",
        table(
            [
                "Option",
                "Mean cost",
                "Additional adopting schools",
                "Incremental net benefit",
                "P(INB > 0)",
                "P(best)",
                "P(on frontier)",
                "Frontier (expected values)",
                "Frontier ICER",
            ],
            rows,
            numeric=[1, 2, 3, 4, 5, 6, 8],
            raw=True,
            caption=f"Net benefit at {fmt(wtp, 'eur')} per additional adopting school",
        ),
    ]
    vi = res.tables.get("evppi")
    if vi is not None and not vi.empty:
        parts.append(
            table(
                ["Group", "Parameters", "EVPPI per run", "In adopting schools", "Share of EVPI"],
                [
                    (
                        r["group"],
                        r["parameters"],
                        fmt(r["evppi"], "eur"),
                        f"{r['evppi_schools']:.1f}",
                        "-"
                        if r["share_of_evpi"] != r["share_of_evpi"]
                        else f"{r['share_of_evpi']:.0%}",
                    )
                    for _, r in vi.sort_values("evppi", ascending=False).iterrows()
                ],
                numeric=[2, 3, 4],
                caption="Expected value of partial perfect information (Strong & Oakley "
                "regression; 'all' is the noise-free EVPI, 'dummy' the estimator's own bias)",
            )
        )
    pb = res.tables.get("psa_budget")
    if pb is not None and not pb.empty:
        parts.append(
            table(
                [
                    "Group",
                    "Sizes mixed",
                    "Spent (expected)",
                    "Additional adopting schools",
                    "P(most)",
                ],
                [
                    (
                        r["group"],
                        sizes_mixed(r),
                        fmt(r["spent"], "eur"),
                        _range(r, "difference", "difference_low", "difference_high"),
                        f"{r['p_most']:.2f}",
                    )
                    for _, r in pb.iterrows()
                ],
                numeric=[2, 3, 4],
                caption=f"At a fixed budget of {fmt(float(pb['budget'].iloc[0]), 'eur')}",
            )
        )
        parts.append(f"<p>{esc(_sentence(budget_verdict(pb)))}</p>")
    rk = res.tables.get("ranking")
    if rk is not None and not rk.empty:
        r0 = rk.iloc[0]
        parts.append(
            f"<p>The leader on the means changes in {r0['p_leader_changes']:.0%} of the draws, "
            f"the whole ranking in {r0['p_ranking_changes']:.0%}.</p>"
        )
    parts.append(conclusions_html(res))
    return "".join(parts) + figures


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def conclusions_html(res: Results) -> str:
    """What a ministry can and cannot conclude from the PSA (``analysis.conclusions``), as
    two lists; empty without the PSA tables of ``compare``."""
    from mensi_sim.analysis.conclusions import manifest_priors, psa_conclusions

    t, curve = res.tables.get("psa"), res.tables.get("ceac")
    if t is None or t.empty or curve is None or curve.empty:
        return ""
    found = psa_conclusions(
        t,
        curve,
        ranking=res.tables.get("ranking"),
        evppi=res.tables.get("evppi"),
        budget=res.tables.get("psa_budget"),
        **manifest_priors(res.manifest),
    )

    def items(lines: list[str]) -> str:
        return "".join(f"<li>{esc(line)};</li>" for line in lines[:-1]) + (
            f"<li>{esc(lines[-1])}.</li>" if lines else ""
        )

    return (
        "<h3>What a ministry can and cannot conclude</h3>"
        "<p><b>A ministry can conclude</b>, under the model and these ranges:</p>"
        f"<ul>{items(found.can)}</ul>"
        f"<p><b>A ministry cannot conclude:</b></p><ul>{items(found.cannot)}</ul>"
    )
