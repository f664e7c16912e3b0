"""What the report's sections share: table sizes, key parameters, small helpers.

Outcome labels and number formats come from ``mensi_sim.outcomes``; numbers are
written by ``mensi_sim.formats.fmt``.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import pandas as pd

from mensi_sim.errors import ResultsError
from mensi_sim.metrics import SUMMARY_OUTCOMES
from mensi_sim.outcomes import CENSORED_FLAG, format_of
from mensi_sim.results import Results

MAX_ROWS = 30  # scenarios listed in a table before "... and N more"

# (summary column, label with unit, format) of the headline outcomes
HEADLINE = tuple((o, format_of(o).report, format_of(o).kind) for o in SUMMARY_OUTCOMES)
DIFFERENCE_SUFFIX = "_difference"  # <outcome>_difference: a column of the comparison table


def differences(table: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(outcome, label, format of a difference) of each outcome the comparison table holds."""
    names = [c.removesuffix(DIFFERENCE_SUFFIX) for c in table.columns]
    outcomes = [n for n, c in zip(names, table.columns, strict=True) if n != c]
    return [(o, format_of(o).change, format_of(o).change_kind) for o in outcomes]


KEY_PARAMETERS = (
    "time.steps",
    "time.term_weeks",
    "population.n_schools",
    "population.countries",
    "network.structure",
    "network.mentors_per_region",
    "network.mentees_per_mentor",
    "contacts.rate_in_person",
    "contacts.rate_online",
    "contacts.strength_in_person",
    "contacts.strength_online",
    "learning.rate",
    "learning.gamma",
    "adoption.rule",
    # the parameters of the adoption rule the results used go here (RULE_PARAMETERS)
    "adoption.initial",
    "adoption.initial_share",
    "engagement.target_voluntary",
    "engagement.target_compulsory",
    "costs.staff_hour_rate",
    "costs.travel_per_km",
    "costs.platform_per_school_year",
    "costs.coordination_top_down",
    "costs.coordination_bottom_up",
    "costs.coordination_virtual",
)

#: the parameters each adoption rule reads (mensi_sim.dynamics.adoption)
RULE_PARAMETERS = {
    "contact": (
        "adoption.p",
        "adoption.exposure",
        "adoption.readiness_midpoint",
        "adoption.readiness_slope",
    ),
    "bass": ("adoption.p", "adoption.q", "adoption.theta"),
    "threshold": (
        "adoption.threshold",
        "adoption.threshold_distribution",
        "adoption.threshold_spread",
        "adoption.min_adopting_neighbours",
    ),
}

#: what each adoption rule does, in words (docs/ODD.md 7.4, mensi_sim.dynamics.adoption)
RULE_TEXT = {
    "contact": (
        "influence through contact (adoption.rule = contact): in a week, a school that has "
        "not adopted adopts with probability 1 - exp(-r(c) (p + exposure × E)), where E adds "
        "up the strengths of the meetings it had that week with schools that have adopted "
        "(adoption.exposure per meeting of strength 1) and its readiness r(c) rises with its "
        "capacity c along a logistic curve (half ready at adoption.readiness_midpoint). A tie "
        "that does not meet, or links two schools that have not adopted, adds nothing."
    ),
    "bass": (
        "the share of adopting neighbours, a Bass-type diffusion (adoption.rule = bass): in a "
        "week, a school that has not adopted adopts with probability min(1, c^theta (p + q m)), "
        "where c is its capacity and m the strength-weighted share of its ties, met that week "
        "or not, whose school has adopted."
    ),
    "threshold": (
        "a threshold, Granovetter / Watts complex contagion (adoption.rule = threshold): a "
        "school adopts in the first week in which the strength-weighted share of its "
        "neighbours that have adopted reaches its threshold phi (adoption.threshold) and at "
        "least adoption.min_adopting_neighbours of them have adopted; its capacity plays no "
        "part."
    ),
}


def _adoption_values(results: Results, name: str, default: Any) -> list[Any]:
    """The values of ``adoption.<name>`` the results used, in order of first use: the
    scenario's (a sweep: its base scenario's) and any a sweep's scenario sets."""
    m = results.manifest
    base = m.get("parameters") or m.get("base_parameters") or {}
    values = [(base.get("adoption") or {}).get(name, default)]
    for entry in m.get("scenarios", []) if results.is_sweep else []:
        over = flatten(entry.get("overrides") or {})
        if f"adoption.{name}" in over:
            values.append(over[f"adoption.{name}"])
    return list(dict.fromkeys(values))


def adoption_rules(results: Results) -> list[str]:
    """The adoption rules the results used (``adoption.rule`` of the scenario, of a
    sweep's base scenario and of its scenarios), in order of first use."""
    return [str(r) for r in _adoption_values(results, "rule", "contact")]


def key_parameters(rules: list[str]) -> tuple[str, ...]:
    """KEY_PARAMETERS with the parameters of ``rules`` after ``adoption.rule``."""
    used = dict.fromkeys(p for r in rules for p in RULE_PARAMETERS.get(r, ()))
    at = KEY_PARAMETERS.index("adoption.rule") + 1
    return (*KEY_PARAMETERS[:at], *used, *KEY_PARAMETERS[at:])


