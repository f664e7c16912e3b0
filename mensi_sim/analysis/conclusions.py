"""What a ministry can and cannot conclude from a PSA: sentences made from its numbers.

``psa_conclusions`` reads the tables of a probabilistic sensitivity analysis
(``analysis.psa``: the per-option table, the acceptability curves, and optionally the
ranking changes, the EVPPI, the fixed-budget table and the priors) and returns two lists
of sentences with their probabilities. Nothing is hard-coded: every option named, every
share and every amount comes from the tables, and the rules are those of
``analysis.verdicts``: an option is named as better (best, achieving the most at a
budget, adding adopting schools) only when its probability over the draws reaches
``VERDICT_PROBABILITY``; below it the sentence says what cannot be concluded, with the
probability. ``budget_verdict`` is the fixed-budget table's verdict in one sentence.

    from mensi_sim.analysis.conclusions import psa_conclusions
    found = psa_conclusions(tables["psa"], tables["ceac"], ranking=ranking)
    found.can, found.cannot          # lists of sentences
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from mensi_sim.analysis.verdicts import VERDICT_PROBABILITY
from mensi_sim.formats import fmt

#: words in a prior's ``source`` that mark it as an assumption rather than evidence
ASSUMPTION_WORDS = ("assumption",)


@dataclass(frozen=True)
class Conclusions:
    """Sentences (plain text, no final full stop) a ministry can and cannot conclude."""

    can: list[str] = field(default_factory=list)
    cannot: list[str] = field(default_factory=list)


def _eur(x: float) -> str:
    return fmt(float(x), "eur")


def _share(p: float) -> str:
    return f"{p:.0%}"


def _names(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def adopters_sentences(table: pd.DataFrame) -> Conclusions:
    """Which programmes add adopting schools in at least ``VERDICT_PROBABILITY`` of the draws
    (``p_effect_positive``), and which cannot be said to."""
    base = str(table["baseline"].iloc[0])
    rows = table[table["option"] != base]
    if rows.empty or "p_effect_positive" not in rows.columns:
        return Conclusions()
    t = VERDICT_PROBABILITY
    sure = rows[rows["p_effect_positive"] >= t]
    unsure = rows[rows["p_effect_positive"] < t]
    can, cannot = [], []
    if len(sure):
        verb = "adds" if len(sure) == 1 else "add"
        who = "every programme adds" if unsure.empty else f"{_names(sure['option'])} {verb}"
        probs = ", ".join(f"{r['option']} {r['p_effect_positive']:.2f}" for _, r in sure.iterrows())
        can.append(
            f"{who} adopting schools against {base} in at least {_share(t)} of the draws "
            f"(share of draws with more adopting schools: {probs})"
        )
    for _, r in unsure.iterrows():
        cannot.append(
            f"that {r['option']} adds adopting schools: it does in {_share(r['p_effect_positive'])}"
            f" of the draws, below {_share(t)}"
        )
    return Conclusions(can, cannot)


def frontier_segments(curve: pd.DataFrame) -> list[dict[str, Any]]:
    """The acceptability frontier as runs of consecutive willingness-to-pay values with the
    same chosen option: ``option``, ``low``, ``high`` (EUR), ``p_low``, ``p_high`` (its
    smallest and largest probability of being best over the run)."""
    chosen = curve[curve["on_frontier"]].sort_values("wtp", kind="mergesort")
    runs: list[dict[str, Any]] = []
    for _, r in chosen.iterrows():
        if runs and runs[-1]["option"] == r["option"]:
            run = runs[-1]
            run["high"] = float(r["wtp"])
            run["p_low"] = min(run["p_low"], float(r["p_best"]))
            run["p_high"] = max(run["p_high"], float(r["p_best"]))
        else:
            p = float(r["p_best"])
            runs.append(
                {
                    "option": r["option"],
                    "low": float(r["wtp"]),
                    "high": float(r["wtp"]),
                    "p_low": p,
                    "p_high": p,
                }
            )
    return runs


def _p_range(run: Mapping[str, Any]) -> str:
    lo, hi = run["p_low"], run["p_high"]
    return _share(lo) if f"{lo:.0%}" == f"{hi:.0%}" else f"{lo:.0%}-{hi:.0%}"


def frontier_sentences(table: pd.DataFrame, curve: pd.DataFrame) -> Conclusions:
    """The acceptability frontier over the curves' willingness-to-pay range, and whether the
    option chosen at the PSA's own willingness to pay is a firm winner."""
    t = VERDICT_PROBABILITY
    wtp = float(table["wtp"].iloc[0])
    runs = frontier_segments(curve)
    can, cannot = [], []
    if len(runs) == 1:
        r = runs[0]
        can.append(
            f"{r['option']} has the largest expected net benefit at every willingness to pay "
            f"from {_eur(r['low'])} to {_eur(r['high'])} per additional adopting school (the "
            f"acceptability frontier); it is best in {_p_range(r)} of the draws there"
        )
    elif runs:
        parts = [
            f"{r['option']} from {_eur(r['low'])} to {_eur(r['high'])} (best in {_p_range(r)} "
            "of the draws)"
            for r in runs
        ]
        can.append(
            "the option with the largest expected net benefit (the acceptability frontier) is "
            + "; then ".join(parts)
        )
    chosen = table[table["verdict"] != ""]
    if chosen.empty:
        return Conclusions(can, cannot)
    c = chosen.iloc[0]
    if c["p_best"] >= t:
        can.append(
            f"{c['option']} is the best choice at {_eur(wtp)} per additional adopting school: "
            f"best in {_share(c['p_best'])} of the draws (at least the {_share(t)} this "
            "package requires to name a winner)"
        )
    else:
        others = table[table["option"] != c["option"]].sort_values(
            "p_best", ascending=False, kind="mergesort"
        )
        runner = f"; {others.iloc[0]['option']} is best in {_share(others.iloc[0]['p_best'])}"
        firm_anywhere = any(r["p_high"] >= t for r in runs)
        where = (
            ""
            if firm_anywhere or not runs
            else f", nor is any option at a willingness to pay from {_eur(runs[0]['low'])} to "
            f"{_eur(runs[-1]['high'])}"
        )
        cannot.append(
            f"that {c['option']} is better: at {_eur(wtp)} per additional adopting school it "
            f"has the largest expected net benefit but is best in only {_share(c['p_best'])} "
            f"of the draws, below the {_share(t)} this package requires before it names a "
            f"winner{where}{runner if len(others) else ''}"
        )
    base = str(table["baseline"].iloc[0]) if "baseline" in table.columns else None
    for r in runs:
        if r["p_high"] >= t and not (c["p_best"] >= t and r["option"] == c["option"]):
            span = f"from {_eur(r['low'])} to {_eur(r['high'])}"
            if r["option"] == base:  # the baseline: what no programme is worth, firmly
                firm = curve[
                    (curve["option"] == base)
                    & curve["on_frontier"]
                    & curve["wtp"].between(r["low"], r["high"])
                    & (curve["p_best"] >= t)
                ]
                can.append(
                    f"no programme is worth its cost to a ministry that would pay at most "
                    f"{_eur(float(firm['wtp'].max()))} per additional adopting school: there "
                    f"the baseline ({base}) has the largest net benefit in at least {_share(t)} "
                    "of the draws"
                )
                continue
            can.append(
                f"{r['option']} is best in at least {_share(t)} of the draws at some willingness"
                f" to pay {span} (up to {_share(r['p_high'])})"
            )
    return Conclusions(can, cannot)


