"""The report section of an optimisation, and the page ``mensi-sim optimise`` writes.

``optimisation_section(result, png)`` is one HTML section body (the verdict, the front
table with each design in words, the paired differences against the shipped programmes,
how noise was handled, the figure, and the regret across the ``[robustness]`` draws when
there are any); ``write_optimisation_report(result, out)`` writes it
as a self-contained ``report.html`` in the optimisation's folder. It reads the tables of
``mensi_sim.analysis.optimise.OptimiseResult`` and computes nothing.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pandas as pd

from mensi_sim.analysis.optimise import ADOPTION, OptimiseResult
from mensi_sim.formats import fmt, with_ci
from mensi_sim.outcomes import format_of
from mensi_sim.report.common import COST_BASIS
from mensi_sim.report.html import esc, figure, page, table

REPORT_NAME = "report.html"


def _ci_cell(row: pd.Series, outcome: str, kind: str) -> str:
    return with_ci(
        row[f"{outcome}_mean"], row[f"{outcome}_ci_low"], row[f"{outcome}_ci_high"], kind
    )


def front_rows(result: OptimiseResult) -> list[list[str]]:
    """The out-of-sample table: one row per design and shipped programme."""
    objectives = list(result.design.spec.objectives)
    rows = []
    ordered = result.front.sort_values(["kind", f"{ADOPTION}_mean"], ascending=[True, False])
    for _, row in ordered.iterrows():
        flags = [
            name
            for name, on in (("knee", row["knee"]), ("best within budget", row["budget_best"]))
            if on
        ]
        cells = [
            row["scenario"] + (f" ({', '.join(flags)})" if flags else ""),
            row["kind"],
            _ci_cell(row, "spend_per_year", "eur"),
        ]
        cells += [_ci_cell(row, o, format_of(o).kind) for o in objectives]
        cells += [
            "yes" if row["feasible"] else "no",
            str(row["beats"]).replace(",", ", ") if row["kind"] == "design" else "",
            row["design"],
        ]
        rows.append(cells)
    return rows


def paired_rows(result: OptimiseResult, design: str) -> list[list[str]]:
    """The paired differences of one design against each shipped programme."""
    part = result.paired[result.paired["design"] == design]
    rows = []
    for programme, group in part.groupby("programme", sort=False):
        cells = [programme]
        for outcome in (
            "final_adoption_share",
            "total_cash",
            "total_staff_time",
            "final_equity_gap",
        ):
            r = group[group["outcome"] == outcome]
            if r.empty:
                cells.append("n/a")
                continue
            r = r.iloc[0]
            kind = format_of(outcome).change_kind
            star = "*" if r["significant"] else ""
            low, high = fmt(r["ci_low"], kind), fmt(r["ci_high"], kind)
            cells.append(f"{fmt(r['difference'], kind)}{star} [{low}, {high}]")
        rows.append(cells)
    return rows


def optimisation_section(result: OptimiseResult, png: bytes | None = None) -> str:
    """The body of the report's optimisation section (HTML)."""
    m, spec = result.manifest, result.design.spec
    budget = result.budget
    objectives = list(spec.objectives)
    stability = ", ".join(
        f"{s['stage']}: {s['replications']} replicates, stability {s['stability']:.2f}"
        for s in m["stability"]
    )
    parts = [
        f'<p class="lead">{esc(m["verdict"][:1].upper() + m["verdict"][1:])}.</p>',
        "<p>"
        + esc(
            f"Design {result.design.name}: {len(m['spec']['levers'])} levers, objectives "
            f"{', '.join(f'{o} ({s})' for o, s in spec.objectives.items())}"
            + (
                f", budget EUR {budget:,.0f} per programme year ({spec.constraints.budget_kind})"
                if budget is not None
                else ""
            )
            + f". {m['algorithm'].upper()} (pymoo), population {m['search']['population']}, "
            f"{m['search']['generations']} generations, {m['n_candidates']} designs tried on "
            f"{m['replications']} common replicates each (root seed {spec.root_seed}); the front "
            f"re-evaluated on {m['holdout_replications']} fresh replicates (root seed "
            f"{m['holdout_root_seed']}) beside the shipped programmes."
        )
        + "</p>",
        "<p>"
        + esc(
            "Replicates: the front of the first generation is bootstrapped over replicates "
            "(one resample for every design, keeping the pairing); the replicates double until "
            f"the mean Jaccard similarity of the resampled fronts reaches {spec.search.stability} "
            f"(at most {spec.search.max_replications}). {stability}."
        )
        + "</p>",
    ]
    spend = COST_BASIS[spec.constraints.budget_kind]
    if png is not None:
        parts.append(
            figure(
                png,
                f"Adoption at the horizon against {spend} per programme year, coloured by equity",
                "Front designs and shipped programmes re-evaluated on fresh seeds (95% CIs); grey "
                "dots: every design the search tried (in sample).",
                "optimisation",
            )
        )
    headers = ["design", "kind", f"{spend} per programme year"]
    headers += [format_of(o).label for o in objectives]
    headers += ["within limits", "beats on adoption", "the design in words"]
    parts.append(
        table(
            headers,
            front_rows(result),
            numeric=list(range(2, 3 + len(objectives))),
            caption="Out of sample (fresh seeds): mean [95% CI]. 'beats on adoption': the shipped "
            "programmes whose adoption at the horizon the design exceeds with a paired 95% CI "
            "above 0.",
        )
    )
    chosen = result.chosen
    if chosen is None:
        return "".join(parts) + robustness_part(result)
    parts.append(
        f"<h3>{esc('The chosen design: ' + chosen['scenario'])}</h3><p>{esc(chosen['design'])}</p>"
    )
    parts.append(
        table(
            ["against", "adoption at the horizon", "cash", "staff time", "equity gap"],
            paired_rows(result, chosen["scenario"]),
            numeric=[1, 2, 3, 4],
            caption="Paired differences, chosen design minus programme, on the same fresh "
            "replicates (95% paired-t CI; * = CI excludes 0).",
        )
    )
    parts.append(robustness_part(result))
    return "".join(parts)


