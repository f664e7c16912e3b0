"""The report's comparisons say what they count and how sure they are, as ``compare`` does:
the adoption rule the run used and the cost an ICER counts in the glossary, the week
adoption is read at and the costs are summed to, the cost of the ranking; a bootstrap over
three replicates is never "firm", a dominance names whether it is significant, and the
caveat of ``compare`` stands under the verdict. Built on the real tiny sweeps of
``viz_support`` (4 and 3 replicates, 20 weeks, fixed seeds)."""

from __future__ import annotations

import re
import textwrap

import pytest
from support import TINY_SCENARIO, write_scenario
from test_report_meaning import _with
from viz_support import TINY_SWEEP, sweep25_results, sweep_results

from mensi_sim import Results, sweep
from mensi_sim.analysis import comparison_table
from mensi_sim.analysis.verdicts import MIN_FIRM_REPLICATES, VERDICT_PROBABILITY
from mensi_sim.report import comparisons, sections
from mensi_sim.report.common import adoption_explanation

HORIZON = "the horizon (week 20, the last simulated week)"  # the sweeps' 20 weeks


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).replace("&#x27;", "'").split())


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Results:
    return Results.load(sweep_results(tmp_path_factory))


@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory) -> Results:
    """The tiny sweep's three structures with 3 replicates (virtual is on the frontier in
    every bootstrap resample of them)."""
    folder = tmp_path_factory.mktemp("three")
    write_scenario(folder, TINY_SCENARIO)
    spec = folder / "three.toml"
    spec.write_text(textwrap.dedent(TINY_SWEEP).replace("replications = 4", "replications = 3"))
    return sweep(spec, executor="serial", out=folder / "out")


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Results:
    """25 scenarios, 3 replicates each."""
    return Results.load(sweep25_results(tmp_path_factory))


def _with_comparison(res: Results, perspective: str) -> Results:
    """The same results with the comparison of another cost perspective."""
    ce = comparison_table(res.summary, res.baseline, perspective=perspective)
    return _with(res, tables={**res.tables, "comparison": ce})


def test_the_glossary_explains_the_rule_the_run_used_and_what_an_icer_counts(tiny) -> None:
    text = _text(comparisons.reading_notes(tiny))
    assert f"Adoption {_text(adoption_explanation(tiny))}" in text
    assert "influence through contact (adoption.rule = contact)" in text
    assert "Bass-type" not in text  # the rule of these runs is contact
    assert (
        "ICER Incremental cost-effectiveness ratio: extra total cost (cash + staff time) "
        f"divided by the additional schools adopted at {HORIZON}, both against the baseline"
    ) in text
    assert f"Costs are in EUR, cumulative from week 0 to {HORIZON}." in text
    assert "Cash is what the programme pays" in text
    assert "staff time is the schools' staff hours valued at their country's hour rate" in text
    assert "total cost is the two together" in text
    assert "over the run" not in text


def test_the_ranking_says_the_week_and_the_cost_it_counts(tiny) -> None:
    text = _text(comparisons.cost_effectiveness(tiny))
    assert f"additional schools that have adopted the practice at {HORIZON}" in text
    assert "at the end" not in text
    assert "Cost: total cost (cash + staff time), cumulative from week 0 to the horizon" in text
    assert "Mean cost: total cost (cash + staff time)" in text
    cash = _text(comparisons.cost_effectiveness(_with_comparison(tiny, "cash")))
    assert "Mean cost: cash" in cash and "Mean total cost" not in cash
    assert "extra cash per additional adopting school" in cash
    notes = _text(comparisons.reading_notes(_with_comparison(tiny, "cash")))
    assert "ICER Incremental cost-effectiveness ratio: extra cash divided by" in notes


def test_the_differences_are_dated(tiny) -> None:
    text = _text(comparisons.comparison(tiny, ""))
    assert "Adoption at the horizon, week 20" in text
    assert f"Costs are cumulative from week 0 to {HORIZON}." in text


def test_three_replicates_give_no_firm_verdict_in_the_brief(three) -> None:
    ce = three.try_comparison()
    assert int(ce["bootstrap_replicates"].iloc[0]) == 3 < MIN_FIRM_REPLICATES
    sure = ce[(ce["scenario"] != three.baseline) & (ce["p_frontier"] >= VERDICT_PROBABILITY)]
    assert len(sure)  # some verdict a probability alone would call firm
    text = _text(sections.in_brief(three))
    assert "(firm)" not in text
    for name in sure["scenario"]:
        assert re.search(rf"{re.escape(name)} 1\.00 \(too few replicates\)", text), name
    assert f"firm at {VERDICT_PROBABILITY:.2f} or more with at least 6 replicates" in text


def test_a_dominance_says_whether_it_is_significant(many, tiny) -> None:
    seen = set()
    for res in (many, tiny):
        text = _text(sections.in_brief(res))
        ce = res.try_comparison()
        for _, r in ce[ce["frontier"].str.startswith("dominated")].head(10).iterrows():
            significant = bool(r["frontier_dominance_significant"])
            said = ", significant" if significant else " on the means, not significant"
            assert f"{r['scenario']} ({r['frontier']}{said})" in text
            seen.add(significant)
    assert seen == {True, False}  # both kinds were checked


def test_the_caveat_of_compare_stands_under_the_verdict(tiny) -> None:
    text = _text(sections.in_brief(tiny))
    assert "These verdicts cover replicate noise only, with the parameters fixed;" in text
    assert text.index("Probability of being on the frontier") < text.index("These verdicts")