def worth_sentences(table: pd.DataFrame) -> Conclusions:
    """Whether any programme is worth the willingness to pay: the share of draws in which the
    baseline has the largest net benefit (no programme's incremental net benefit is positive)."""
    base = str(table["baseline"].iloc[0])
    wtp = float(table["wtp"].iloc[0])
    p_none = float(table.loc[table["option"] == base, "p_best"].iloc[0])
    if 1 - p_none >= VERDICT_PROBABILITY:
        return Conclusions(
            can=[
                f"some programme is worth {_eur(wtp)} per additional adopting school in "
                f"{_share(1 - p_none)} of the draws (one has a larger net benefit than {base} "
                "there)"
            ]
        )
    return Conclusions(
        cannot=[
            f"that any programme is worth {_eur(wtp)} per additional adopting school: in "
            f"{_share(p_none)} of the draws none is ({base} has the largest net benefit there)"
        ]
    )


def ranking_sentence(ranking: pd.DataFrame) -> str:
    """How often the ranking of the options by additional adopting schools changes."""
    lead = ranking[ranking["expected_rank"] == 1].iloc[0]
    if lead["p_leader_changes"] == 0:
        text = f"{lead['option']} adds the most adopting schools in every draw"
    else:
        others = ranking[ranking["option"] != lead["option"]].sort_values(
            "p_first", ascending=False
        )
        to = (
            f" (to {others.iloc[0]['option']} in {_share(others.iloc[0]['p_first'])})"
            if len(others)
            else ""
        )
        text = (
            f"the leader by additional adopting schools on the means ({lead['option']}) loses "
            f"first place in {_share(lead['p_leader_changes'])} of the draws{to}"
        )
    return (
        f"how the ranking moves with the parameters: {text}; the whole ranking differs from the"
        f" ranking on the means in {_share(lead['p_ranking_changes'])} of the draws"
    )


