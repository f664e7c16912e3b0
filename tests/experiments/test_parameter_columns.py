"""runs.parquet holds the parameters of the design as typed columns (issue 12), one per
parameter the factors set, with the value each run's scenario had; folders written with
the earlier single JSON text ``parameters`` still load, into the same columns."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from mensi_sim import Results, sweep
from mensi_sim.experiments import load_experiment
from mensi_sim.experiments.runner import with_parameters

from .helpers import SMALL, write_experiment

HEAD = SMALL.split("[[factors.scenarios]]")[0].replace("replications = 3", "replications = 2")
LEVERS_AND_POLICIES = (
    HEAD
    + """
[factors.levers]
"network.structure" = ["none", "virtual"]

[[factors.policies]]
name = "slow"
overrides = { "adoption.p" = 0.001 }

[[factors.policies]]
name = "funded"
overrides = { incentives = [{ type = "funding", target = "participants" }] }
"""
)
SAMPLED = (
    HEAD
    + """
[factors.uncertainties]
"adoption.p" = [0.0005, 0.005]
"contacts.max_delegates" = [1, 4]

[[factors.samples]]
method = "lhs"
n = 3
"""
)


def test_levers_and_policies_are_typed_columns(tmp_path: Path) -> None:
    exp = load_experiment(write_experiment(tmp_path, LEVERS_AND_POLICIES))
    res = sweep(exp, executor="serial", out=tmp_path / "out")
    on_disk = pq.read_table(tmp_path / "out" / "runs.parquet").to_pandas()
    for runs in (res.runs, on_disk, Results.load(tmp_path / "out").runs):
        assert "parameters" not in runs.columns
        cols = list(runs.columns)
        assert cols[cols.index("point") + 1 :][:3] == [
            "network.structure",
            "adoption.p",
            "incentives",
        ]
        assert pd.api.types.is_string_dtype(runs["network.structure"])
        assert pd.api.types.is_float_dtype(runs["adoption.p"])
        by_name = runs.drop_duplicates("scenario").set_index("scenario")
        assert by_name.loc["virtual/slow", "network.structure"] == "virtual"
        assert by_name.loc["virtual/slow", "adoption.p"] == 0.001
        # a point that leaves a parameter alone has the base scenario's value, not a gap
        assert by_name.loc["none/funded", "adoption.p"] == exp.base.adoption.p
        assert json.loads(by_name.loc["none/funded", "incentives"])[0]["type"] == "funding"
        assert json.loads(by_name.loc["none/slow", "incentives"]) == []


def test_sampled_uncertainties_keep_their_types(tmp_path: Path) -> None:
    exp = load_experiment(write_experiment(tmp_path, SAMPLED))
    runs = sweep(exp, executor="serial", out=tmp_path / "out").runs
    assert pd.api.types.is_float_dtype(runs["adoption.p"])
    assert pd.api.types.is_integer_dtype(runs["contacts.max_delegates"])  # rounded ints
    for point in exp.points:
        rows = runs[runs["point"] == point.index]
        assert (rows["adoption.p"] == point.scenario.adoption.p).all()
        assert (rows["contacts.max_delegates"] == point.scenario.contacts.max_delegates).all()


def _legacy(runs: pd.DataFrame, exp) -> pd.DataFrame:
    """The run records as sweeps wrote them before: the overrides as one JSON text."""
    names = [c for c in runs.columns if "." in c or c == "incentives"]
    text = {p.index: json.dumps(p.overrides, sort_keys=True) for p in exp.points}
    old = runs.drop(columns=names)
    old.insert(list(old.columns).index("point") + 1, "parameters", old["point"].map(text))
    return old


def test_an_old_folder_loads_with_typed_columns(tmp_path: Path) -> None:
    exp = load_experiment(write_experiment(tmp_path, LEVERS_AND_POLICIES))
    res = sweep(exp, executor="serial", out=tmp_path / "out")
    old = _legacy(res.runs, exp)
    assert json.loads(old["parameters"].iloc[0]) == {
        "network.structure": "none",
        "adoption.p": 0.001,
    }
    old.to_parquet(tmp_path / "out" / "runs.parquet", index=False)
    back = Results.load(tmp_path / "out").runs
    assert "parameters" not in back.columns
    assert back.loc[back["scenario"] == "virtual/slow", "adoption.p"].eq(0.001).all()
    assert back.loc[back["scenario"] == "virtual/slow", "network.structure"].eq("virtual").all()
    # the old text held only what a point set: the rest is empty, never invented
    assert back.loc[back["scenario"] == "none/funded", "adoption.p"].isna().all()


@pytest.mark.parametrize("text", [LEVERS_AND_POLICIES, SAMPLED], ids=["levers", "sampled"])
def test_a_resumed_old_batch_gets_the_columns_of_its_point(tmp_path: Path, text: str) -> None:
    exp = load_experiment(write_experiment(tmp_path, text))
    res = sweep(exp, executor="serial")
    old = _legacy(res.runs, exp)
    pd.testing.assert_frame_equal(with_parameters(old, exp), res.runs, check_exact=True)
