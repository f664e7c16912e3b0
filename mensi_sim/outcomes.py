"""How the outcomes of ``mensi_sim.metrics`` are shown: one table, one row per outcome.

The command line, the report and the figures take every label and number format of an
outcome from ``OUTCOME_FORMATS``; none keeps a list of its own. Add a row when an
outcome is added to ``metrics.SUMMARY_OUTCOMES``: an outcome without a row is shown
under its own name, in a number format guessed from that name (``format_of``).
Likewise ``COST_LABELS`` names each cost category of ``codes.COST_CATEGORIES``.
"""

from __future__ import annotations

from dataclasses import dataclass

from mensi_sim.codes import COST_CATEGORIES


@dataclass(frozen=True)
class OutcomeFormat:
    """The texts and number formats of one outcome (kinds of ``mensi_sim.formats.fmt``).

    Attributes:
        label: Row label of a table of means, with the unit (``mensi-sim run``).
        heading: Short column heading of a wide table (``sweep``, ``compare``).
        report: Column heading of the report's table of means, with the unit.
        change: Column heading of the report's table of differences from the baseline.
        kind: Number format of a value.
        change_kind: Number format of a difference (signed) in the report.
    """

    label: str
    heading: str
    report: str
    change: str
    kind: str
    change_kind: str


OUTCOME_FORMATS: dict[str, OutcomeFormat] = {
    "final_adoption_share": OutcomeFormat(
        "Adoption share at the horizon",
        "adoption at horizon",
        "Schools adopted at the horizon (% of all)",
        "Adoption at the horizon",
        "pct",
        "pp",
    ),
    "end_adoption_share": OutcomeFormat(
        "Adoption share at the programme's end",
        "adoption at prog. end",
        "Schools adopted when the programme ends (% of all)",
        "Adoption at the programme's end",
        "pct",
        "pp",
    ),
    "weeks_to_half_adoption": OutcomeFormat(
        "Weeks to 50% adoption",
        "weeks to 50%",
        "Weeks to 50% adoption",
        "Weeks to 50%",
        "num1",
        "signed1",
    ),
    "capacity_gain": OutcomeFormat(
        "Capacity gain (0-1 scale)",
        "capacity gain",
        "Capacity gain (0-1 scale)",
        "Capacity gain",
        "num3",
        "signed3",
    ),
    "final_equity_gap": OutcomeFormat(
        "Equity gap at the horizon (0-1 scale)",
        "equity gap",
        "Equity gap at the horizon (0-1 scale)",
        "Equity gap",
        "num3",
        "signed3",
    ),
    "total_cash": OutcomeFormat(
        "Cash spent (programme)",
        "cash",
        "Cash spent by the programme (EUR)",
        "Cash",
        "eur",
        "deur",
    ),
    "total_staff_time": OutcomeFormat(
        "Staff time (opportunity cost)",
        "staff time",
        "Staff time of the schools (EUR)",
        "Staff time",
        "eur",
        "deur",
    ),
    "total_cost": OutcomeFormat(
        "Total cost (cash + staff time)",
        "total cost",
        "Total cost, cash + staff time (EUR)",
        "Total cost",
        "eur",
        "deur",
    ),
    "cost_per_participant_year": OutcomeFormat(
        "Total cost per school and programme year",
        "total cost/school-yr",
        "Total cost (cash + staff time) per participating school and programme year (EUR)",
        "Total cost per school-year",
        "eur",
        "deur",
    ),
    "cash_per_participant_year": OutcomeFormat(
        "Cash per school and programme year",
        "cash/school-yr",
        "Cash per participating school and programme year (EUR)",
        "Cash per school-year",
        "eur",
        "deur",
    ),
    "staff_hours_per_participant_year": OutcomeFormat(
        "Staff hours per school and programme year",
        "hours/school-yr",
        "Staff hours per participating school and programme year",
        "Staff hours per school-year",
        "num1",
        "signed1",
    ),
    # every adopter at the horizon, those of before the programme too (ASSUMPTIONS 9.3):
    # the label says so, lest it be read as the cost of an additional adopter (compare's
    # ICER)
    "cost_per_adopting_school": OutcomeFormat(
        "Total cost per adopter at the horizon (not additional)",
        "total cost/adopter",
        "Total cost (cash + staff time) per school adopted at the horizon, earlier adopters "
        "included (EUR)",
        "Total cost per adopter at the horizon",
        "eur",
        "deur",
    ),
    "end_coverage_disadvantaged": OutcomeFormat(
        "Disadvantaged schools in the programme",
        "disadv. coverage",
        "Disadvantaged schools in the programme at its end (% of them)",
        "Disadvantaged coverage",
        "pct",
        "pp",
    ),
    "adopters_final": OutcomeFormat(
        "Adopting schools at the horizon",
        "adopters",
        "Schools adopted at the horizon",
        "Adopting schools",
        "num1",
        "signed1",
    ),
}

# counts among the outcomes without a row: shown with one decimal (means of counts)
#: the outcome censored at the run length in a run where half the schools never adopt,
#: and the summary column that says whether a run got there
CENSORED_OUTCOME = "weeks_to_half_adoption"
CENSORED_FLAG = "half_adoption_reached"

_COUNT_WORDS = ("dropouts", "meetings", "members", "adopters")
_CHANGE_KIND = {"pct": "pp", "eur": "deur", "num1": "signed1", "num3": "signed3"}

COST_LABELS: dict[str, str] = {
    "travel": "Travel",
    "staff_time": "Staff time",
    "platform": "Online platform",
    "coordination": "Coordination",
    "training": "Training",
    "incentives": "Incentives",
}


def _guessed_kind(outcome: str) -> str:
    if outcome.startswith("cost") or outcome.endswith("cost"):
        return "eur"
    if "share" in outcome.split("_"):
        return "pct"
    if any(word in outcome for word in _COUNT_WORDS):
        return "num1"
    return "num3"


def format_of(outcome: str) -> OutcomeFormat:
    """The row of ``outcome``; for an outcome without one, its name and a guessed format."""
    if outcome in OUTCOME_FORMATS:
        return OUTCOME_FORMATS[outcome]
    kind = _guessed_kind(outcome)
    return OutcomeFormat(outcome, outcome, outcome, outcome, kind, _CHANGE_KIND[kind])


def cost_label(category: str) -> str:
    """The label of a cost category (its name in words when it has no entry)."""
    return COST_LABELS.get(category, category.replace("_", " ").capitalize())


def cost_labels() -> dict[str, str]:
    """The label of every cost category of ``codes.COST_CATEGORIES``, in booking order."""
    return {c: cost_label(c) for c in COST_CATEGORIES}