def evppi_sentence(evppi: pd.DataFrame) -> str | None:
    """The parameter group most worth learning about (largest EVPPI), or that none is."""
    top = evppi[~evppi["group"].isin(["all", "dummy"])].sort_values("evppi", ascending=False)
    if top.empty:
        return None
    r = top.iloc[0]
    if r["evppi"] <= 0:
        return "that learning any parameter group would change the decision (every EVPPI is 0)"
    share = r.get("share_of_evpi")
    of = f", {share:.0%} of the noise-free EVPI" if share == share and share is not None else ""
    return (
        f"which uncertainty is most worth resolving: {r['group']} (EVPPI "
        f"{_eur(r['evppi'])} per run{of})"
    )


def is_assumption(source: str) -> bool:
    """A prior without evidence: no source, or one that cites an assumption."""
    text = (source or "").strip().lower()
    return not text or any(w in text for w in ASSUMPTION_WORDS)


def priors_sentence(priors: Mapping[str, Mapping[str, Any]] | None, draws_from: str) -> str:
    """That the conclusions are conditional on the priors (naming those with no source)."""
    if draws_from != "priors":
        return (
            f"anything beyond the model and the calibration posterior the draws came from "
            f"({draws_from}): the conclusions are conditional on both"
        )
    if not priors:
        return (
            "anything beyond the model and the ranges drawn: the conclusions are conditional "
            "on them"
        )
    loose = [name for name, p in priors.items() if is_assumption(str(p.get("source", "")))]
    text = (
        f"anything the {len(priors)} ranges drawn do not cover: the conclusions are conditional"
        " on them"
    )
    if loose:
        text += f", and {len(loose)} of them have no source but an assumption ({_names(loose)})"
    return text


def budget_verdict(budget: pd.DataFrame) -> str:
    """The fixed-budget table's verdict (``psa_at_budget``): the option that achieves the
    most in at least ``VERDICT_PROBABILITY`` of the draws, else "the options are not
    distinguishable", with the probabilities."""
    t = VERDICT_PROBABILITY
    amount = _eur(float(budget["budget"].iloc[0]))
    ranked = budget.sort_values("p_most", ascending=False, kind="mergesort")
    top = ranked.iloc[0]
    rest = ", ".join(f"{r['group']} {_share(r['p_most'])}" for _, r in ranked.iloc[1:].iterrows())
    if top["p_most"] >= t:
        return (
            f"at a budget of {amount}, {top['group']} achieves the most additional adopting "
            f"schools in {_share(top['p_most'])} of the draws (at least {_share(t)}): the best "
            "use of the budget under these ranges" + (f" (others: {rest})" if rest else "")
        )
    return (
        f"at a budget of {amount} the options are not distinguishable: "
        f"{top['group']} achieves the most in {_share(top['p_most'])} of the draws, below the "
        f"{_share(t)} needed to name it" + (f" (others: {rest})" if rest else "")
    )


def manifest_priors(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """``psa_conclusions``' ``priors`` and ``draws_from`` read from a PSA's manifest."""
    spec = (manifest.get("experiment_spec") or {}).get("uncertainty") or {}
    return {
        "priors": spec.get("priors") or None,
        "draws_from": str((manifest.get("psa") or {}).get("source", "priors")),
    }


def psa_conclusions(
    table: pd.DataFrame,
    curve: pd.DataFrame,
    *,
    ranking: pd.DataFrame | None = None,
    evppi: pd.DataFrame | None = None,
    budget: pd.DataFrame | None = None,
    priors: Mapping[str, Mapping[str, Any]] | None = None,
    draws_from: str = "priors",
) -> Conclusions:
    """What a ministry can and cannot conclude from a PSA, with the probabilities.

    Args:
        table: ``psa_summary`` (one row per option, at its willingness to pay).
        curve: ``ceac`` (the acceptability curves and frontier).
        ranking: ``ranking_changes`` (optional).
        evppi: ``evppi`` (optional).
        budget: ``psa_at_budget`` (optional).
        priors: Parameter -> prior as in the experiment file (``source`` read), optional.
        draws_from: ``"priors"`` or the posterior file the draws were resampled from.
    """
    can: list[str] = []
    cannot: list[str] = []
    for part in (
        adopters_sentences(table),
        frontier_sentences(table, curve),
        worth_sentences(table),
    ):
        can += part.can
        cannot += part.cannot
    if ranking is not None and not ranking.empty:
        can.append(ranking_sentence(ranking))
    if evppi is not None and not evppi.empty:
        text = evppi_sentence(evppi)
        if text is not None:
            (cannot if text.startswith("that ") else can).append(text)
    if budget is not None and not budget.empty:
        text = budget_verdict(budget)
        (cannot if "not distinguishable" in text else can).append(text)
    cannot.append(priors_sentence(priors, draws_from))
    return Conclusions(can, cannot)
