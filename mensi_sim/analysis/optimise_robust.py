"""Robustness of an optimised front across parameter uncertainty: regret over a PSA draw set.

After the out-of-sample holdout, every design on the re-evaluated front and every shipped
programme it is compared with is run on the same parameter draws of a design file's
``[robustness]`` table (drawn like an experiment's ``[uncertainty]``,
``experiments.uncertainty``), with the same random numbers within a draw: draw d of every
design runs under the root seed ``draw_root_seed(robustness root seed, d)`` on replicates
``0 .. replications - 1`` (paired by draw, as in a PSA sweep). Per (design, draw) the value
is the mean over the draw's replicates of

- adoption at the horizon (``final_adoption_share``, more is better), and
- the net monetary benefit ``wtp x adopters_final - cost`` (EUR; cost: cash or total, the
  design's ``budget_kind``). Regret is a difference between designs within a draw, so
  the baseline of ``analysis.psa``'s incremental net benefit cancels out of it.

The regret of a design under a draw is the best value of any compared design under that
draw minus its own (0 for the draw's best). Each design's mean and largest regret, and
the share of draws in which it is best (P(best)), are reported; the minimax-regret design
has the smallest largest regret. A design is called robustly best only when P(best) >=
``verdicts.VERDICT_PROBABILITY`` (0.95), the package's standard for a firm verdict; else
the designs are not distinguishable across the draws. P(best) is over the draws' means,
so it holds each draw's replicate noise besides the parameter uncertainty (as a PSA's
P(best) does): more replicates per draw sharpen it. docs/EXPERIMENTS.md 7.7.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from mensi_sim.analysis.cost_effectiveness import EFFECT, cost_column
from mensi_sim.analysis.optimise_evaluate import ROBUSTNESS, Evaluator
from mensi_sim.analysis.optimise_front import regret, regret_by_draw
from mensi_sim.analysis.optimise_spec import Design
from mensi_sim.analysis.psa import psa_frame
from mensi_sim.analysis.verdicts import VERDICT_PROBABILITY, firmness
from mensi_sim.experiments.design import apply_overrides
from mensi_sim.experiments.uncertainty import draw_root_seed
from mensi_sim.scenario.schema import Scenario

ADOPTION = "final_adoption_share"
NET_BENEFIT = "net_benefit"
#: the measures of the regret table, each with its better side
MEASURES = {ADOPTION: "max", NET_BENEFIT: "max"}


def robustness_root_seed(design: Design) -> int:
    """The root seed the draws' runs derive from (default: the holdout's, fresh seeds)."""
    seed = design.spec.robustness.root_seed
    return design.spec.holdout_seed if seed is None else seed


def draw_name(name: str, draw: int, n_draws: int) -> str:
    """The scenario name of a design under one draw, ``<name>/draw-0007`` (as a PSA sweep)."""
    width = max(4, len(str(n_draws - 1)))
    return f"{name}/draw-{draw:0{width}d}"


def draw_scenarios(
    design: Design, scenarios: Mapping[str, Scenario]
) -> tuple[dict[str, Scenario], dict[str, int], pd.DataFrame]:
    """Every scenario under every draw of the design's ``[robustness]``.

    Returns:
        The scenarios by name, the root seed of each (draw d's for all of draw d), and the
        index: one row per (design, draw) with ``scenario`` (its name), ``design``,
        ``draw``, ``root_seed`` and each drawn parameter's value as the scenario holds it.
    """
    from mensi_sim.experiments.design import get_parameter

    draws, integer = design.draws, design.drawn_integer or {}
    assert draws is not None, "the design has no [robustness]"
    root = robustness_root_seed(design)
    seeds_of = [draw_root_seed(root, d) for d in range(draws.n)]
    out: dict[str, Scenario] = {}
    seeds: dict[str, int] = {}
    rows = []
    where = f"{design.source_path}: robustness"
    for name, scenario in scenarios.items():
        for d in range(draws.n):
            run_name = draw_name(name, d, draws.n)
            drawn = draws.overrides(d, integer)
            sc = apply_overrides(scenario, {**drawn, "name": run_name}, f"{where}: draw {d}")
            out[run_name] = sc
            seeds[run_name] = seeds_of[d]
            rows.append(
                {
                    "scenario": run_name,
                    "design": name,
                    "draw": d,
                    "root_seed": seeds_of[d],
                    **{p: get_parameter(sc, p) for p in draws.names},
                }
            )
    return out, seeds, pd.DataFrame(rows)


def draw_outcomes(
    summary: pd.DataFrame, index: pd.DataFrame, wtp: float, cost: str
) -> pd.DataFrame:
    """Per (design, draw): the means over the draw's replicates of adoption at the horizon
    and of the net benefit ``wtp x adopters_final - cost`` (``analysis.psa.psa_frame``)."""
    design = index.rename(columns={"design": "option"})[["scenario", "option", "draw"]]
    frame = psa_frame(summary, design, cost=cost, effect=EFFECT, outcomes=[ADOPTION])
    frame[NET_BENEFIT] = wtp * frame["effect"] - frame["cost"]
    return frame.rename(columns={"option": "design"})


def regret_tables(
    outcomes: pd.DataFrame, kinds: Mapping[str, str], wtp: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The regret table (one row per measure x design) and the regret per draw (one row
    per measure x design x draw) of the draw outcomes.

    The regret table's columns: ``measure``, ``design``, ``kind`` (design or shipped),
    ``wtp`` (EUR, of the net benefit; NaN for adoption), ``draws``, ``mean_value``,
    ``mean_regret``, ``max_regret``, ``p_best``, ``firmness`` (of P(best):
    ``verdicts.firmness``), ``robust`` (P(best) >= VERDICT_PROBABILITY) and ``minimax``
    (the minimax-regret design of the measure); rows of a measure minimax first.
    """
    tables, by_draw = [], []
    for measure, sense in MEASURES.items():
        long = outcomes[["design", "draw", measure]].rename(columns={measure: "value"})
        table = regret(long, sense)
        table.insert(0, "measure", measure)
        table.insert(2, "kind", table["design"].map(kinds))
        table.insert(3, "wtp", wtp if measure == NET_BENEFIT else np.nan)
        table["firmness"] = [firmness(p) for p in table["p_best"]]
        table["robust"] = table["p_best"] >= VERDICT_PROBABILITY
        table["minimax"] = np.arange(len(table)) == 0
        tables.append(table)
        per = regret_by_draw(long, sense)
        per.insert(0, "measure", measure)
        by_draw.append(per)
    return (
        pd.concat(tables, ignore_index=True),
        pd.concat(by_draw, ignore_index=True),
    )


def _regret_text(value: float, measure: str) -> str:
    if measure == ADOPTION:
        return f"{100 * value:.1f} pp"
    return f"EUR {value:,.0f}"


def measure_sentence(table: pd.DataFrame, measure: str) -> str:
    """The robustness verdict on one measure: the design best in at least 95% of the draws,
    or that none is (the designs are not distinguishable across the draws), with the
    minimax-regret choice."""
    part = table[table["measure"] == measure]
    what = (
        "adoption at the horizon"
        if measure == ADOPTION
        else f"net benefit at EUR {part['wtp'].iloc[0]:,.0f} per adopting school"
    )
    n = int(part["draws"].iloc[0])
    lead = part.sort_values(["p_best", "mean_regret"], ascending=[False, True], kind="mergesort")
    top = lead.iloc[0]
    minimax = part[part["minimax"]].iloc[0]
    label = "" if top["kind"] == "design" else "the shipped programme "
    if bool(top["robust"]):
        return (
            f"on {what}, {label}{top['design']} is best in {top['p_best']:.0%} of the {n} draws "
            f"(P(best) >= {VERDICT_PROBABILITY:.2f}), largest regret "
            f"{_regret_text(top['max_regret'], measure)}"
        )
    if minimax["max_regret"] == 0:
        choice = (
            f"the minimax-regret choice is {minimax['design']}: nothing beats it under any "
            "draw, but others tie with it under some"
        )
    else:
        choice = (
            f"the minimax-regret choice is {minimax['design']} (largest regret "
            f"{_regret_text(minimax['max_regret'], measure)}, mean "
            f"{_regret_text(minimax['mean_regret'], measure)})"
        )
    return (
        f"on {what}, no design or shipped programme is best in {VERDICT_PROBABILITY:.0%} of "
        f"the {n} draws (the most often best, {label}{top['design']}, in {top['p_best']:.0%}): "
        f"the designs are not distinguishable across the draws; {choice}"
    )


def robustness_sentence(table: pd.DataFrame, replications: int) -> str:
    """The robustness verdict of both measures in one sentence."""
    if table.empty:
        return "robustness: nothing was evaluated (no design and no shipped programme)"
    n = int(table["draws"].iloc[0])
    return f"across {n} parameter draws x {replications} replicates (paired by draw): " + "; ".join(
        measure_sentence(table, m) for m in MEASURES
    )


def evaluate_robustness(
    design: Design,
    evaluator: Evaluator,
    scenarios: Mapping[str, Scenario],
    kinds: Mapping[str, str],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, str]:
    """Run the scenarios (front designs and shipped programmes) on the design's draws and
    summarise their regret.

    Args:
        design: A design with ``[robustness]``.
        evaluator: The optimisation's evaluator (same executor, same store: resumable).
        scenarios: Name -> scenario, before the draws are applied.
        kinds: Name -> ``design`` or ``shipped``.

    Returns:
        The regret table, the regret per draw, the runs' summary rows (with ``design``,
        ``draw`` and each drawn parameter's value) and the verdict sentence.
    """
    spec = design.spec.robustness
    assert design.draws is not None and spec is not None, "the design has no [robustness]"
    runs, seeds, index = draw_scenarios(design, scenarios)
    summary = evaluator.evaluate(ROBUSTNESS, seeds, runs, range(spec.replications))
    complete = (
        summary.groupby("scenario")["replicate"].nunique().reindex(index["scenario"]).fillna(0)
        if len(summary)
        else pd.Series(0, index=index["scenario"])
    )
    # a design missing a replicate of a draw loses that draw (every design keeps the same
    # draws: regret_by_draw drops a draw any design lacks)
    keep = index[complete.to_numpy() >= spec.replications]
    summary = summary[summary["scenario"].isin(set(keep["scenario"]))] if len(summary) else summary
    assert design.uncertainty is not None
    wtp = design.uncertainty.wtp
    cost = cost_column("cash" if design.spec.constraints.budget_kind == "cash" else "total")
    if keep.empty:
        empty = pd.DataFrame()
        return empty, empty, summary, robustness_sentence(empty, spec.replications)
    outcomes = draw_outcomes(summary, keep, wtp, cost)
    table, per_draw = regret_tables(outcomes, kinds, wtp)
    params = index.drop(columns=["design", "draw"])
    recorded = summary.merge(index[["scenario", "design", "draw"]], on="scenario").merge(
        params.drop(columns="root_seed"), on="scenario"
    )
    recorded = recorded.sort_values(["scenario", "replicate"], kind="mergesort")
    recorded["draw"] = recorded["draw"].astype("Int64")  # stays whole beside other phases
    sentence = robustness_sentence(table, spec.replications)
    return table, per_draw, recorded.reset_index(drop=True), sentence
