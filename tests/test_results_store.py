"""Results directories: atomic writes, refusal to overwrite, manifest, round trip."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from mensi_sim.errors import MensiError, ResultsError
from mensi_sim.experiments import manifest as manifest_module
from mensi_sim.results import (
    FRAME_NAMES,
    MANIFEST_NAME,
    Results,
    build_manifest,
    check_target,
    write_results,
)

# the tables, the manifest and the mark of a folder mensi_sim wrote (experiments.marker)
FILES = {"timeseries.parquet", "summary.parquet", "runs.parquet", MANIFEST_NAME, ".mensi_sim"}
MANIFEST_KEYS = {
    "format",
    "scenario",
    "scenario_hash",
    "source_path",
    "root_seed",
    "replications",
    "steps",
    "versions",
    "git_commit",
    "git_dirty",
    "command_line",
    "executor",
    "created_utc",
    "parameters",
}
VERSION_KEYS = {"mensi_sim", "mesa", "numpy", "scipy", "pandas", "networkx", "pyarrow", "python"}


@pytest.fixture
def manifest(tiny_result) -> dict:
    return build_manifest(
        tiny_result.scenario,
        root_seed=tiny_result.seed,
        command_line=["mensi-sim", "run", "tiny.toml"],
        executor="serial",
        replications=3,
    )


def test_write_then_read_round_trip(tiny_result, manifest, tmp_path: Path) -> None:
    out = write_results(tiny_result, tmp_path / "res", manifest=manifest)
    assert out == tmp_path / "res"
    assert {p.name for p in out.iterdir()} == FILES
    back = Results.load(out)
    for name in FRAME_NAMES:
        pd.testing.assert_frame_equal(getattr(back, name), getattr(tiny_result, name))
    assert back.manifest == json.loads(json.dumps(manifest))
    # real Parquet files, readable by pyarrow on their own
    assert pq.read_table(out / "summary.parquet").num_rows == 3


def test_accepts_a_mapping_of_frames(tiny_result, manifest, tmp_path: Path) -> None:
    frames = {name: getattr(tiny_result, name) for name in FRAME_NAMES}
    out = write_results(frames, tmp_path / "res", manifest=manifest)
    assert {p.name for p in out.iterdir()} == FILES


def test_failure_mid_write_leaves_nothing(tiny_result, manifest, tmp_path, monkeypatch) -> None:
    real = pq.write_table
    calls = []

    def fail_on_second(table, where, *args, **kwargs):
        calls.append(where)
        if len(calls) == 2:
            raise OSError(28, "No space left on device", str(where))
        return real(table, where, *args, **kwargs)

    monkeypatch.setattr(pq, "write_table", fail_on_second)
    target = tmp_path / "deep" / "er" / "res"
    with pytest.raises(OSError, match="No space left"):
        write_results(tiny_result, target, manifest=manifest)
    assert len(calls) == 2
    assert not target.exists()
    # neither the temporary sibling nor the folders created for it remain
    assert list(tmp_path.iterdir()) == []


def test_failure_in_added_files_leaves_nothing(tiny_result, manifest, tmp_path) -> None:
    def broken_plot(folder: Path) -> None:
        (folder / "plot.png").write_bytes(b"half")
        raise RuntimeError("plot failed")

    with pytest.raises(RuntimeError, match="plot failed"):
        write_results(tiny_result, tmp_path / "res", manifest=manifest, add_files=broken_plot)
    assert list(tmp_path.iterdir()) == []


def test_added_files_land_with_the_results(tiny_result, manifest, tmp_path) -> None:
    out = write_results(
        tiny_result,
        tmp_path / "res",
        manifest=manifest,
        add_files=lambda d: (d / "extra.txt").write_text("x"),
    )
    assert {p.name for p in out.iterdir()} == FILES | {"extra.txt"}


def test_refuses_to_overwrite_a_non_empty_directory(tiny_result, manifest, tmp_path) -> None:
    out = write_results(tiny_result, tmp_path / "res", manifest=manifest)
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    with pytest.raises(ResultsError, match="not empty") as info:
        write_results(tiny_result, out, manifest=manifest)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, MensiError)
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def test_overwrite_replaces_a_results_directory(tiny_result, manifest, tmp_path) -> None:
    out = write_results(
        tiny_result, tmp_path / "res", manifest=manifest, add_files=lambda d: (d / "old").touch()
    )
    write_results(tiny_result, out, manifest={**manifest, "executor": "new"}, overwrite=True)
    assert {p.name for p in out.iterdir()} == FILES
    assert Results.load(out).manifest["executor"] == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def test_failed_overwrite_keeps_the_old_results(tiny_result, manifest, tmp_path, monkeypatch):
    out = write_results(tiny_result, tmp_path / "res", manifest=manifest)
    monkeypatch.setattr(pq, "write_table", lambda *a, **k: (_ for _ in ()).throw(OSError("boom")))
    with pytest.raises(OSError, match="boom"):
        write_results(tiny_result, out, manifest=manifest, overwrite=True)
    monkeypatch.undo()
    assert Results.load(out).manifest == manifest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def test_overwrite_never_replaces_a_folder_that_is_not_results(tiny_result, manifest, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    with pytest.raises(ResultsError, match="not a results directory"):
        write_results(tiny_result, tmp_path / "mine", manifest=manifest, overwrite=True)
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"


def test_an_empty_existing_directory_is_used(tiny_result, manifest, tmp_path) -> None:
    (tmp_path / "res").mkdir()
    out = write_results(tiny_result, tmp_path / "res", manifest=manifest)
    assert {p.name for p in out.iterdir()} == FILES


def test_check_target_catches_unwritable_places(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ResultsError, match="not a directory"):
        check_target(tmp_path / "afile" / "res")
    with pytest.raises(ResultsError, match="not a directory"):
        check_target(tmp_path / "afile")
    assert check_target(tmp_path / "new" / "res") is False


@pytest.mark.parametrize("missing", ["summary.parquet", MANIFEST_NAME])
def test_load_rejects_other_folders(tiny_result, manifest, tmp_path, missing) -> None:
    out = write_results(tiny_result, tmp_path / "res", manifest=manifest)
    (out / missing).unlink()
    with pytest.raises(ResultsError, match=f"not a results directory.*{missing}") as info:
        Results.load(out)
    assert "\n" not in str(info.value)
    with pytest.raises(ResultsError, match="no such directory"):
        Results.load(tmp_path / "nowhere")


def test_load_reports_a_corrupt_file(tiny_result, manifest, tmp_path) -> None:
    out = write_results(tiny_result, tmp_path / "res", manifest=manifest)
    (out / "runs.parquet").write_bytes(b"not parquet")
    with pytest.raises(ResultsError, match="runs.parquet: cannot read Parquet") as info:
        Results.load(out)
    assert "\n" not in str(info.value)


def test_manifest_has_every_key(manifest, tiny_result) -> None:
    assert set(manifest) == MANIFEST_KEYS
    assert set(manifest["versions"]) == VERSION_KEYS
    assert all(isinstance(v, str) for v in manifest["versions"].values())
    assert manifest["scenario"] == "tiny"
    assert manifest["root_seed"] == 7
    assert manifest["replications"] == 3
    assert manifest["steps"] == 6
    assert manifest["command_line"] == "mensi-sim run tiny.toml"
    assert manifest["created_utc"].endswith("Z")
    assert manifest["parameters"]["population"]["n_schools"] == 30
    assert manifest["scenario_hash"] == tiny_result.runs["scenario_hash"].iloc[0]
    json.dumps(manifest, allow_nan=False)  # serialisable as it is


def _git(cwd: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(cwd),
    }
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, env=env, check=True
    )
    return done.stdout.strip()


def test_git_state_reads_commit_and_dirtiness_of_a_real_work_tree(tmp_path) -> None:
    # a work tree of its own, so the test does not depend on where the suite runs
    pkg = tmp_path / "mensi_sim"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "x")
    head = _git(tmp_path, "rev-parse", "HEAD")
    assert manifest_module.git_state(pkg) == {"commit": head, "dirty": False}
    (pkg / "__init__.py").write_text("changed = True\n")
    assert manifest_module.git_state(pkg) == {"commit": head, "dirty": True}


def test_git_state_outside_a_work_tree_is_none(tmp_path) -> None:
    pkg = tmp_path / "mensi_sim"
    pkg.mkdir()
    assert manifest_module.git_state(pkg) == {"commit": None, "dirty": None}


def test_manifest_without_git(tiny_result, monkeypatch) -> None:
    def no_git(*args, **kwargs):
        raise FileNotFoundError(2, "No such file or directory", "git")

    monkeypatch.setattr(manifest_module.subprocess, "run", no_git)
    m = build_manifest(
        tiny_result.scenario, root_seed=0, command_line="x", executor="serial", replications=1
    )
    assert m["git_commit"] is None and m["git_dirty"] is None
