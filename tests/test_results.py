"""The one Results object: made by simulate() and sweep(), saved, loaded, compared.

Built from real runs (the tiny scenario, a tiny sweep of three structures with its
comparison and sensitivity tables), so every method is checked against the tables
the other floors really write.
"""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support import TINY_SCENARIO, sensitivity_experiment, write_scenario
from viz_support import sweep_results

from mensi_sim import Results, SimulationResult, load_scenario, simulate, sweep
from mensi_sim.analysis import comparison_table, experiment_sensitivity
from mensi_sim.errors import ResultsError
from mensi_sim.experiments import SweepOptions, load_experiment, replicate_model
from mensi_sim.metrics import SUMMARY_OUTCOMES
from mensi_sim.results import FRAME_NAMES
from mensi_sim.results.display import censored_mean, formatted_headline, reading_weeks
from mensi_sim.scenario import scenario_hash
from mensi_sim.stats import describe_outcomes

TINY_SENSITIVITY = sensitivity_experiment("tiny.toml")


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sweep_results(tmp_path_factory)


def test_simulate_returns_results_and_the_old_name_is_the_same_class(tiny_result) -> None:
    assert isinstance(tiny_result, Results) and SimulationResult is Results
    assert tiny_result.seed == 7 and tiny_result.scenario.name == "tiny"
    assert len(tiny_result.summary) == 3 and set(tiny_result.runs["status"]) == {"ok"}
    assert not tiny_result.is_sweep and tiny_result.experiment is None
    head = tiny_result.headline()
    assert list(head["outcome"]) == list(SUMMARY_OUTCOMES)


def test_save_then_load_is_the_same_results(tiny_result, tmp_path: Path) -> None:
    res = Results(  # a copy: saving sets .path, and the fixture is shared
        tiny_result.timeseries,
        tiny_result.summary,
        tiny_result.runs,
        scenario=tiny_result.scenario,
        seed=tiny_result.seed,
    )
    out = res.save(tmp_path / "res")
    assert out == tmp_path / "res" and res.path == out
    back = Results.load(out)
    for name in FRAME_NAMES:
        pd.testing.assert_frame_equal(getattr(back, name), getattr(res, name))
    assert back.manifest == res.manifest  # built once, on save, then kept
    assert back.seed == 7
    assert scenario_hash(back.scenario) == scenario_hash(res.scenario)
    pd.testing.assert_frame_equal(back.headline(), res.headline())
    with pytest.raises(ResultsError, match="not empty"):
        res.save(out)


def test_manifest_records_the_command_line_given_to_simulate(tmp_path: Path) -> None:
    sc = load_scenario(write_scenario(tmp_path, TINY_SCENARIO))
    res = simulate(sc, replications=2, seed=3, steps=2, command_line=["mensi-sim", "run", "x"])
    m = res.manifest
    assert m["command_line"] == "mensi-sim run x"
    assert m["root_seed"] == 3 and m["replications"] == 2 and m["steps"] == 2
    assert m["executor"] == "serial"


def test_to_df_puts_each_run_beside_its_outcomes(tiny_result) -> None:
    df = tiny_result.to_df()
    assert len(df) == len(tiny_result.runs)
    assert {"status", "seed", "duration_s", "final_adoption_share", "total_cost"} <= set(df)
    assert not any(c.endswith(("_x", "_y")) for c in df.columns)
    pd.testing.assert_series_equal(
        df["total_cost"], tiny_result.summary["total_cost"], check_names=False
    )
    pd.testing.assert_frame_equal(tiny_result.to_df("timeseries"), tiny_result.timeseries)
    with pytest.raises(ValueError, match="unknown table 'nope'"):
        tiny_result.to_df("nope")


def test_a_single_scenario_has_nothing_to_compare(tiny_result) -> None:
    with pytest.raises(ResultsError, match="one scenario only"):
        tiny_result.comparison()
    assert tiny_result.try_comparison() is None and tiny_result.comparison_source == ""


def test_loaded_sweep_reads_its_stored_tables(sweep_dir: Path) -> None:
    res = Results.load(sweep_dir)
    assert res.is_sweep and not res.is_sample_design
    assert res.scenarios == ["none", "top_down", "virtual"]
    assert set(res.tables) == {"comparison", "sensitivity"}
    assert res.baseline == "none"
    # the stored comparison is returned as it is, not computed again
    assert res.comparison() is res.tables["comparison"]
    assert res.comparison_source == "file"
    assert res.sensitivity() is res.tables["sensitivity"]
    assert res.experiment.name == "tiny_sweep" and res.scenario.name == "tiny"
    assert res.outcomes == tuple(res.manifest["outcomes"])


