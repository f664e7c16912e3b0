"""``compare`` of a probabilistic sensitivity analysis: net benefit, acceptability, EVPI.

Called by ``experiment_commands.compare`` when the results are a PSA (an experiment with
``[uncertainty]`` draws). It prints and writes the tables of ``Results.psa``: psa.parquet,
ceac.parquet, evppi.parquet, and psa_budget.parquet with a budget.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from rich.console import Console

from mensi_sim.cli.common import at_the_horizon, fail, fmt, simple_table, user_errors
from mensi_sim.results import Results


def psa_verdict(table: pd.DataFrame, wtp: float) -> str:
    """The PSA's verdict at ``wtp`` in one sentence, with its probability."""
    from mensi_sim.analysis.verdicts import VERDICT_PROBABILITY

    best = table[table["verdict"] != ""]
    if best.empty:
        return "no option"
    r = best.iloc[0]
    ranked = table.sort_values("p_best", ascending=False)
    text = (
        f"at {fmt(wtp, 'eur')} per additional adopting school, {r['option']} has the largest "
        f"expected net benefit; it is best in {r['p_best']:.0%} of the draws"
    )
    if r["verdict"] == "best":
        return text + f" (firm: >= {VERDICT_PROBABILITY:.0%})"
    runner = ranked[ranked["option"] != r["option"]].iloc[0]
    return (
        text
        + f", below the {VERDICT_PROBABILITY:.0%} needed to call it better; {runner['option']} "
        f"is best in {runner['p_best']:.0%}: not a firm recommendation"
    )


