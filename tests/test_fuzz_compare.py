"""Bad input to `compare` and `sensitivity`: damaged or foreign results folders and bad
experiment files end with one `error:` line and a non-zero exit, never a traceback, and
`compare` leaves no comparison.parquet behind when it fails."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_fuzz_inputs import assert_clean_failure, invoke

from mensi_sim import sweep
from mensi_sim.experiments import load_experiment

SWEEP_CASES = [
    "missing",
    "empty",
    "no_manifest",
    "truncated_summary",
    "garbage_manifest",
    "no_summary",
    "not_a_folder",
]


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory) -> Path:
    """A real, small sweep results directory (structures: 2 scenarios, 3 weeks, 3 reps)."""
    out = tmp_path_factory.mktemp("sweep") / "res"
    exp = load_experiment("experiments/structures.toml").with_changes(steps=3, replications=3)
    sweep(exp, executor="serial", out=out)
    return out


def damaged(case: str, good: Path, tmp_path: Path) -> Path:
    target = tmp_path / "res"
    if case == "missing":
        return target
    if case == "empty":
        target.mkdir()
        return target
    if case == "not_a_folder":
        target.write_text("not a folder")
        return target
    shutil.copytree(good, target)
    if case == "no_manifest":
        (target / "manifest.json").unlink()
    elif case == "garbage_manifest":
        (target / "manifest.json").write_text("{ not json")
    elif case == "truncated_summary":
        data = (target / "summary.parquet").read_bytes()
        (target / "summary.parquet").write_bytes(data[: len(data) // 2])
    elif case == "no_summary":
        (target / "summary.parquet").unlink()
    return target


def test_compare_works_on_the_good_sweep(sweep_dir):
    res = invoke("compare", sweep_dir)
    assert res.exit_code == 0, res.output
    assert (sweep_dir / "comparison.parquet").exists()


@pytest.mark.parametrize("case", SWEEP_CASES)
def test_compare_on_a_damaged_results_folder(case, sweep_dir, tmp_path):
    target = damaged(case, sweep_dir, tmp_path)
    if target.is_dir() and (target / "comparison.parquet").exists():
        (target / "comparison.parquet").unlink()
    assert_clean_failure(invoke("compare", target))
    assert not (target.is_dir() and (target / "comparison.parquet").exists())


@pytest.mark.parametrize(
    "args",
    [["--baseline", "no_such_scenario"], ["--budget", "-5"], ["--budget", "abc"], ["--nope"]],
)
def test_compare_with_bad_options(args, sweep_dir):
    assert_clean_failure(invoke("compare", sweep_dir, *args))


@pytest.mark.parametrize(
    "content", ["", "[base\n", "name = 3\n", 'name = "x"\n[base]\nscenario = "missing.toml"\n']
)
def test_sensitivity_on_bad_experiment_files(content, tmp_path):
    path = tmp_path / "e.toml"
    path.write_text(content)
    assert_clean_failure(invoke("sensitivity", path, "--out", tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_sensitivity_on_an_experiment_without_a_sample(tmp_path):
    # structures.toml lists named scenarios: there is nothing to attribute variance to
    res = invoke(
        "sensitivity",
        "experiments/structures.toml",
        "--out",
        tmp_path / "out",
        "--steps",
        "2",
        "--replications",
        "1",
    )
    assert_clean_failure(res)


def test_sensitivity_on_a_missing_file(tmp_path):
    assert_clean_failure(invoke("sensitivity", tmp_path / "nope.toml"))