def rule_text(rule: str) -> str:
    """What adoption rule ``rule`` does (a rule registered elsewhere: its registry entry's
    description)."""
    if rule in RULE_TEXT:
        return RULE_TEXT[rule]
    from mensi_sim.registry import ADOPTION_RULES

    try:
        about = ADOPTION_RULES.get(rule).description
    except LookupError:
        about = "a rule this version of mensi_sim does not describe"
    return f"{about} (adoption.rule = {rule})."


def adoption_rule_text(results: Results) -> str:
    """How schools adopted in these results: the rule (or the rules, when a sweep's
    scenarios differ in it) and whether adopters may abandon the practice."""
    rules = adoption_rules(results)
    if len(rules) == 1:
        how = f"Schools adopt by {rule_text(rules[0])}"
    else:
        each = " ".join(f"Under {r}: {rule_text(r)}" for r in rules)
        how = f"The scenarios use {len(rules)} adoption rules. {each}"
    rates = [float(r) for r in _adoption_values(results, "abandonment", 0.0)]
    if not any(r > 0 for r in rates):
        return f"{how} Adopters never abandon the practice (adoption.abandonment = 0)."
    some = " (0 in some scenarios)" if 0 in rates else ""
    return (
        f"{how} An adopter abandons the practice in a week with probability "
        f"adoption.abandonment × (1 - c){some}."
    )


def adoption_explanation(results: Results) -> str:
    """The glossary's entry for Adoption: what it is, and how schools adopted in these
    results (``adoption_rule_text``)."""
    how = adoption_rule_text(results)
    return f"The school has mainstreamed the innovative digital practice. {how}"


#: the cost each perspective of a cost-effectiveness table counts (docs/ASSUMPTIONS.md 8.1)
COST_BASIS = {"total": "total cost (cash + staff time)", "cash": "cash"}


def cost_basis(table: pd.DataFrame) -> str:
    """The cost a comparison or PSA table counts, in words (its ``perspective``)."""
    if "perspective" not in table.columns or table.empty:
        return COST_BASIS["total"]
    kinds = list(dict.fromkeys(table["perspective"].astype(str)))
    return " and ".join(COST_BASIS.get(k, k) for k in kinds)


@cache
def _parameter_names() -> frozenset[str]:
    from mensi_sim.scenario.reference import parameter_rows

    return frozenset(r["name"] for r in parameter_rows())


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested scenario dump -> dotted names. Lists of sections are kept whole, and so is a
    parameter whose value is a map (``costs.staff_hour_rate_by_country``: one row, not one
    per country, which the parameter list would not know and leave out)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and name not in _parameter_names():
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def value_text(value: Any) -> str:
    from mensi_sim.scenario.reference import format_value

    return format_value(value).replace('"', "")


def n_schools(results: Results) -> int | None:
    runs = results.runs
    if "n_schools" in runs.columns and len(runs):
        return int(runs["n_schools"].max())
    params = results.manifest.get("parameters") or {}
    return (params.get("population") or {}).get("n_schools")


def base_scenario(results: Results) -> tuple[Any, str]:
    """The scenario whose assumptions the report lists (a sweep: its base), and a note."""
    try:
        return results.scenario, ""
    except ResultsError as exc:
        return None, str(exc)


def runs_by_scenario(results: Results) -> pd.DataFrame:
    runs = results.runs
    if runs.empty or "status" not in runs.columns:
        return pd.DataFrame(columns=["ok", "failed"])
    ok = runs["status"].eq("ok")
    return pd.DataFrame(
        {
            "ok": ok.groupby(runs["scenario"].astype(str)).sum(),
            "failed": (~ok).groupby(runs["scenario"].astype(str)).sum(),
        }
    )


def replicates_text(results: Results) -> str:
    """Replicates that ran per scenario (a range when they differ, e.g. adaptive)."""
    runs = results.runs
    if runs.empty or "scenario" not in runs.columns:
        return str(results.manifest.get("replications", "n/a"))
    counts = runs.groupby(runs["scenario"].astype(str))["replicate"].nunique()
    low, high = int(counts.min()), int(counts.max())
    return f"{low}" if low == high else f"{low}-{high}"


def verdict_caveat(results: Results) -> str:
    """The sentence under the verdicts of an experiment without parameter draws, as
    ``compare`` prints it (``verdicts.parameter_caveat``): they cover replicate noise only."""
    from mensi_sim.analysis.verdicts import parameter_caveat

    m = results.manifest
    text = parameter_caveat(str(m.get("experiment", "")), m.get("source_path"))
    return sentence(text[:1].upper() + text[1:])


def sentence(text: str) -> str:
    """Text ending with a full stop (empty stays empty)."""
    text = text.strip()
    return text if not text or text.endswith((".", "!", "?")) else f"{text}."


