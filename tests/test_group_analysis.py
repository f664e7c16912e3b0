"""Comparisons by group and the cross-country reading (issue 16).

- Within a country whose schools the scenario leaves alone (structure none there, no
  opening up, no proximity ties across borders), every paired difference is exactly 0
  and the verdict says no detectable difference; where the country's structure acts,
  the verdict follows the interval: "higher" only when the interval excludes 0.
- ``compare --by country`` prints and writes the comparison within each country; the
  Results API reads it back; a bad ``--by`` is one line with exit code 2.
- The headline by group is the mean and Student-t interval of the group's replicates.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mensi_sim import Results, load_scenario, simulate
from mensi_sim.analysis.groups import country_exchange, group_comparison, verdict
from mensi_sim.cli import app
from mensi_sim.stats import mean_ci

REPO = Path(__file__).resolve().parents[1]
PILOT = load_scenario(REPO / "scenarios" / "mensi_pilot.toml").with_updates(
    {"time.steps": 60, "opening.enabled": False, "network.proximity": False}
)
OWN = {"IT": "top_down", "HU": "virtual", "BE-VLG": "none", "HR": "none", "CZ": "none",
       "PT": "none"}  # fmt: skip


@pytest.fixture(scope="module")
def exchange() -> pd.DataFrame:
    base = simulate(PILOT.with_updates({"name": "none", "network.structure": "none"}), 6, seed=9)
    own = simulate(
        PILOT.with_updates(
            {
                "name": "own",
                "network.structure_by_country": OWN,
                "network.virtual_mentors_per_country": 2,
                "network.virtual_mentees_per_mentor": 4,
            }
        ),  # fmt: skip
        6,
        seed=9,
    )
    return pd.concat([base.group_summary, own.group_summary], ignore_index=True)


def test_a_country_left_alone_shows_exactly_no_difference(exchange: pd.DataFrame):
    table = country_exchange(exchange, "own", "none", OWN).set_index("country")
    for country in ("BE-VLG", "HR", "CZ", "PT"):
        row = table.loc[country]
        for outcome in ("final_adoption_share", "capacity_gain", "total_cash", "total_cost"):
            assert row[f"{outcome}_difference"] == 0.0, (country, outcome)
            assert row[f"{outcome}_verdict"] == "no detectable difference"
    for country in ("IT", "HU"):
        row = table.loc[country]
        assert row["structure"] == OWN[country]
        assert row["total_cash_verdict"] == "higher" and row["total_cash_ci_low"] > 0
        low, high = row["capacity_gain_ci_low"], row["capacity_gain_ci_high"]
        assert row["capacity_gain_verdict"] == verdict(row["capacity_gain_difference"], low, high)


def test_verdicts_never_say_more_than_the_interval():
    assert verdict(0.05, 0.01, 0.09) == "higher"
    assert verdict(-0.05, -0.09, -0.01) == "lower"
    assert verdict(0.05, -0.01, 0.11) == "no detectable difference"
    assert verdict(0.05, 0.0, 0.1) == "no detectable difference"  # 0 on the edge: included
    assert verdict(0.05, math.nan, math.nan) == "unknown"


def test_the_comparison_of_a_group_is_the_comparison_of_its_rows(exchange: pd.DataFrame):
    from mensi_sim.analysis import comparison_table

    wide = group_comparison(exchange, "none", by="region")
    for region in ("IT-1", "HU-3"):
        rows = exchange[(exchange["by"] == "region") & (exchange["group"] == region)]
        expected = comparison_table(rows, "none")
        got = wide[wide["group"] == region].drop(columns=["by", "group", "country"])
        pd.testing.assert_frame_equal(got.reset_index(drop=True), expected)


def test_headline_by_group_is_the_mean_and_interval_of_its_replicates():
    res = simulate(PILOT, replications=4, seed=3)
    head = res.headline_by("region", outcomes=["final_adoption_share", "total_cost"])
    rows = res.group_summary[res.group_summary["by"] == "region"]
    for (region, outcome), got in head.set_index(["group", "outcome"]).iterrows():
        values = rows.loc[rows["group"] == region, outcome].to_numpy()
        mean, low, high = mean_ci(values)
        assert (got["mean"], got["ci_low"], got["ci_high"]) == (mean, low, high)
        assert got["n"] == 4
    with pytest.raises(ValueError, match="not a grouping"):
        res.headline_by("school")


def test_compare_by_country_writes_and_reads_back(tmp_path: Path):
    from tests.experiments.helpers import SMALL, write_experiment

    exp = write_experiment(tmp_path, SMALL)
    out = tmp_path / "out"
    runner = CliRunner()
    assert runner.invoke(app, ["sweep", str(exp), "--out", str(out)]).exit_code == 0
    bad = runner.invoke(app, ["compare", str(out), "--by", "school"])
    assert bad.exit_code == 2 and "--by: 'school' is not a grouping" in bad.output
    assert len([x for x in bad.output.splitlines() if x.strip()]) == 1
    result = runner.invoke(app, ["compare", str(out), "--by", "country"])
    assert result.exit_code == 0, result.output
    assert "by country: paired differences against 'slow'" in result.output
    for code in PILOT.population.countries:
        assert any(line.split()[:2] == [code, "fast"] for line in result.output.splitlines())
    res = Results.load(out)
    stored = res.tables["group_comparison"]
    assert set(stored["group"]) == set(PILOT.population.countries)
    assert res.group_comparison("country") is stored
    again = group_comparison(res.group_summary, "slow", by="country")
    numbers = again.select_dtypes("number").columns
    pd.testing.assert_frame_equal(stored[numbers], again[numbers])
    assert stored["group"].tolist() == again["group"].tolist()
    treated = stored[stored["scenario"] == "fast"]
    assert len(treated) == 6 and np.isfinite(treated["final_adoption_share_difference"]).all()
