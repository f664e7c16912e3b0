"""Robustness of the front across a PSA draw set (``[robustness]``): the regret table, the
pairing by draw, resume, the command and report, and one-line errors. Real pymoo searches
and real runs of tiny designs (8-12 schools), a few seconds each."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mensi_sim.analysis.optimise import optimise
from mensi_sim.analysis.optimise_robust import (
    ADOPTION,
    NET_BENEFIT,
    draw_outcomes,
    regret_tables,
    robustness_sentence,
)
from mensi_sim.analysis.optimise_spec import design_from_dict
from mensi_sim.cli import app
from mensi_sim.errors import ScenarioError
from mensi_sim.experiments.spec import load_experiment

from .support import regions_base, small_design, tiny_design_head, toy_base

REPO = Path(__file__).resolve().parents[2]
PRIORS = {
    "adoption.exposure": {"dist": "uniform", "low": 0.05, "high": 0.3, "source": "test"},
    "contacts.rate_in_person": {"dist": "uniform", "low": 0.05, "high": 0.2},
}


def _outcomes(values: dict[str, list[float]], nb: dict[str, list[float]] | None = None):
    rows = []
    for design, column in values.items():
        for d, v in enumerate(column):
            rows.append(
                {
                    "design": design,
                    "draw": d,
                    ADOPTION: v,
                    NET_BENEFIT: (nb or values)[design][d],
                }
            )
    return pd.DataFrame(rows)


def test_the_regret_table_matches_a_hand_computation():
    # four draws, three designs; draw 2 is a tie between a and b at the best value
    adoption = {
        "a": [0.40, 0.30, 0.50, 0.20],
        "b": [0.35, 0.38, 0.50, 0.25],
        "c": [0.20, 0.25, 0.10, 0.30],
    }
    kinds = {"a": "design", "b": "design", "c": "shipped"}
    table, per_draw = regret_tables(_outcomes(adoption), kinds, wtp=20_000.0)
    t = table[table["measure"] == ADOPTION].set_index("design")
    # best per draw: 0.40 (a), 0.38 (b), 0.50 (a and b), 0.30 (c)
    # regrets  a: 0, 0.08, 0, 0.10    b: 0.05, 0, 0, 0.05    c: 0.20, 0.13, 0.40, 0
    assert t.loc["a", "max_regret"] == pytest.approx(0.10)
    assert t.loc["a", "mean_regret"] == pytest.approx(0.18 / 4)
    assert t.loc["b", "max_regret"] == pytest.approx(0.05)
    assert t.loc["b", "mean_regret"] == pytest.approx(0.10 / 4)
    assert t.loc["c", "max_regret"] == pytest.approx(0.40)
    assert t.loc["c", "mean_regret"] == pytest.approx(0.73 / 4)
    # P(best): a wins draw 0, half of draw 2; b draw 1 and half of 2; c draw 3
    assert t.loc["a", "p_best"] == pytest.approx(1.5 / 4)
    assert t.loc["b", "p_best"] == pytest.approx(1.5 / 4)
    assert t.loc["c", "p_best"] == pytest.approx(1 / 4)
    assert t["p_best"].sum() == pytest.approx(1.0)
    assert list(t.index[t["minimax"]]) == ["b"]  # smallest largest regret
    assert not t["robust"].any() and t.loc["c", "kind"] == "shipped"
    assert t.loc["a", "mean_value"] == pytest.approx(np.mean(adoption["a"]))
    assert np.isnan(t["wtp"]).all()
    assert (table.loc[table["measure"] == NET_BENEFIT, "wtp"] == 20_000.0).all()
    by = per_draw[(per_draw["measure"] == ADOPTION)].set_index(["design", "draw"])
    assert by.loc[("c", 1), "regret"] == pytest.approx(0.13)
    assert bool(by.loc[("a", 2), "best"]) and bool(by.loc[("b", 2), "best"])
    sentence = robustness_sentence(table, replications=2)
    assert "not distinguishable across the draws" in sentence
    assert "the minimax-regret choice is b" in sentence


def test_net_benefit_is_wtp_times_adopters_minus_cost_averaged_within_a_draw():
    # two replicates per draw; NB = wtp x mean(adopters_final) - mean(cost)
    index = pd.DataFrame(
        {
            "scenario": ["x/draw-0000", "x/draw-0001", "y/draw-0000", "y/draw-0001"],
            "design": ["x", "x", "y", "y"],
            "draw": [0, 1, 0, 1],
        }
    )
    summary = pd.DataFrame(
        {
            "scenario": np.repeat(index["scenario"], 2).to_numpy(),
            "replicate": [0, 1] * 4,
            "adopters_final": [3, 5, 2, 2, 6, 6, 1, 3],
            "total_cash": [100.0, 300.0, 0.0, 0.0, 900.0, 1100.0, 50.0, 50.0],
            ADOPTION: [0.3, 0.5, 0.2, 0.2, 0.6, 0.6, 0.1, 0.3],
        }
    )
    out = draw_outcomes(summary, index, wtp=1000.0, cost="total_cash").set_index(["design", "draw"])
    assert out.loc[("x", 0), NET_BENEFIT] == pytest.approx(1000 * 4 - 200)
    assert out.loc[("y", 0), NET_BENEFIT] == pytest.approx(1000 * 6 - 1000)
    assert out.loc[("y", 1), NET_BENEFIT] == pytest.approx(1000 * 2 - 50)
    assert out.loc[("x", 1), ADOPTION] == pytest.approx(0.2)
    table, _ = regret_tables(out.reset_index(), {"x": "design", "y": "design"}, 1000.0)
    nb = table[table["measure"] == NET_BENEFIT].set_index("design")
    # draw 0: y 5000 vs x 3800 (x regrets 1200); draw 1: x 2000 vs y 1950 (y regrets 50)
    assert nb.loc["x", "max_regret"] == pytest.approx(1200)
    assert nb.loc["y", "max_regret"] == pytest.approx(50)
    assert nb.loc["y", "minimax"] and nb.loc["x", "p_best"] == pytest.approx(0.5)


def test_a_design_best_in_every_draw_has_no_regret_and_is_named_in_the_table():
    table, _ = regret_tables(
        _outcomes({"a": [0.5, 0.6, 0.7], "b": [0.4, 0.6 - 1e-3, 0.1]}), {"a": "design"}, 1.0
    )
    a = table[(table["measure"] == ADOPTION) & (table["design"] == "a")].iloc[0]
    assert a["max_regret"] == 0 and a["p_best"] == 1 and a["robust"] and a["minimax"]
    assert "a is best in 100% of the 3 draws" in robustness_sentence(table, 1)
    # two identical designs tie under every draw: neither is named, a tie is said
    tied, _ = regret_tables(_outcomes({"a": [0.5, 0.6], "b": [0.5, 0.6]}), {}, 1.0)
    assert (tied["p_best"] == 0.5).all() and not tied["robust"].any()
    sentence = robustness_sentence(tied, 1)
    assert "not distinguishable" in sentence and "nothing beats it under any draw" in sentence


# priors under which the toy's programme matters in every draw: with exposure as low as
# PRIORS allows, ten schools adopt nothing in a year with or without mentoring, so the
# design only ties with no programme there (under common random numbers both arms then
# adopt exactly alike). Measured: with these, the design is ahead in all 8 draws at root
# seeds 3-7 (10 schools) and 3-5 (20 schools); with PRIORS it tied in 1-4 of the 8 draws
# at seeds 3-6.
STRONG_PRIORS = {
    "adoption.exposure": {"dist": "uniform", "low": 0.3, "high": 0.6, "source": "test"},
    "contacts.rate_in_person": {"dist": "uniform", "low": 0.1, "high": 0.3},
}


def _toy_design(**robustness):
    """Ten schools, a year: one lever (mentees per mentor); the front is the one design of
    most adoption, compared with no programme."""
    return design_from_dict(
        {
            "name": "toy_robust",
            "root_seed": 3,
            "levers": {"k": {"parameter": "network.mentees_per_mentor", "integers": [2, 7]}},
            "objectives": {"final_adoption_share": "max"},
            "search": {"population": 4, "generations": 1, "replications": 4, "max_replications": 4},
            "holdout": {"replications": 2, "max_designs": 1, "compare": ["none"]},
            "robustness": {"draws": 8, "replications": 2, "priors": STRONG_PRIORS, **robustness},
        },
        toy_base(10, weeks=52, **{"adoption.initial": "share"}),
    )


@pytest.fixture(scope="module")
def toy_result():
    return optimise(_toy_design(), executor="serial")


def test_a_real_design_best_in_every_draw_gets_regret_0_and_is_named(toy_result):
    r = toy_result
    per = r.robustness_draws[r.robustness_draws["measure"] == ADOPTION]
    always = per.groupby("design")["best"].all()
    # the design is ahead of no programme under each of the 8 draws (STRONG_PRIORS)
    assert always.sum() == 1
    best = always.idxmax()
    row = r.robustness[(r.robustness["measure"] == ADOPTION)].set_index("design").loc[best]
    assert row["max_regret"] == 0 and row["mean_regret"] == 0
    assert row["p_best"] == 1 and row["robust"] and row["minimax"] and row["kind"] == "design"
    assert r.robust_design == best
    assert f"{best} is best in 100% of the 8 draws" in r.manifest["robustness"]
    none = r.robustness[(r.robustness["measure"] == ADOPTION) & (r.robustness["design"] == "none")]
    assert (none["max_regret"] > 0).all() and (none["p_best"] == 0).all()
    # the evaluated designs are the out-of-sample front and the compared programmes
    front = set(r.front.loc[(r.front["kind"] == "design") & r.front["front"], "scenario"])
    assert set(r.robustness["design"]) == front | {"none"}


def test_the_draws_are_paired_across_designs_in_the_recorded_evaluations(toy_result):
    r, design = toy_result, _toy_design()
    ev = r.evaluations[r.evaluations["phase"] == "robustness"]
    names = list(design.draws.names)
    assert len(ev) == 8 * 2 * ev["design"].nunique() and ev["design"].nunique() == 2
    for draw, rows in ev.groupby("draw"):
        # every design: the same replicates, the same root seed, the same parameter values
        per = rows.groupby("design")
        assert per["replicate"].apply(sorted).map(tuple).nunique() == 1
        assert set(rows["replicate"]) == {0, 1}
        assert rows["seed"].nunique() == 1
        for p in names:
            assert rows[p].nunique() == 1
            assert rows[p].iloc[0] == pytest.approx(design.draws.values[int(draw), names.index(p)])
    # each draw has its own stream, apart from the search's and the holdout's
    seeds = ev.groupby("draw")["seed"].first()
    assert seeds.nunique() == 8
    other = set(r.evaluations.loc[r.evaluations["phase"] != "robustness", "seed"])
    assert not other & set(seeds)
    # the draws really vary the parameters
    assert ev.groupby("draw")["adoption.exposure"].first().nunique() == 8


def test_an_interrupted_robustness_phase_resumes_to_the_same_tables(tmp_path):
    design = small_design(
        search={"population": 4, "generations": 1},
        holdout={"replications": 2, "max_designs": 2, "compare": ["none", "top_down"]},
        robustness={"draws": 3, "replications": 2, "priors": PRIORS},
    )
    full = optimise(design, executor="serial", out=tmp_path / "full", batch=2)
    for name in ("robustness", "robustness_draws", "evaluations"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "full" / f"{name}.parquet"), getattr(full, name)
        )
    manifest = json.loads((tmp_path / "full" / "manifest.json").read_text())
    assert manifest["robustness"] == full.manifest["robustness"]
    assert manifest["robustness_draws"] == 3
    cut = tmp_path / "cut"
    shutil.copytree(tmp_path / "full", cut)
    batches = sorted((cut / "robustness" / "runs").iterdir())
    assert len(batches) >= 2
    for d in batches[len(batches) // 2 :]:
        shutil.rmtree(d)
    for f in cut.glob("*.parquet"):
        f.unlink()
    kept = sum(len(pd.read_parquet(d / "summary.parquet")) for d in batches[: len(batches) // 2])
    lost = int((full.evaluations["phase"] == "robustness").sum()) - kept
    resumed = optimise(design, executor="serial", out=cut, resume=True, batch=2)
    assert resumed.manifest["n_runs_this_call"] == lost > 0
    for name in ("robustness", "robustness_draws", "front", "evaluations"):
        pd.testing.assert_frame_equal(getattr(resumed, name), getattr(full, name), check_exact=True)


def test_a_design_without_robustness_keeps_its_hash_and_says_not_evaluated():
    plain = small_design()
    assert plain.draws is None
    # the hash of a design without [robustness] is what it was before the table existed
    # (an older results folder still resumes)
    import hashlib

    spec = plain.spec.model_dump(mode="json", exclude={"executor", "robustness"})
    from mensi_sim.scenario.loader import scenario_hash

    blob = json.dumps(
        {"spec": spec, "base": scenario_hash(plain.base)}, sort_keys=True, separators=(",", ":")
    ).encode()
    assert plain.hash == hashlib.sha256(blob).hexdigest()[:16]
    robust = small_design(robustness={"draws": 3, "priors": PRIORS})
    assert robust.hash != plain.hash
    assert small_design(robustness={"draws": 4, "priors": PRIORS}).hash != robust.hash


def _regions_design(**robustness):
    """Regions and incentive levers only: nothing structures_psa.toml draws."""
    return design_from_dict(
        {
            "name": "regions",
            "levers": {
                "where": {"kind": "regions", "per": "country"},
                "incentive": {"kind": "incentive", "types": ["none", "funding"]},
            },
            "robustness": robustness,
        },
        regions_base(),
    )


def test_uncertainty_reuses_an_experiment_files_priors_and_draws():
    psa = REPO / "experiments" / "structures_psa.toml"
    design = _regions_design(uncertainty=str(psa), draws=5, wtp=1000.0)
    # the experiment's own draws: its priors, under its root seed
    experiment = load_experiment(psa).with_changes(draws=5)
    assert design.draws.names == experiment.draws.names
    np.testing.assert_array_equal(design.draws.values, experiment.draws.values)
    assert design.uncertainty.wtp == 1000.0
    whole = _regions_design(uncertainty=str(psa))
    assert whole.draws.n == 200 and whole.uncertainty.wtp == 20_000.0
    # a drawn parameter that a lever sets is refused, naming both
    with pytest.raises(ScenarioError, match="contacts.rate_online is drawn and also the lever"):
        small_design(robustness={"uncertainty": str(psa)})


@pytest.mark.parametrize(
    ("robustness", "field"),
    [
        ({"draws": 1, "priors": PRIORS}, "robustness.draws"),
        ({"draws": 3, "priors": PRIORS, "replicates": 2}, "robustness.replicates: unknown key"),
        ({"draws": 3, "priors": PRIORS, "replications": 0}, "robustness.replications"),
        ({"priors": PRIORS}, "draws: required"),
        ({"draws": 3}, "needs priors"),
        (
            {"draws": 3, "priors": {"adoption.exposure": {"dist": "uniform", "low": 0.3}}},
            "robustness.priors.adoption.exposure",
        ),
        (
            {"draws": 3, "priors": {"adoption.nonsense": {"dist": "uniform", "low": 0, "high": 1}}},
            "robustness: unknown parameter 'adoption.nonsense'",
        ),
        (
            {
                "draws": 3,
                "priors": {"contacts.rate_online": {"dist": "uniform", "low": 0.1, "high": 0.5}},
            },
            "contacts.rate_online is drawn and also the lever levers.online_rate",
        ),
        ({"uncertainty": "no/such/file.toml"}, "robustness.uncertainty: file not found"),
        (
            {"uncertainty": str(REPO / "experiments" / "structures.toml")},
            "robustness.uncertainty: ",
        ),
        (
            {"uncertainty": str(REPO / "experiments" / "structures_psa.toml"), "priors": PRIORS},
            "not both",
        ),
    ],
)
def test_bad_robustness_input_is_one_line_naming_the_field(robustness, field):
    with pytest.raises(ScenarioError) as err:
        small_design(robustness=robustness)
    message = str(err.value)
    assert "\n" not in message and field in message and message.startswith("design: ")


def _design_file(tmp_path: Path, robustness: str) -> Path:
    psa = (REPO / "experiments" / "structures_psa.toml").as_posix()
    path = tmp_path / "tiny.toml"
    path.write_text(
        tiny_design_head("tiny_robust")
        + f"""[objectives]