def more(total: int, where: str = "summary.parquet") -> str:
    """The line under a table cut to MAX_ROWS rows: how many more, and where they are."""
    if total <= MAX_ROWS:
        return ""
    return f'<p class="muted">... and {total - MAX_ROWS} more (see {where}).</p>'


MAX_LISTED = 10  # items of a list in a sentence before "and N more"


def listed(items: list[str], where: str, limit: int = MAX_LISTED) -> str:
    """Items joined by commas; past ``limit``, the first ones and "and N more <where>"
    (``where``: where the others are, e.g. "in timeseries.parquet")."""
    if len(items) <= limit:
        return ", ".join(items)
    return f"{', '.join(items[:limit])} and {len(items) - limit} more {where}"


def ci_row(summary: pd.DataFrame, column: str) -> tuple[float, float, float]:
    from mensi_sim.stats import mean_ci

    if column not in summary.columns or summary.empty:
        return (math.nan,) * 3
    return mean_ci(summary[column].to_numpy(dtype=float))


def fully_censored(results: Results) -> bool:
    """Whether no run reached 50% adoption, so that every weeks-to-50% value is the run
    length: a column of them (or of their differences, all 0) says nothing."""
    s = results.summary
    return CENSORED_FLAG in s.columns and len(s) > 0 and not s[CENSORED_FLAG].any()


def censored_note(results: Results) -> str:
    """The note that says a fully censored column was left out."""
    weeks = results.manifest.get("steps")
    return (
        "<p class='muted'>Weeks to 50% adoption is left out: no run brought half the schools "
        f"to the practice within its {weeks} weeks, so every value would be the run length "
        "(censored) and every difference 0.</p>"
    )


# step metrics that the same world makes equal in every scenario at week 0 (before any
# step, a structure has only chosen roles and ties), and the ones a structure sets
SAME_AT_START = ("adoption_share", "mean_capacity", "equity_gap", "capacity_gini")
CHOSEN_AT_START = (
    "members",
    "active_participants",
    "adoption_share_members",
    "adoption_share_outside",
)
START_LABELS = {
    "adoption_share": "adoption share",
    "mean_capacity": "mean capacity",
    "equity_gap": "equity gap",
    "capacity_gini": "Gini of capacity",
    "members": "network members",
    "active_participants": "active participants",
    "adoption_share_members": "adoption share among members",
    "adoption_share_outside": "adoption share outside the network",
}


def week0_spread(results: Results, columns: tuple[str, ...]) -> dict[str, float]:
    """Per step metric: the largest difference between scenarios at week 0 within one
    replicate (0: every scenario starts alike)."""
    ts = results.timeseries
    cols = [c for c in columns if c in ts.columns]
    if ts.empty or "step" not in ts.columns or not cols:
        return {}
    start = ts[ts["step"] == 0]
    spread = start.groupby("replicate")[cols].agg(lambda x: x.max() - x.min()).max()
    return {c: float(spread[c]) for c in cols}


# the index a sensitivity method ranks parameters by, and its name in a sentence
MAIN_INDEX = {"sobol": ("ST", "Sobol total-order index ST"), "morris": ("mu_star", "Morris mu*")}
SMALL_SHARE = 0.1  # without a dummy parameter: "matters" = at least this share of the largest


def parameters_that_matter(sv: pd.DataFrame) -> list[dict[str, Any]]:
    """Per outcome of a sensitivity table (long format): the parameters that matter and the
    ones that hardly do, by the main index of the method (Sobol's ST, else Morris' mu*).

    A parameter matters when its index is above the dummy parameter's (the table's
    ``above_dummy``, where the analysis sampled a dummy), else when it is at least
    ``SMALL_SHARE`` of the largest index of that outcome.
    """
    from mensi_sim.experiments import design

    dummy = getattr(design, "DUMMY", None)
    found = []
    for outcome in dict.fromkeys(sv["outcome"]):
        part = sv[sv["outcome"] == outcome]
        method = "sobol" if (part["method"] == "sobol").any() else "morris"
        index, words = MAIN_INDEX[method]
        rows = part[(part["method"] == method) & (part["index"] == index)]
        rows = rows[(rows["parameter"] != dummy) & rows["value"].notna()]
        rows = rows.sort_values("value", ascending=False)
        if rows.empty:
            continue
        if not rows["value"].max() > 0:  # the outcome did not move over the ranges
            matters = rows["value"] > 0
            rule = "no parameter moved this outcome over the ranges sampled"
        elif "above_dummy" in rows.columns:
            matters = rows["above_dummy"].astype(bool)
            rule = "not above the dummy parameter's index"
        else:
            matters = rows["value"] >= SMALL_SHARE * rows["value"].max()
            rule = f"below {SMALL_SHARE:.0%} of the largest"
        found.append(
            {
                "outcome": outcome,
                "index": words,
                "matter": list(
                    zip(rows["parameter"][matters], rows["value"][matters], strict=True)
                ),
                "little": list(rows["parameter"][~matters]),
                "rule": rule,
            }
        )
    return found
