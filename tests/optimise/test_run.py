"""The optimisation run: the replicate rule, out-of-sample verdicts, resume, executors, the
command. Tiny designs (12 schools, 30 weeks) so that each test takes seconds."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from mensi_sim.analysis.optimise import optimise
from mensi_sim.analysis.optimise_spec import design_from_dict
from mensi_sim.cli import app
from mensi_sim.errors import ResultsError

from .support import regions_base, small_design, tiny_design_head, toy_base

REPO = Path(__file__).resolve().parents[2]


def test_replicates_double_until_the_front_is_stable_or_the_cap():
    # adoption of 10 schools over 30 weeks is very noisy: the front of generation 0 is
    # unstable at 4 replicates, so the rule doubles them (4 -> 8 -> 16, the cap)
    design = design_from_dict(
        {
            "name": "noisy",
            "root_seed": 2,
            "levers": {"m": {"kind": "mentors", "candidates": list(range(10))}},
            "objectives": {"final_adoption_share": "max", "total_cash": "min"},
            "search": {
                "population": 8,
                "generations": 1,
                "replications": 4,
                "max_replications": 16,
                "stability": 0.95,
            },
            "holdout": {"replications": 2, "max_designs": 1, "compare": ["none"]},
        },
        toy_base(10, weeks=30, **{"adoption.initial": "share"}),
    )
    result = optimise(design, executor="serial")
    stages = result.stability[result.stability["stage"] == "generation 0"]
    reps = stages["replications"].tolist()
    assert reps[0] == 4 and reps == [4 * 2**i for i in range(len(reps))] and reps[-1] <= 16
    assert (stages["stability"].iloc[:-1] < 0.95).all()
    assert stages["stability"].iloc[-1] >= 0.95 or reps[-1] == 16
    assert len(reps) >= 2  # the noise was real: at least one doubling
    # every candidate is evaluated on the same, final number of replicates
    final = reps[-1]
    assert (result.candidates["replications"] == final).all()
    search = result.evaluations[result.evaluations["phase"] == "search"]
    per = search.groupby("scenario")["replicate"].apply(sorted)
    for name in result.candidates["candidate"]:
        assert per[name] == list(range(final))


def test_a_design_equal_to_top_down_is_not_said_to_beat_it():
    # regions of 3 schools: with k = 2 or 3 each mentor gets the 2 other schools, so both
    # designs build exactly top_down's network; their paired differences are exactly 0 and
    # no verdict claims more
    design = design_from_dict(
        {
            "name": "same",
            "root_seed": 1,
            "levers": {"k": {"parameter": "network.mentees_per_mentor", "integers": [2, 3]}},
            "objectives": {"final_adoption_share": "max"},
            "search": {"population": 4, "generations": 1, "replications": 4, "max_replications": 4},
            "holdout": {"replications": 6, "max_designs": 4, "compare": ["top_down", "none"]},
        },
        regions_base(),
    )
    result = optimise(design, executor="serial")
    designs = result.front[result.front["kind"] == "design"]
    assert len(designs) >= 1
    vs = result.paired[result.paired["programme"] == "top_down"]
    assert set(vs["design"]) == set(designs["scenario"])
    assert (vs["difference"] == 0).all() and (vs["ci_low"] == vs["ci_high"]).all()
    assert not vs["better"].any() and not vs["significant"].any()
    assert all("top_down" not in b.split(",") for b in designs["beats"])
    assert not designs["beats_all"].any()
    # the out-of-sample replicates are fresh: another root seed than the search's
    hold = result.evaluations[result.evaluations["phase"] == "holdout"]
    assert set(hold["seed"]) == {design.spec.root_seed + 1}
    assert set(result.evaluations.loc[result.evaluations["phase"] == "search", "seed"]) == {1}


def test_budget_and_verdict(tmp_path):
    result = optimise(small_design(), executor="serial", out=tmp_path / "a")
    # the budget is top_down's mean cash per year on the search's replicates
    search = result.evaluations[
        (result.evaluations["phase"] == "search") & (result.evaluations["scenario"] == "top_down")
    ].sort_values("replicate")
    years = 30 / 52
    assert result.budget == pytest.approx(search["total_cash"].iloc[:4].mean() / years)
    front = result.front
    assert set(front.loc[front["kind"] == "shipped", "scenario"]) == {
        "none",
        "top_down",
        "bottom_up",
        "virtual",
        "hybrid",
    }
    designs = front[front["kind"] == "design"]
    assert designs["knee"].sum() <= 1  # none when the front's returns do not diminish
    assert designs["budget_best"].sum() <= 1
    # a design is said to beat a programme only with a paired CI wholly above 0
    for _, row in designs.iterrows():
        beaten = {b for b in row["beats"].split(",") if b}
        mine = result.paired[
            (result.paired["design"] == row["scenario"])
            & (result.paired["outcome"] == "final_adoption_share")
        ].set_index("programme")
        for programme, pair in mine.iterrows():
            assert (programme in beaten) == bool(pair["ci_low"] > 0)
    assert isinstance(result.verdict, str) and result.verdict
    for name in ("candidates", "front", "paired", "stability", "evaluations"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "a" / f"{name}.parquet"), getattr(result, name)
        )
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["design_hash"] == result.design.hash


def _tables(result):
    return {n: getattr(result, n) for n in ("candidates", "front", "paired", "stability")}


def test_an_interrupted_optimisation_resumes_to_the_same_result(tmp_path):
    full = optimise(small_design(), executor="serial", out=tmp_path / "full")
    # what a kill leaves: some batches of the search done, none of the holdout, no tables
    cut = tmp_path / "cut"
    shutil.copytree(tmp_path / "full", cut)
    batches = sorted((cut / "search" / "runs").iterdir())
    for d in batches[len(batches) // 2 :]:
        shutil.rmtree(d)
    shutil.rmtree(cut / "holdout")
    for f in cut.glob("*.parquet"):
        f.unlink()
    lost = len(full.evaluations) - sum(
        len(pd.read_parquet(d / "summary.parquet")) for d in batches[: len(batches) // 2]
    )
    with pytest.raises(ResultsError, match="use --resume"):
        optimise(small_design(), executor="serial", out=cut)
    resumed = optimise(small_design(), executor="serial", out=cut, resume=True)
    assert resumed.manifest["n_runs_this_call"] == lost
    for name, frame in _tables(full).items():
        pd.testing.assert_frame_equal(_tables(resumed)[name], frame, check_exact=True)
    again = optimise(small_design(), executor="serial", out=cut, resume=True)
    assert again.manifest["n_runs_this_call"] == 0
    # another design may not resume this folder
    other = small_design(root_seed=99)
    with pytest.raises(ResultsError, match="made by a different design"):
        optimise(other, executor="serial", out=cut, resume=True)


@pytest.mark.slow
def test_local_pool_and_dask_give_the_same_front_as_serial():
    serial = optimise(small_design(), executor="serial")
    for executor in ("local", "dask"):
        other = optimise(small_design(), executor=executor, workers=2)
        for name, frame in _tables(serial).items():
            pd.testing.assert_frame_equal(_tables(other)[name], frame, check_exact=True)


def _design_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(
        tiny_design_head("tiny")
        + """[levers.rate]