def robustness_rows(result: OptimiseResult) -> list[list[str]]:
    """The regret table: one row per measure and design."""
    basis = COST_BASIS[result.design.spec.constraints.budget_kind]
    rows = []
    for _, row in result.robustness.iterrows():
        adoption = row["measure"] == ADOPTION
        kind, gap = ("pct", "pp") if adoption else ("eur", "eur")
        marks = [
            w for w, on in (("minimax regret", row["minimax"]), ("robust", row["robust"])) if on
        ]
        rows.append(
            [
                "adoption at the horizon"
                if adoption
                else f"net benefit at EUR {row['wtp']:,.0f} per school adopted at the horizon, "
                f"less the {basis}",
                row["design"] + (f" ({', '.join(marks)})" if marks else ""),
                row["kind"],
                fmt(row["mean_value"], kind),
                fmt(row["mean_regret"], gap).lstrip("+"),
                fmt(row["max_regret"], gap).lstrip("+"),
                f"{row['p_best']:.0%}",
            ]
        )
    return rows


def robustness_part(result: OptimiseResult) -> str:
    """The robustness subsection: the regret across the [robustness] draws, or a note that
    the design file asks for none."""
    m = result.manifest
    if result.robustness.empty:
        return (
            '<p class="note">'
            + esc(
                "Robustness across parameter uncertainty (the regret of each design over a "
                "PSA draw set) was not evaluated: the design file has no [robustness] table "
                "(docs/EXPERIMENTS.md 7.7)."
            )
            + "</p>"
        )
    text = m["robustness"]
    return (
        f"<h3>{esc('Robustness across parameter uncertainty')}</h3>"
        + f"<p>{esc(text[:1].upper() + text[1:])}.</p>"
        + "<p>"
        + esc(
            f"The front's designs and the shipped programmes on {m['robustness_draws']} draws "
            f"of {', '.join(m['robustness_parameters'])}, {m['robustness_replications']} "
            f"replicates each, with the same random numbers within a draw (root seed "
            f"{m['robustness_root_seed']}). The regret of a design under a draw is the best "
            "value any of them reaches under that draw minus its own; a design is called "
            "robust only when it is best in at least 95% of the draws."
        )
        + "</p>"
        + table(
            ["measure", "design", "kind", "mean", "mean regret", "max regret", "P(best)"],
            robustness_rows(result),
            numeric=[3, 4, 5, 6],
            caption="Per design, over the draws (each draw's value is the mean of its "
            "replicates): mean value, mean and largest regret, and the share of draws in "
            "which it is best (ties split).",
        )
    )


def write_optimisation_report(result: OptimiseResult, out: Path, png: bytes | None = None) -> Path:
    """Write ``report.html`` (the optimisation section as a page) into ``out``, atomically."""
    body = optimisation_section(result, png)
    html = page(
        f"Optimisation: {result.design.name}",
        result.design.spec.description or "who mentors whom, and how, under a budget",
        [("optimisation", "Optimised programme design", body)],
        esc(f"mensi_sim; design hash {result.manifest['design_hash']}"),
    )
    target = Path(out) / REPORT_NAME
    tmp = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        tmp.write_text(html, encoding="utf-8")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