final_adoption_share = "max"
total_cash = "min"
[search]
population = 4
generations = 1
replications = 4
[holdout]
replications = 2
max_designs = 2
compare = ["none", "top_down"]
{robustness.replace("PSA", psa)}
"""
    )
    return path


def test_the_command_prints_and_reports_the_regret_table(tmp_path):
    path = _design_file(tmp_path, '[robustness]\nuncertainty = "PSA"\ndraws = 2\nreplications = 1')
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["optimise", str(path), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "robustness: 2 parameter draws" in res.output and "max regret" in res.output
    assert "minimax" in res.output and "P(best)" in res.output
    assert "across 2 parameter draws x 1 replicates" in res.output
    # one table per measure, each starting with the design (so none is cut at 80 columns)
    assert "regret on adoption at the horizon" in res.output
    assert "regret on net benefit at EUR" in res.output
    assert "wider than" not in res.output.split("robustness:", 1)[1]
    for name in ("robustness", "robustness_draws"):
        assert (out / f"{name}.parquet").is_file()
    html = (out / "report.html").read_text()
    assert "Robustness across parameter uncertainty" in html and "max regret" in html
    table = pd.read_parquet(out / "robustness.parquet")
    assert set(table["measure"]) == {ADOPTION, NET_BENEFIT}
    assert (table.loc[table["measure"] == NET_BENEFIT, "wtp"] == 20_000.0).all()


def test_a_bad_robustness_table_in_a_file_is_one_line_and_writes_nothing(tmp_path):
    path = _design_file(tmp_path, '[robustness]\nuncertainty = "PSA"\ndraws = 1')
    out = tmp_path / "never"
    res = CliRunner().invoke(app, ["optimise", str(path), "--out", str(out)])
    assert res.exit_code == 2
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "robustness.draws" in lines[0]
    assert not out.exists()


def test_without_robustness_the_report_and_manifest_say_not_evaluated():
    from mensi_sim.report.optimise import robustness_part

    r = optimise(
        design_from_dict(
            {
                "name": "plain",
                "levers": {"k": {"parameter": "network.mentees_per_mentor", "integers": [2, 3]}},
                "objectives": {"final_adoption_share": "max"},
                "search": {
                    "population": 4,
                    "generations": 1,
                    "replications": 4,
                    "max_replications": 4,
                },
                "holdout": {"replications": 2, "max_designs": 1, "compare": ["none"]},
            },
            regions_base(),
        ),
        executor="serial",
    )
    assert r.robustness.empty and r.robust_design is None
    assert r.manifest["robustness"].startswith("not evaluated")
    assert "was not evaluated" in robustness_part(r)
    assert set(r.evaluations["phase"]) == {"search", "holdout"}


def test_the_shipped_designs_commented_robustness_example_is_valid(tmp_path):
    from mensi_sim.analysis.optimise_spec import load_design

    src = (REPO / "designs" / "mensi_pilot.toml").read_text()
    base = '"../scenarios/mensi_pilot.toml"'
    assert base in src
    src = src.replace(base, f'"{(REPO / "scenarios" / "mensi_pilot.toml").as_posix()}"')
    start = src.index("# [robustness]")
    path = tmp_path / "pilot.toml"
    path.write_text(src[:start] + "\n".join(line[2:] for line in src[start:].splitlines()))
    design = load_design(path)
    assert design.draws.n == 50 and design.spec.robustness.replications == 2
    assert "contacts.rate_online" not in design.draws.names  # a lever of the design