def test_comparison_against_another_baseline_is_computed_once(sweep_dir: Path) -> None:
    res = Results.load(sweep_dir)
    table = res.comparison("top_down")
    pd.testing.assert_frame_equal(table, comparison_table(res.summary, "top_down"))
    assert set(table["baseline"]) == {"top_down"}
    assert res.comparison("top_down") is table  # kept
    with pytest.raises(ResultsError, match="no scenario 'nope'"):
        res.comparison("nope")


def test_baseline_precedence_stored_then_experiment_then_rule(
    sweep_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(sweep_dir, copy)
    res = Results.load(copy)
    res.write_table("comparison", comparison_table(res.summary, "virtual"))
    assert Results.load(copy).baseline == "virtual"  # what compare used
    (copy / "comparison.parquet").unlink()
    again = Results.load(copy)
    assert again.baseline == "none"  # the experiment's
    assert again.comparison_source == "computed"
    assert again.baseline_for("top_down") == "top_down"
    with pytest.raises(ResultsError, match=r"no scenario 'x' in .*copy \(none, top_down"):
        again.baseline_for("x")


def test_one_replicate_gives_no_comparison_but_a_note(tmp_path: Path) -> None:
    write_scenario(tmp_path, TINY_SCENARIO)
    exp = write_scenario(
        tmp_path,
        """\
        name = "one"
        replications = 1
        steps = 2
        executor = "serial"
        [base]
        scenario = "tiny.toml"
        [[factors.scenarios]]
        name = "none"
        overrides = { "network.structure" = "none" }
        [[factors.scenarios]]
        name = "top_down"
        """,
        "one.toml",
    )
    res = sweep(exp)
    assert res.try_comparison() is None
    assert res.notes == ["comparison: fewer than 2 replicates; no paired intervals"]
    res.try_comparison()
    assert len(res.notes) == 1  # the note is made once


@pytest.mark.parametrize("root_seed", [3, 0])  # 0: SALib's Sobol bootstrap took 0 for none
def test_sweep_results_in_memory_match_the_folder(tmp_path: Path, root_seed: int) -> None:
    write_scenario(tmp_path, TINY_SCENARIO)
    spec = tmp_path / "tiny_sens.toml"
    text = textwrap.dedent(TINY_SENSITIVITY).replace("root_seed = 3", f"root_seed = {root_seed}")
    spec.write_text(text, encoding="utf-8")
    res = sweep(spec, SweepOptions(out=tmp_path / "out"), command_line="test")
    assert res.path == tmp_path / "out" and res.is_sample_design
    back = Results.load(res.path)
    for name in FRAME_NAMES:
        pd.testing.assert_frame_equal(getattr(back, name), getattr(res, name), check_exact=True)
    # sensitivity of the in-memory and of the loaded (experiment rebuilt) results agree
    table = res.sensitivity()
    assert set(table["method"]) == {"morris", "sobol"}
    pd.testing.assert_frame_equal(back.sensitivity(), table)
    with pytest.raises(ResultsError, match="name the scenario"):
        back.replay_source()  # no sampled point stands for the others


def test_sample_points_are_drawn_once_when_the_experiment_is_loaded(
    tmp_path: Path, monkeypatch
) -> None:
    from mensi_sim.experiments import design

    write_scenario(tmp_path, TINY_SCENARIO)
    spec = tmp_path / "tiny_sens.toml"
    spec.write_text(textwrap.dedent(TINY_SENSITIVITY), encoding="utf-8")
    exp = load_experiment(spec)
    assert [s.label for s in exp.samples] == ["morris", "sobol"]
    morris = exp.samples[0]
    # 3 trajectories of D + 1 points, D = 3: the two parameters and the dummy
    assert morris.points.shape == (3 * 4, 3)
    res = sweep(exp, executor="serial")

    def no_second_draw(*args, **kwargs):
        raise AssertionError("the sample matrix was drawn again")

    monkeypatch.setattr(design, "sample_matrix", no_second_draw)
    table, _ = experiment_sensitivity(exp, res.summary)
    assert set(table["method"]) == {"morris", "sobol"}


def test_sweep_options_are_one_object(tmp_path: Path) -> None:
    write_scenario(tmp_path, TINY_SCENARIO)
    spec = tmp_path / "tiny_sens.toml"
    spec.write_text(textwrap.dedent(TINY_SENSITIVITY), encoding="utf-8")
    exp = load_experiment(spec)
    opts = SweepOptions(precision=0.01).resolved(exp.spec)
    assert opts.executor == "serial" and opts.outcome == "final_adoption_share"
    # an adaptive sweep starts from at least MIN_START (10) replicates
    assert opts.max_replications == 1000 and opts.replications == 10
    assert SweepOptions(replications=1, precision=0.1).resolved(exp.spec).replications == 10
    assert SweepOptions(replications=12, precision=0.1).resolved(exp.spec).replications == 12
    assert SweepOptions(replications=1).resolved(exp.spec).replications == 1  # not adaptive
    with pytest.raises(TypeError, match="executr"):
        sweep(exp, executr="serial")


def test_model_is_the_recorded_run_bit_for_bit(tiny_result) -> None:
    model = tiny_result.model(replicate=1)
    same = replicate_model(tiny_result.scenario, tiny_result.seed, 1)
    assert np.array_equal(model.state.capacity, same.state.capacity)
    steps = int(tiny_result.runs["steps"].iloc[0])
    model.run_for(steps)
    ts = tiny_result.timeseries
    final = ts[(ts["replicate"] == 1) & (ts["step"] == steps)]["adoption_share"].iloc[0]
    assert float(model.state.adopted.mean()) == final
    with pytest.raises(ResultsError, match="no scenario 'other'"):
        tiny_result.model("other")


def test_results_need_a_manifest_or_a_scenario() -> None:
    empty = pd.DataFrame()
    with pytest.raises(ValueError, match="manifest or the scenario"):
        Results(empty, empty, empty)
    with pytest.raises(ResultsError, match="not in a folder"):
        Results(empty, empty, empty, manifest={}).write_table("comparison", empty)


# --- weeks to 50% adoption, censored at the run length ---------------------------


def test_a_censored_mean_of_weeks_to_half_adoption_says_so() -> None:
    assert censored_mean("120.0", reached=5, runs=5, horizon=156.0) == "120.0"
    assert censored_mean("156.0", reached=0, runs=5, horizon=156.0) == "> 156"
    assert censored_mean("140.2", reached=2, runs=5, horizon=156.0) == "≥ 140.2"


def test_the_headline_never_shows_the_run_length_as_a_time_to_half_adoption(tiny_result) -> None:
    summary = tiny_result.summary
    assert not summary["half_adoption_reached"].any()  # 6 weeks: no run gets there
    weeks = int(tiny_result.scenario.time.steps)
    head = tiny_result.headline().set_index("outcome")
    row = head.loc["weeks_to_half_adoption"]
    assert row["mean"] == weeks  # the numbers stay what they are: the run length
    assert row["formatted"] == f"> {weeks} (not reached)"
    others = head.drop(index="weeks_to_half_adoption")["formatted"]
    assert not others.str.match("[>≥]").any()  # no other outcome is censored

    # one run that got there in 3 weeks: the mean counts the others' run length, a bound
    some = summary.copy()
    some.loc[some.index[0], ["half_adoption_reached", "weeks_to_half_adoption"]] = [True, 3]
    partly = Results(tiny_result.timeseries, some, tiny_result.runs, scenario=tiny_result.scenario)
    cell = partly.headline().set_index("outcome").loc["weeks_to_half_adoption", "formatted"]
    assert cell.startswith("≥ 5.0 [")  # (3 + 6 + 6) / 3

    every = some.assign(half_adoption_reached=True)
    whole = Results(tiny_result.timeseries, every, tiny_result.runs, scenario=tiny_result.scenario)
    cell = whole.headline().set_index("outcome").loc["weeks_to_half_adoption", "formatted"]
    assert cell.startswith("5.0 [")


def test_the_notebook_table_says_the_week_each_outcome_is_read_at(tmp_path: Path) -> None:
    text = TINY_SCENARIO.replace("steps = 6", "steps = 8") + "\n[programme]\nend_week = 3\n"
    res = simulate(load_scenario(write_scenario(tmp_path, text)), replications=2, seed=1)
    labels = re.findall(r"<td style='text-align:left'>(.*?)</td>", res._repr_html_())
    assert "Adoption share at the horizon, week 8" in labels
    assert "Adoption share at the programme&#x27;s end, week 3" in labels  # escaped '
    # the headline's labels, given the weeks (Results.headline passes none yet)
    head = formatted_headline(
        describe_outcomes(res.summary, res.outcomes), reading_weeks(res.timeseries)
    )
    assert "Equity gap at the horizon, week 8 (0-1 scale)" in set(head["label"])