def compare_psa(
    res: Results,
    console: Console,
    *,
    baseline: str | None,
    perspective: str,
    wtp: float | None,
) -> None:
    """Print and write a PSA's tables."""
    from mensi_sim.analysis.conclusions import budget_verdict, manifest_priors, psa_conclusions
    from mensi_sim.analysis.cost_effectiveness import PERSPECTIVES, sizes_mixed
    from mensi_sim.analysis.psa import psa_at_budget, psa_frame, ranking_changes
    from mensi_sim.errors import ResultsError

    try:
        base = res.baseline_for(baseline)
        tables = res.psa(base, wtp=wtp, perspective=perspective)
    except ResultsError as exc:
        raise fail(f"--baseline: {exc}") from None
    info = res.manifest["psa"]
    table, curve, vi = tables["psa"], tables["ceac"], tables["evppi"]
    wtp = float(table["wtp"].iloc[0])
    reps = int(res.summary.groupby("scenario").size().min())
    console.print(
        f"PSA: {len(info['options'])} options x {table['draws'].iloc[0]} parameter draws "
        f"({info['source']}: {', '.join(info['parameters'])}) x {reps} replicate(s) per draw; "
        f"options paired by draw and random numbers; {perspective} cost "
        f"({PERSPECTIVES[perspective]}); effect: schools adopted {at_the_horizon(res)}",
        soft_wrap=True,
    )
    console.print(
        f"per option, over the draws (95% range = 2.5th-97.5th percentile: parameter "
        f"uncertainty); INB = incremental net benefit against {base!r} at "
        f"{fmt(wtp, 'eur')} per additional adopting school",
        soft_wrap=True,
    )
    t = simple_table(
        "option",
        "mean cost",
        "Δ adopters [95% range]",
        "INB [95% range]",
        "P(INB>0)",
        "P(best)",
        "P(frontier)",
        "frontier (expected values)",
        "frontier ICER",
    )
    for _, r in table.iterrows():
        t.add_row(
            r["option"],
            fmt(r["mean_cost"], "eur"),
            f"{fmt(r['delta_effect'], 'num1')} [{fmt(r['delta_effect_low'], 'num1')}, "
            f"{fmt(r['delta_effect_high'], 'num1')}]",
            f"{fmt(r['inb'], 'eur')} [{fmt(r['inb_low'], 'eur')}, {fmt(r['inb_high'], 'eur')}]",
            "-" if r["option"] == base else f"{r['p_inb_positive']:.2f}",
            f"{r['p_best']:.2f}",
            f"{r['p_frontier']:.2f}",
            r["frontier"],
            fmt(r["frontier_icer"], "eur") if r["frontier_icer"] == r["frontier_icer"] else "-",
        )
    console.print(t)
    console.print(
        "acceptability frontier (the option with the largest expected net benefit) and EVPI"
    )
    grid = sorted(curve["wtp"].unique())
    shown = sorted({grid[int(i)] for i in np.linspace(0, len(grid) - 1, 6).round()} | {wtp})
    t = simple_table("willingness to pay", "choose", "P(best)", "EVPI per run", "EVPI in schools")
    for w in shown:
        part = curve[curve["wtp"] == w]
        chosen = part[part["on_frontier"]].iloc[0]
        t.add_row(
            fmt(w, "eur"),
            chosen["option"],
            f"{chosen['p_best']:.2f}",
            fmt(chosen["evpi"], "eur"),
            fmt(chosen["evpi"] / w, "num1") if w else "-",
        )
    console.print(t)
    console.print(
        f"value of information at {fmt(wtp, 'eur')} (EVPPI, Strong & Oakley regression; "
        "'all' = every parameter, the noise-free EVPI)",
        soft_wrap=True,
    )
    t = simple_table("group", "EVPPI per run", "in schools", "share of EVPI")
    ordered = vi.sort_values("evppi", ascending=False)
    for _, r in ordered.iterrows():
        share = r["share_of_evpi"]
        t.add_row(
            r["group"],
            fmt(r["evppi"], "eur"),
            fmt(r["evppi_schools"], "num1"),
            "-" if share != share else f"{share:.0%}",
        )
    console.print(t)
    # the groups' parameters as lines, not a column: a long list would push the table
    # past the terminal's width and cut the group names
    for _, r in ordered.iterrows():
        if r["group"] != "all":
            console.print(f"  {r['group']}: {r['parameters']}", soft_wrap=True)
    console.print(f"verdict: {psa_verdict(table, wtp)}", soft_wrap=True)
    frame = psa_frame(res.summary, res.psa_design(), perspective=perspective)
    tables["ranking"] = ranking_changes(frame, base)
    with user_errors():
        for name, part in tables.items():
            res.write_table(name, part)
    ab = None
    amount = (res.manifest.get("budget") or {}).get("amount")
    if amount:
        groups = {}
        for e in res.manifest.get("scenarios", []):
            if e.get("option") is not None and e.get("option") != base:
                groups[e["option"]] = str(e.get("group") or e.get("structure"))
        ab = psa_at_budget(frame, groups, float(amount), base)
        console.print(
            f"at a budget of {fmt(amount, 'eur')} per run ({perspective} cost, expected over "
            "the draws): additional adopting schools against the baseline [95% range over "
            "draws], P(most) = share of draws in which the group achieves the most",
            soft_wrap=True,
        )
        t = simple_table("group", "sizes mixed", "spent", "Δ adopters [95% range]", "P(most)")
        for _, r in ab.iterrows():
            mix = sizes_mixed(r)
            t.add_row(
                str(r["group"]),
                mix,
                fmt(r["spent"], "eur"),
                f"{fmt(r['difference'], 'num1')} [{fmt(r['difference_low'], 'num1')}, "
                f"{fmt(r['difference_high'], 'num1')}]",
                f"{r['p_most']:.2f}",
            )
        console.print(t)
        console.print(f"verdict at this budget: {budget_verdict(ab)}", soft_wrap=True)
        with user_errors():
            res.write_table("psa_budget", ab)
    found = psa_conclusions(
        table,
        curve,
        ranking=tables["ranking"],
        evppi=vi,
        budget=ab,
        **manifest_priors(res.manifest),
    )
    console.print("a ministry can conclude, under the model and these ranges:")
    for line in found.can:
        console.print(f"  - {line}", soft_wrap=True)
    console.print("it cannot conclude:")
    for line in found.cannot:
        console.print(f"  - {line}", soft_wrap=True)
    console.print(
        f"written: {res.path / 'psa.parquet'}, ceac.parquet, evppi.parquet, ranking.parquet",
        soft_wrap=True,
    )