parameter = "contacts.rate_online"
range = [0.1, 0.9]
[objectives]
final_adoption_share = "max"
total_cash = "min"
[constraints]
budget = "top_down"
[search]
population = 4
generations = 1
replications = 4
[holdout]
replications = 4
max_designs = 2
"""
    )
    return path


def test_the_command_writes_tables_figure_and_report(tmp_path):
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["optimise", str(_design_file(tmp_path)), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "verdict:" in res.output and "chosen:" in res.output
    assert "budget EUR" in res.output
    for name in ("candidates", "front", "paired", "stability", "evaluations"):
        assert (out / f"{name}.parquet").is_file()
    for name in ("optimisation.png", "optimisation.svg", "report.html", "manifest.json"):
        assert (out / name).is_file()
    html = (out / "report.html").read_text()
    assert "Optimised programme design" in html and "data:image/png;base64," in html
    # a second run into the same folder is refused; --resume runs nothing new
    res = CliRunner().invoke(app, ["optimise", str(_design_file(tmp_path)), "--out", str(out)])
    assert res.exit_code == 2 and "use --resume" in res.output
    res = CliRunner().invoke(
        app, ["optimise", str(_design_file(tmp_path)), "--out", str(out), "--resume"]
    )
    assert res.exit_code == 0 and " 0 runs in " in res.output


def test_a_bad_design_file_is_one_line_and_writes_nothing(tmp_path):
    path = _design_file(tmp_path)
    path.write_text(path.read_text().replace("range = [0.1, 0.9]", "range = [0.1, 3.0]"))
    out = tmp_path / "never"
    res = CliRunner().invoke(app, ["optimise", str(path), "--out", str(out)])
    assert res.exit_code == 2
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "levers.rate" in lines[0]
    assert not out.exists()


@pytest.mark.slow
def test_a_killed_optimisation_resumes_to_the_uninterrupted_result(tmp_path, processes):
    # waits on conditions only (batch folders written, the process gone): a loaded machine
    # makes it slower, never wrong
    import os
    import signal
    import subprocess
    import sys
    import time

    from mensi_sim.analysis.optimise_spec import load_design
    from mensi_sim.experiments.runstore import batch_dirs

    path = _design_file(tmp_path)
    path.write_text(path.read_text().replace("generations = 1", "generations = 2"))
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "mensi_sim.cli", "optimise", str(path), "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    log = tmp_path / "optimise.log"
    with open(log, "wb") as sink:
        proc = processes(
            [*command, "--batch-size", "1"],
            cwd=REPO,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    while len(batch_dirs(out / "search")) < 8 and proc.poll() is None:
        time.sleep(0.01)
    assert proc.poll() is None, f"ended before the kill: {log.read_text()[-2000:]}"
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    assert not (out / "front.parquet").exists()
    done = subprocess.run([*command, "--resume"], cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr + done.stdout
    fresh = optimise(load_design(path), executor="serial")
    for name, frame in _tables(fresh).items():
        pd.testing.assert_frame_equal(pd.read_parquet(out / f"{name}.parquet"), frame)
    # nothing was run twice: one record per (scenario, replicate) in each phase
    from mensi_sim.experiments.runstore import read_runs

    for phase in ("search", "holdout"):
        records = read_runs(out / phase)
        assert not records.duplicated(["scenario", "replicate"]).any()
