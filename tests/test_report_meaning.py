"""The report says exactly what it means: cash apart from the total with staff time valued,
the adoption rule the run used, the week an outcome is read at (the horizon or the
programme's end), and how many items a list leaves out. Built on real runs of the tiny
scenario and on the 25-scenario sweep."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from support import TINY_SCENARIO, write_scenario
from viz_support import sweep25_results, sweep_results

from mensi_sim import Results, load_scenario, simulate, sweep
from mensi_sim.experiments import load_experiment
from mensi_sim.formats import with_ci
from mensi_sim.report import build_report, groups, sections
from mensi_sim.report.common import adoption_explanation
from mensi_sim.stats import mean_ci

# the tiny scenario, 8 weeks, its programme ending after week 3
ENDED = TINY_SCENARIO.replace("steps = 6", "steps = 8") + "\n[programme]\nend_week = 3\n"

# what each rule's explanation says of it, and a row of the key assumptions only it has
RULES = {
    "contact": ("influence through contact (adoption.rule = contact)", "adoption.exposure"),
    "bass": ("a Bass-type diffusion (adoption.rule = bass)", "adoption.q"),
    "threshold": (
        "Granovetter / Watts complex contagion (adoption.rule = threshold)",
        "adoption.min_adopting_neighbours",
    ),
}


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _run(folder: Path, text: str, replications: int = 3) -> Results:
    sc = load_scenario(write_scenario(folder, text))
    return simulate(sc, replications=replications, seed=7, command_line="test")


@pytest.fixture(scope="module")
def ended(tmp_path_factory: pytest.TempPathFactory) -> Results:
    """3 replicates of 8 weeks; the programme runs weeks 0-2 and ends at week 3."""
    return _run(tmp_path_factory.mktemp("ended"), ENDED)


def _key_assumptions(html: str) -> str:
    """The key assumptions table of the assumptions section (not the folded full list)."""
    return html[: html.index("<details>")]


def test_the_brief_gives_the_cash_apart_from_the_total_with_staff_time(ended: Results) -> None:
    s = ended.summary
    cash, staff, total = (
        with_ci(*mean_ci(s[c].to_numpy(float)), "eur")
        for c in ("total_cash", "total_staff_time", "total_cost")
    )
    assert cash != total  # staff time was given: the two differ
    text = _text(sections.in_brief(ended))
    assert f"Cost to the horizon: {cash} in cash, paid by the programme" in text
    assert (
        f"with the schools' staff time valued ({staff}, an opportunity cost, not a payment), "
        f"{total} in total" in text
    )
    assert "The programme cost" not in text


def test_the_brief_and_the_headline_table_say_which_week_they_read(ended: Results) -> None:
    text = _text(sections.in_brief(ended))
    assert "At the horizon (week 8, the last simulated)," in text
    assert "when the programme ended, week 3)" in text
    assert "By the end" not in text
    table = _text(sections.results(ended))
    assert "Schools adopted at the horizon, week 8 (% of all)" in table
    assert "Schools adopted when the programme ends, week 3 (% of all)" in table
    assert "Equity gap at the horizon, week 8 (0-1 scale)" in table


@pytest.mark.parametrize("rule", list(RULES))
def test_the_report_explains_the_adoption_rule_the_run_used(tmp_path: Path, rule: str) -> None:
    res = _run(tmp_path, TINY_SCENARIO + f'\n[adoption]\nrule = "{rule}"\n', replications=2)
    said, row = RULES[rule]
    what = _text(sections.what_was_run(res))
    glossary = adoption_explanation(res)
    for text in (what, glossary):
        assert said in text
        assert "Adopters never abandon the practice (adoption.abandonment = 0)." in text
        for other in set(RULES) - {rule}:
            assert f"(adoption.rule = {other})" not in text
    assert glossary.startswith("The school has mainstreamed the innovative digital practice.")
    keys = _key_assumptions(sections.assumptions(res))
    assert f"<td>{row}</td>" in keys
    for other in set(RULES) - {rule}:
        assert f"<td>{RULES[other][1]}</td>" not in keys


def test_a_sweep_over_two_rules_explains_both(tmp_path: Path) -> None:
    write_scenario(tmp_path, TINY_SCENARIO)
    path = tmp_path / "rules.toml"
    path.write_text(
        'name = "rules"\nreplications = 2\nroot_seed = 1\nsteps = 3\nexecutor = "serial"\n'
        'baseline = "contact"\n\n[base]\nscenario = "tiny.toml"\n\n'
        '[[factors.policies]]\nname = "contact"\noverrides = { "adoption.rule" = "contact" }\n\n'
        '[[factors.policies]]\nname = "bass"\n'
        'overrides = { "adoption.rule" = "bass", "adoption.abandonment" = 0.01 }\n',
        encoding="utf-8",
    )
    res = sweep(load_experiment(path), executor="serial", out=tmp_path / "out")
    text = _text(sections.what_was_run(res))
    assert "The scenarios use 2 adoption rules. Under contact: influence through contact" in text
    assert "Under bass: the share of adopting neighbours, a Bass-type diffusion" in text
    assert "adoption.abandonment × (1 - c) (0 in some scenarios)." in text
    keys = _key_assumptions(sections.assumptions(res))
    assert "<td>adoption.exposure</td>" in keys and "<td>adoption.q</td>" in keys


def test_no_list_of_the_brief_is_cut_without_saying_how_many_are_left(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    res = Results.load(sweep25_results(tmp_path_factory))
    ce = res.try_comparison()
    dominated = ce[ce["frontier"].astype(str).str.startswith("dominated")]
    assert len(dominated) > 10  # more than a sentence lists
    text = _text(sections.in_brief(res))
    named = re.search(r"; dominated: (.*?) and (\d+) more in the cost-effectiveness ranking", text)
    assert named, text
    assert named[1].count("(dominated by ") + int(named[2]) == len(dominated)
    start = _text(sections.starting_point(res))
    members = re.search(r"network members at week 0: (.*?) and (\d+) more in timeseries", start)
    assert members, start
    assert len(members[1].split(", ")) + int(members[2]) == len(res.scenarios) == 25


def test_the_cross_country_icer_says_which_cost_it_counts(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    res = Results.load(sweep_results(tmp_path_factory))
    text = _text(groups.exchange(res))
    assert "EUR of total cost (cash + staff time) per extra adopter" in text
    assert "adoption at the horizon (week 20)" in text


@pytest.mark.parametrize(
    ("kind", "basis"), [("cash", "cash"), ("total", "total cost (cash + staff time)")]
)
def test_the_optimisation_report_says_which_spend_it_counts(kind: str, basis: str) -> None:
    from mensi_sim.analysis.optimise import optimise
    from mensi_sim.analysis.optimise_spec import design_from_dict
    from mensi_sim.report.optimise import optimisation_section
    from mensi_sim.scenario.schema import Scenario

    base = Scenario().with_updates(
        {
            "population.n_schools": 12,
            "population.countries": ["HR", "PT"],
            "population.regions_per_country": 2,
            "time.steps": 30,
            "network.mentees_per_mentor": 2,
        }
    )
    spec = {
        "name": "spend",
        "levers": {"k": {"parameter": "network.mentees_per_mentor", "integers": [2, 3]}},
        "objectives": {"final_adoption_share": "max"},
        "constraints": {"budget_kind": kind},
        "search": {"population": 4, "generations": 1, "replications": 4, "max_replications": 4},
        "holdout": {"replications": 2, "max_designs": 1, "compare": ["none"]},
    }
    text = _text(optimisation_section(optimise(design_from_dict(spec, base), executor="serial")))
    assert f"kind {basis} per programme year Adoption share at the horizon" in text
    assert "spend per year" not in text


def test_the_parameter_list_leaves_no_parameter_out(ended: Results) -> None:
    from mensi_sim.scenario.reference import parameter_rows

    html = sections.assumptions(ended)
    # the per-country hour rates, a map, are one row (not one per country, left out)
    assert "<td>costs.staff_hour_rate_by_country</td>" in html
    shown_elsewhere = ("name", "description", "source_path", "training.courses[]", "incentives[]")
    for row in parameter_rows():
        if not row["name"].startswith(shown_elsewhere):
            assert f"<td>{row['name']}</td>" in html, row["name"]


def test_a_run_with_incentives_and_a_course_lists_every_field_of_them(tmp_path: Path) -> None:
    text = (
        ENDED
        + '\n[[incentives]]\ntype = "funding"\ntarget = "participants"\n'
        + '\n[[incentives]]\ntype = "release_time"\ntarget = "mentors"\nper = "teacher"\n'
        + "amount = 100\nhalf_effect_amount = 150\n"
        + '\n[[training.courses]]\nname = "course"\ntarget = "mentors"\n'
        + "cost_per_participant = 250\nstaff_hours = 12\nenrol_prob = 0.5\n"
    )
    res = _run(tmp_path, text, replications=2)
    html = build_report(res, network=False)  # crashed before: no incentive table could be made
    page = _text(html)
    assert (
        "funding participants €3,000 per school-year, paid weekly 0.2 €3,000 0 52" in page
    )  # the type's default amount, which is also its half-effect amount
    assert "release_time mentors €100 per teacher per school-year" in page
    assert "€150 per teacher" in page
    assert "Fee per participant (EUR, cash) Staff hours per participant" in page
    assert re.search(r"course mentors \d+ \d+ 50\.0% [\d.]+% [\d.]+ €250 12\.0", page), page


def _with(
    res: Results, group_summary: pd.DataFrame | None = None, tables: dict | None = None
) -> Results:
    """The same results with a table replaced (a damaged or partial folder)."""
    return Results(
        res.timeseries,
        res.summary,
        res.runs,
        res.manifest,
        path=res.path,
        tables=res.tables if tables is None else tables,
        group_summary=res.group_summary if group_summary is None else group_summary,
    )


def test_a_scenario_missing_from_the_outcomes_by_country_is_named(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    res = Results.load(sweep_results(tmp_path_factory))
    gs = res.group_summary
    partial = _with(res, group_summary=gs[gs["scenario"] != "virtual"])
    assert "Not compared by country: no scenario &#x27;virtual&#x27; in the outcomes by" in (
        groups.exchange(partial)
    )
    assert "No outcomes by country for virtual" in groups.by_country(partial, "")
    no_base = _with(res, group_summary=gs[gs["scenario"] != "none"])
    text = _text(groups.by_country(no_base, ""))
    assert "The paired differences from none by country are left out: baseline" in text


def test_an_outcome_without_any_sensitivity_index_is_named(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    res = Results.load(sweep_results(tmp_path_factory))
    sv = res.tables["sensitivity"]
    blank = sv.assign(outcome="total_cost", value=float("nan"))  # every index missing
    damaged = _with(res, tables={**res.tables, "sensitivity": pd.concat([sv, blank])})
    text = _text(sections.sensitivity_brief(damaged))
    assert "Total cost (cash + staff time): no index could be computed" in text
    assert "Adoption share at the horizon (Sobol total-order index ST): " in text  # as before
