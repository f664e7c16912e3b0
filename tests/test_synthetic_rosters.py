"""The shipped synthetic rosters (rosters/): the published school counts, clearly synthetic,
valid, what scripts/make-rosters writes; and the exchange experiment runs on them.

DESIGN.md section 5 gives the counts: Flanders about 3,220, Croatia 1,340, Czechia 5,670,
Hungary 3,550, Italy 16,653 + 8,050 + 6,911 = 31,614 sites by level, Portugal 1,580.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from mensi_sim.scenario.roster import read_roster

REPO = Path(__file__).resolve().parents[1]
ROSTERS = REPO / "rosters"
COUNTS = {"BE-VLG": 3220, "HR": 1340, "CZ": 5670, "HU": 3550, "IT": 31614, "PT": 1580}
FILES = {code: ROSTERS / f"synthetic-{code}{'.parquet' if code == 'IT' else '.csv'}"
         for code in COUNTS}  # fmt: skip


def _table(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, dtype=str)


@pytest.mark.parametrize("code", list(COUNTS))
def test_each_roster_has_the_published_count_and_says_it_is_synthetic(code: str):
    roster = read_roster(FILES[code])
    assert roster.n == COUNTS[code]
    assert roster.country_codes == (code,)
    assert all(i.startswith(f"SYN-{code}-") for i in roster.ids)
    assert _table(FILES[code])["name"].str.startswith("Synthetic school").all()
    assert roster.location == "lat/lon"
    assert dict(roster.drawn)["capacity"] < roster.n  # a quarter have SELFIE scores
    assert set(roster.ignored) <= {"name", "nuts2", "level"}


def test_italy_by_level():
    levels = _table(FILES["IT"])["level"].value_counts().to_dict()
    assert levels == {"primary": 16653, "lower_secondary": 8050, "upper_secondary": 6911}


def test_the_script_writes_the_shipped_files(tmp_path: Path):
    subprocess.run([sys.executable, str(REPO / "scripts" / "make-rosters"), str(tmp_path)],
                   check=True, capture_output=True)  # fmt: skip
    for path in FILES.values():
        made = tmp_path / path.name
        if path.suffix == ".csv":
            assert made.read_bytes() == path.read_bytes(), path.name
        else:
            pd.testing.assert_frame_equal(pd.read_parquet(made), pd.read_parquet(path))


def test_the_exchange_experiment_runs_and_reads_by_country(tmp_path: Path):
    from mensi_sim import sweep
    from mensi_sim.experiments.spec import build_experiment, load_experiment
    from mensi_sim.report import build_report

    # its first two scenarios (none, own approaches), 3 weeks, 2 replicates: 4 runs
    full = load_experiment(REPO / "experiments" / "exchange.toml")
    spec = full.spec.model_copy(
        update={
            "factors": full.spec.factors.model_copy(
                update={"scenarios": full.spec.factors.scenarios[:2]}
            ),
            "steps": 3,
            "replications": 2,
        }
    )
    exp = build_experiment(spec, full.base, full.source_path)
    res = sweep(exp, executor="serial", out=tmp_path / "out")
    assert res.failures.empty
    assert res.runs["n_schools"].eq(sum(COUNTS.values())).all()
    table = res.group_comparison("country")
    assert set(table["group"]) == set(COUNTS)
    html = build_report(res, network=False)
    assert "Cross-country comparison" in html and "own_approaches against none" in html
    assert "These are SYNTHETIC schools" in html
    # the manifest and the report say what the rosters gave and what was drawn
    n = sum(COUNTS.values())
    (record,) = res.manifest["rosters"]
    assert [Path(f["path"]).name for f in record["files"]] == [p.name for p in FILES.values()]
    assert all(len(f["sha256"]) == 64 for f in record["files"])
    assert record["schools"] == n and record["countries"] == list(COUNTS)
    drawn = {code: read_roster(path).drawn for code, path in FILES.items()}
    for attribute in ("capacity", "teachers", "motivation"):
        k = sum(dict(d).get(attribute, 0) for d in drawn.values())
        assert record["drawn"][attribute] == k
        assert f"({k:,} of {n:,} schools)" in html
    assert record["drawn"]["motivation"] == n  # no roster gives motivation
    assert "location" not in record["drawn"]  # every school has lat/lon
    assert "Columns not used: " in html and "nuts2" in html
