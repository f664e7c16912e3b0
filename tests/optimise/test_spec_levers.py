"""Design files: one-line errors; levers: variables, scenario updates, names and words."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from mensi_sim.analysis.optimise_levers import (
    candidate_id,
    candidate_scenario,
    candidate_updates,
    canonical,
    check_lever_domains,
    describe_design,
    planned_mentors,
    variables,
)
from mensi_sim.analysis.optimise_spec import design_from_dict, load_design, shipped_programmes
from mensi_sim.errors import ScenarioError

from .support import regions_base, small_design

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "design.toml"
    scenario = (REPO / "scenarios" / "mensi_pilot.toml").as_posix()
    path.write_text(f'name = "t"\n[base]\nscenario = "{scenario}"\n' + body)
    return path


def test_the_shipped_pilot_design_loads_and_every_lever_is_valid():
    design = load_design(REPO / "designs" / "mensi_pilot.toml")
    check_lever_domains(design)
    assert design.base.network.structure == "designed"
    assert design.spec.constraints.budget == "top_down"
    names = [v.name for v in variables(design)]
    assert names[:6] == [f"structure.{c}" for c in design.base.population.countries]
    assert "incentive.type" in names and "incentive.level" in names


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[levers.x]\nparameter = \"network.mentees_per_mentor\"\n", "give exactly one of"),
        ("[levers.x]\nparameter = \"nope.p\"\nrange = [0.0, 1.0]\n", "levers.x.parameter: unknown parameter 'nope.p'"),  # noqa: E501
        ("[levers.x]\nparameter = \"contacts.rate_online\"\nrange = [0.5, 0.1]\n", "low < high"),
        ("[levers.x]\nkind = \"rollout\"\nwaves = 9\n", "levers.x.waves: 9 waves of 6 countries"),  # noqa: E501
        ("[levers.x]\nkind = \"rollout\"\nwaves = 4\nper = \"region\"\n", "levers.x.waves: wave 4 would start in week 156, at or after the horizon"),  # noqa: E501
        ("[levers.x]\nkind = \"rollout\"\nper = \"school\"\n", "levers.x.rollout.per"),
        ("[levers.x]\nkind = \"magic\"\n", "levers.x"),
        ("[levers.x]\nkind = \"incentive\"\ntypes = [\"bribe\"]\n", "unknown incentive type 'bribe'"),  # noqa: E501
        ("[levers.x]\nkind = \"regions\"\nper = \"street\"\n", "levers.x.regions.per"),
        ("[levers.x]\nkind = \"regions\"\n[objectives]\nhappiness = \"max\"\n", "unknown outcome 'happiness'"),  # noqa: E501
        ("[levers.x]\nkind = \"regions\"\n[constraints]\nbudget = \"designed\"\n", "'designed' is not a shipped structure"),  # noqa: E501
        ("[levers.x]\nkind = \"regions\"\n[search]\nreplications = 2\n", "search.replications"),
        ("[levers.x]\nkind = \"regions\"\n[unknown]\na = 1\n", "unknown"),
        ("[levers.x]\nkind = \"mentors\"\ncandidates = [0, 500]\n", "levers.x.candidates: 500 outside"),  # noqa: E501
    ],
)  # fmt: skip
def test_bad_design_files_are_one_line_errors_naming_the_field(tmp_path, body, message):
    with pytest.raises(ScenarioError) as err:
        load_design(write(tmp_path, body))
    text = str(err.value)
    assert message in text, text
    assert "\n" not in text
    assert str(tmp_path / "design.toml") in text


def test_a_lever_value_the_scenario_refuses_is_an_error_before_any_run(tmp_path):
    design = load_design(
        write(tmp_path, '[levers.k]\nparameter = "network.mentees_per_mentor"\nintegers = [0, 3]\n')
    )
    with pytest.raises(ScenarioError, match=r"levers.k: network.mentees_per_mentor"):
        check_lever_domains(design)


def test_regions_incentive_and_parameter_levers_become_scenario_updates():
    design = small_design()
    values = {
        "where.HR": "online",
        "where.PT": "none",
        "online_rate": 0.5,
        "incentive.type": "funding",
        "incentive.level": 0.25,
    }
    updates = candidate_updates(design, values)
    assert updates["network.plan.regions"] == ["online", "online", "none", "none"]
    assert updates["contacts.rate_online"] == 0.5
    # funding's range is 0 to twice its default amount (EUR 3,000): a quarter is EUR 1,500
    assert updates["incentives"] == [{"type": "funding", "amount": 1500.0, "target": "mentors"}]
    sc = candidate_scenario(design, values)
    assert sc.network.structure == "designed"
    assert sc.name == candidate_id(canonical(design, values))
    assert planned_mentors(sc) == 2  # one mentor in each of HR's two regions


def test_the_level_of_no_incentive_does_not_make_a_new_design():
    design = small_design()
    a = {"where.HR": "online", "where.PT": "online", "online_rate": 0.5,
         "incentive.type": "none", "incentive.level": 0.1}  # fmt: skip
    b = {**a, "incentive.level": 0.9}
    assert candidate_id(canonical(design, a)) == candidate_id(canonical(design, b))
    assert candidate_id(canonical(design, a)) != candidate_id(
        canonical(design, {**a, "online_rate": 0.6})
    )
    json.dumps(canonical(design, a))  # plain values, no numpy scalars


def test_a_design_is_the_same_design_whatever_the_last_bits_of_its_levers():
    # pymoo's arithmetic can end in other last bits on another CPU: the levers are
    # rounded to 12 significant digits, so scenario and id are the same on every machine
    design = small_design()
    a = {"where.HR": "online", "where.PT": "online", "online_rate": 0.4083459216292824,
         "incentive.type": "funding", "incentive.level": 0.8672926763488661}  # fmt: skip
    nudged = {
        **a,
        "online_rate": np.nextafter(a["online_rate"], 1.0),  # one unit in the last place
        "incentive.level": np.nextafter(a["incentive.level"], 0.0),
    }
    assert nudged["online_rate"] != a["online_rate"]
    assert canonical(design, nudged) == canonical(design, a)
    assert candidate_id(canonical(design, nudged)) == candidate_id(canonical(design, a))
    assert canonical(design, a)["online_rate"] == 0.408345921629
    assert candidate_scenario(design, nudged) == candidate_scenario(design, a)
    # a real difference is still another design
    moved = {**a, "online_rate": a["online_rate"] + 1e-9}
    assert candidate_id(canonical(design, moved)) != candidate_id(canonical(design, a))


def test_the_design_in_words_says_where_who_how_often_and_which_incentive():
    design = small_design()
    values = {"where.HR": "online", "where.PT": "in_person", "online_rate": 0.5,
              "incentive.type": "funding", "incentive.level": 0.5}  # fmt: skip
    text = describe_design(design, values)
    assert text.startswith("Online in HR; in person in PT.")
    assert "the most capable school mentors up to 2 schools each (the nearest schools)" in text
    assert "online clusters about 18 times a year" in text  # 0.5 x 36 term weeks
    assert "Funding of EUR 3,000 per school-year for mentors." in text


def test_mentors_lever_with_no_school_chosen_means_no_programme():
    from mensi_sim.analysis.optimise_spec import design_from_dict

    from .support import toy_base

    design = design_from_dict(
        {"name": "m", "levers": {"m": {"kind": "mentors", "candidates": [0, 1, 2]}}}, toy_base()
    )
    none = candidate_scenario(design, {"m.0": False, "m.1": False, "m.2": False})
    assert none.network.plan.regions == ["none"] and planned_mentors(none) == 0
    two = candidate_scenario(design, {"m.0": True, "m.1": False, "m.2": True})
    assert two.network.plan.mentors == [0, 2] and planned_mentors(two) == 2


def test_planned_mentors_count_regions_taking_part():
    sc = regions_base().with_updates(
        {
            "network.structure": "designed",
            "network.mentors_per_region": 2,
            "network.plan.regions": ["online", "none", "in_person", "none"],
        }
    )
    assert planned_mentors(sc) == 4


def test_shipped_programmes_are_the_policy_structures_but_designed():
    assert shipped_programmes() == ("none", "top_down", "bottom_up", "virtual", "hybrid")


def test_the_base_values_start_from_exactly_top_down():
    from mensi_sim.analysis.optimise_levers import base_values, start_values
    from mensi_sim.experiments.replicate import run_once

    design = small_design()
    values = base_values(design)
    assert values == {
        "where.HR": "in_person",
        "where.PT": "in_person",
        "online_rate": 0.25,
        "incentive.type": "none",
        "incentive.level": 0.0,
    }
    mine = run_once(candidate_scenario(design, values), 4, 0).summary
    theirs = run_once(design.shipped("top_down"), 4, 0).summary
    assert {k: v for k, v in mine.items() if k != "scenario"} == {
        k: v for k, v in theirs.items() if k != "scenario"
    }
    online = start_values(design, {"where": "online", "online_rate": 0.5})
    assert online["where.HR"] == online["where.PT"] == "online" and online["online_rate"] == 0.5
    with pytest.raises(ScenarioError, match=r"search.start: 'nope' is not a decision variable"):
        start_values(design, {"nope": 1})


def test_the_pilot_design_starts_from_top_down_and_a_virtual_like_plan():
    from mensi_sim.analysis.optimise_levers import start_values

    design = load_design(REPO / "designs" / "mensi_pilot.toml")
    first, second = (start_values(design, s) for s in design.spec.search.start)
    assert first["community"] is False and first["structure.IT"] == "in_person"
    assert second["community"] is True and second["structure.IT"] == "online"


def test_docs_experiments_section_7_names_every_design_file_field():
    # the design file's reference is docs/EXPERIMENTS.md section 7: a field added to the
    # schema without a row there fails here (search.start was once missing)
    from mensi_sim.analysis.optimise_spec import (
        ConstraintsSpec,
        DesignSpec,
        HoldoutSpec,
        ParameterLever,
        SearchSpec,
    )

    text = (REPO / "docs" / "EXPERIMENTS.md").read_text(encoding="utf-8")
    section = text[text.index("## 7. ") :]
    section = section[: section.find("\n## ", 1)] if "\n## " in section[1:] else section
    rows = {m for m in re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE)}
    tables = set(re.findall(r"`\[([a-z_]+)", section))
    missing = [f for f in DesignSpec.model_fields if f not in rows | tables]
    missing += [f"search.{f}" for f in SearchSpec.model_fields if f not in rows]
    missing += [f"constraints.{f}" for f in ConstraintsSpec.model_fields if f not in rows]
    missing += [f"holdout.{f}" for f in HoldoutSpec.model_fields if f"`holdout.{f}`" not in section]
    missing += [f"levers.{f}" for f in ParameterLever.model_fields if f"`{f}" not in section]
    assert not missing, f"docs/EXPERIMENTS.md section 7 does not describe {missing}"


def rollout_design(per: str = "region", waves: int = 2):
    spec = {"name": "r", "levers": {"order": {"kind": "rollout", "per": per, "waves": waves}}}
    return design_from_dict(spec, regions_base(weeks=52 * waves))


def test_a_rollout_lever_is_one_random_key_per_region_and_its_order_cut_into_waves():
    design = rollout_design()
    assert [v.name for v in variables(design)] == [
        f"order.{r}" for r in ("HR-1", "HR-2", "PT-1", "PT-2")
    ]
    assert {v.kind for v in variables(design)} == {"key"}
    keys = {"order.HR-1": 0.9, "order.HR-2": 0.1, "order.PT-1": 0.5, "order.PT-2": 0.3}
    # ascending keys: HR-2, PT-2 | PT-1, HR-1; within a wave the regions' own order
    waves = [["HR-2", "PT-2"], ["HR-1", "PT-1"]]
    assert candidate_updates(design, keys) == {"programme.waves": waves}
    sc = candidate_scenario(design, keys)
    assert sc.programme.waves == waves
    # other keys in the same order are the same design (one candidate, one id)
    other = {"order.HR-1": 0.7, "order.HR-2": 0.0, "order.PT-1": 0.65, "order.PT-2": 0.2}
    assert candidate_id(canonical(design, other)) == candidate_id(canonical(design, keys))
    assert canonical(design, canonical(design, keys)) == canonical(design, keys)
    words = describe_design(design, keys)
    assert words.endswith(
        "Rolled out in 2 waves a year apart: wave 1: HR-2, PT-2; wave 2: HR-1, PT-1."
    )
    # by country, 2 countries in 2 waves
    design = rollout_design("country")
    sc = candidate_scenario(design, {"order.HR": 0.8, "order.PT": 0.2})
    assert sc.programme.waves == [["PT"], ["HR"]]


def test_a_rollout_starts_from_its_waves_and_refuses_a_wrong_list():
    from mensi_sim.analysis.optimise_levers import start_values

    design = rollout_design(waves=3)  # 4 regions in 3 waves: sizes 2, 1, 1
    values = start_values(design, {"order": [["PT-1", "HR-1"], ["PT-2"], ["HR-2"]]})
    sc = candidate_scenario(design, values)
    assert sc.programme.waves == [["HR-1", "PT-1"], ["PT-2"], ["HR-2"]]
    with pytest.raises(ScenarioError, match="give 3 lists of region names"):
        start_values(design, {"order": [["PT-1"], ["PT-2"], ["HR-2"]]})