def sensitivity_long(table: pd.DataFrame) -> pd.DataFrame:
    """The PSA's sensitivity indices in the long format of sensitivity.parquet."""
    return pd.DataFrame(
        {
            "method": "regression",
            "outcome": table["option"] + ": Δ " + table["outcome"].replace({"effect": "adopters"}),
            "parameter": table["parameter"],
            "index": "S1",
            "value": table["S1"],
            "conf": np.nan,
            "replications": np.nan,
            "noise_share": np.nan,
            "noise_warning": False,
            "noise_se": np.nan,
            "dummy": table["dummy"],
            "floor": table["floor"],
            "above_dummy": table["above_dummy"],
        }
    )


def sensitivity_psa(res: Results, console: Console) -> list[str]:
    """Print and write the sensitivity of a PSA design: first-order indices of each option's
    difference from the baseline per parameter (against the dummy and a permutation floor),
    and how often the ranking of the options changes across the draws. Returns warnings."""
    from mensi_sim.analysis.psa import psa_frame, psa_sensitivity, ranking_changes

    base = res.baseline_for(None)
    frame = psa_frame(res.summary, res.psa_design())
    table = psa_sensitivity(frame, res.psa_draws(), base)
    ranking = ranking_changes(frame, base)
    draws = int(ranking["draws"].iloc[0])
    console.print(
        f"sensitivity over {draws} draws of {len(res.psa_draws().columns) - 2} parameters "
        f"(+ the dummy): first-order index S1 of each option's additional adopting schools "
        f"against {base!r} (given-data regression estimator); * = above the dummy and the "
        "permutation noise floor",
        soft_wrap=True,
    )
    options = list(dict.fromkeys(table["option"]))
    params = list(dict.fromkeys(table["parameter"]))
    t = simple_table("parameter", *options)
    wide = table.set_index(["parameter", "option"])
    for p in params:
        cells = []
        for o in options:
            r = wide.loc[(p, o)]
            cells.append(f"{r['S1']:.3f}{'*' if r['above_dummy'] else ''}")
        t.add_row(p, *cells)
    floor = table.groupby("option", sort=False)["floor"].median()
    t.add_row("(noise floor, median)", *[f"{floor[o]:.3f}" for o in options])
    console.print(t)
    lead = ranking[ranking["expected_rank"] == 1].iloc[0]
    console.print(
        f"ranking of the options by additional adopting schools: on the means "
        f"{' > '.join(ranking.sort_values('expected_rank')['option'])}; the leader "
        f"({lead['option']}) changes in {lead['p_leader_changes']:.0%} of the draws, the whole "
        f"ranking in {lead['p_ranking_changes']:.0%}",
        soft_wrap=True,
    )
    t = simple_table("option", "rank on the means", "P(first)", "P(same rank)")
    for _, r in ranking.sort_values("expected_rank").iterrows():
        t.add_row(
            r["option"],
            str(int(r["expected_rank"])),
            f"{r['p_first']:.2f}",
            f"{r['p_rank_as_expected']:.2f}",
        )
    console.print(t)
    with user_errors():
        res.write_table("sensitivity", sensitivity_long(table))
        res.write_table("ranking", ranking)
    below = table[(table["parameter"] != "dummy") & ~table["above_dummy"]]
    notes = []
    if len(below):
        notes.append(
            f"{len(below)} of {len(table[table['parameter'] != 'dummy'])} indices are not above "
            "the dummy and the noise floor: indistinguishable from noise"
        )
    return notes
