"""Issue 15: results folders written and read back, and the guard at the top.

- ``--overwrite`` replaces only what mensi_sim wrote: a folder carrying its mark
  (``.mensi_sim``) and nothing else, never one in use;
- a damaged results folder (a manifest with fields of the wrong type, nested 100,000
  deep, a malformed budget; a summary swapped with the time series, without its
  ``scenario`` column, with no finite cost; a foreign ``sensitivity.parquet``) is one line
  naming the file and the field for ``compare``, ``plot`` and ``report``, or a note when
  only an optional table is unusable; ``compare`` leaves no table behind when it fails;
- an unexpected exception ends as ``error: internal error: ...`` and exit code 3, after
  the results machinery has left nothing half-written; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import importlib
import json
import multiprocessing
import shutil
from pathlib import Path

import pandas as pd
import pytest
from test_fuzz_inputs import TINY, assert_clean_failure, invoke, listing

from mensi_sim import Results
from mensi_sim.cli.guard import EXIT_INTERNAL
from mensi_sim.errors import ResultsError
from mensi_sim.experiments import folder_lock
from mensi_sim.results import check_target

TINY_SWEEP = """\
name = "sw"
replications = 3
executor = "serial"
[base]
scenario = "tiny.toml"
[factors.grid]
"adoption.q" = [0.005, 0.01]
[budget]
amount = 100000
"""


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    """A run's and a sweep's results folders, made once (copied by each test)."""
    root = tmp_path_factory.mktemp("made")
    (root / "tiny.toml").write_text(TINY, encoding="utf-8")
    (root / "sweep.toml").write_text(TINY_SWEEP, encoding="utf-8")
    assert invoke("run", root / "tiny.toml", "-r", "2", "--out", root / "run").exit_code == 0
    res = invoke("sweep", root / "sweep.toml", "--out", root / "sweep")
    assert res.exit_code == 0, res.output
    return root


def copy(made: Path, name: str, tmp_path: Path) -> Path:
    shutil.copytree(made, tmp_path / "w", dirs_exist_ok=True)
    return tmp_path / "w" / name


# ---------------------------------------------------------------------------------------
# --overwrite replaces only what mensi_sim wrote
# ---------------------------------------------------------------------------------------


def test_overwrite_never_deletes_a_web_page(made: Path, tmp_path: Path) -> None:
    # run --out webapp --overwrite, webapp/ holding a user's manifest.json and index.html
    web = tmp_path / "webapp"
    web.mkdir()
    (web / "manifest.json").write_text('{"name": "my app"}')
    (web / "index.html").write_text("<h1>mine</h1>")
    res = invoke("run", made / "tiny.toml", "-r", "1", "--out", web, "--overwrite")
    assert_clean_failure(res, "not a results directory", "no .mensi_sim mark", codes=(2,))
    assert (web / "index.html").read_text() == "<h1>mine</h1>"
    assert sorted(p.name for p in web.iterdir()) == ["index.html", "manifest.json"]


def test_overwrite_keeps_a_file_the_user_added(made: Path, tmp_path: Path) -> None:
    out = copy(made, "run", tmp_path)
    (out / "notes.txt").write_text("my notes")
    res = invoke("run", tmp_path / "w" / "tiny.toml", "-r", "1", "--out", out, "--overwrite")
    assert_clean_failure(res, "holds files mensi_sim did not write (notes.txt)", codes=(2,))
    assert (out / "notes.txt").read_text() == "my notes"


def test_overwrite_replaces_a_folder_mensi_sim_wrote_and_added_to(made, tmp_path) -> None:
    out = copy(made, "run", tmp_path)
    assert invoke("report", out, "--no-network").exit_code == 0  # added: report.html
    assert invoke("plot", out, "--no-network", "-f", "pdf").exit_code == 0  # and PDFs
    res = invoke("run", tmp_path / "w" / "tiny.toml", "-r", "1", "--out", out, "--overwrite")
    assert res.exit_code == 0, res.output
    assert len(Results.load(out).runs) == 1
    assert not (out / "report.html").exists()


def test_overwrite_refuses_a_folder_in_use(made: Path, tmp_path: Path) -> None:
    out = copy(made, "run", tmp_path)
    spawn = multiprocessing.get_context("spawn")
    ready, done = spawn.Event(), spawn.Event()
    holder = spawn.Process(target=_hold_lock, args=(str(out), ready, done))
    holder.start()
    try:
        assert ready.wait(120)
        with pytest.raises(ResultsError, match=rf"in use by PID {holder.pid} on host "):
            check_target(out, overwrite=True)
        with pytest.raises(ResultsError, match=rf"in use by PID {holder.pid} on host "):
            Results.load(out).write_table("comparison", pd.DataFrame({"a": [1]}))
    finally:
        done.set()
        holder.join(60)


def _hold_lock(folder: str, ready, done) -> None:
    with folder_lock.locked(folder):
        ready.set()
        done.wait(120)


def test_the_lock_is_reentrant_and_leaves_no_file(tmp_path: Path) -> None:
    with folder_lock.locked(tmp_path):
        with folder_lock.locked(tmp_path):
            assert folder_lock.lock_path(tmp_path).is_file()
        assert folder_lock.holder(tmp_path) is None  # this process is not "another"
    assert not folder_lock.lock_path(tmp_path).exists()


# ---------------------------------------------------------------------------------------
# damaged results folders: compare, plot and report
# ---------------------------------------------------------------------------------------


def edit_manifest(folder: Path, change) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


MANIFEST_DAMAGE = {
    "budget_amount_text": (lambda m: m.update(budget={"amount": "lots"}), "budget.amount"),
    "budget_not_a_table": (lambda m: m.update(budget=5), "budget"),
    "budget_negative": (lambda m: m.update(budget={"amount": -1}), "budget.amount"),
    "scenarios_number": (lambda m: m.update(scenarios=5), "scenarios"),
    "kind_list": (lambda m: m.update(kind=["x"]), "kind"),
    "root_seed_text": (lambda m: m.update(root_seed="abc"), "root_seed"),
    "outcomes_number": (lambda m: m.update(outcomes=3), "outcomes"),
    "scenario_entry_without_name": (lambda m: m["scenarios"][0].pop("name"), "scenarios.0.name"),
}


# every case through compare; plot and report read the folder through the same
# Results.load, so two cases each show that they refuse it the same way
READERS = [("compare", case) for case in sorted(MANIFEST_DAMAGE)] + [
    (command, case)
    for command in ("plot", "report")
    for case in ("budget_amount_text", "scenarios_number")
]


@pytest.mark.parametrize(("command", "case"), READERS)
def test_a_manifest_with_fields_of_the_wrong_type(made, tmp_path, case, command) -> None:
    out = copy(made, "sweep", tmp_path)
    for name in ("comparison", "budget"):
        (out / f"{name}.parquet").unlink(missing_ok=True)
    change, field = MANIFEST_DAMAGE[case]
    edit_manifest(out, change)
    before = listing(out)
    args = [command, out] + (["--no-network"] if command != "compare" else [])
    assert_clean_failure(invoke(*args), f"{out / 'manifest.json'}: {field}")
    assert listing(out) == before  # compare left no comparison.parquet behind


@pytest.mark.parametrize("command", ["compare", "plot", "report"])
def test_a_manifest_nested_100000_deep(made, tmp_path, command) -> None:
    out = copy(made, "sweep", tmp_path)
    (out / "manifest.json").write_text("[" * 100_000 + "]" * 100_000)
    args = [command, out] + (["--no-network"] if command != "compare" else [])
    assert_clean_failure(invoke(*args), "manifest.json", "nests too deeply")


def swap(out: Path) -> None:
    a, b = out / "summary.parquet", out / "timeseries.parquet"
    a.rename(out / "x")
    b.rename(a)
    (out / "x").rename(b)


def drop_column(out: Path, table: str, column: str) -> None:
    path = out / f"{table}.parquet"
    pd.read_parquet(path).drop(columns=column).to_parquet(path)


TABLE_DAMAGE = {
    "swapped": (swap, "summary.parquet: holds a column 'step'"),
    "summary_without_scenario": (
        lambda o: drop_column(o, "summary", "scenario"),
        "summary.parquet: no column 'scenario'",
    ),
    "timeseries_without_step": (
        lambda o: drop_column(o, "timeseries", "step"),
        "timeseries.parquet: no column 'step'",
    ),
    "runs_without_status": (
        lambda o: drop_column(o, "runs", "status"),
        "runs.parquet: no column 'status'",
    ),
    "summary_twice": (
        lambda o: pd.concat([pd.read_parquet(o / "summary.parquet")] * 2).to_parquet(
            o / "summary.parquet"
        ),
        "summary.parquet: more than one row per (scenario, replicate)",
    ),
}


@pytest.mark.parametrize(
    ("command", "case"),
    [("compare", case) for case in sorted(TABLE_DAMAGE)]
    + [("plot", "swapped"), ("report", "swapped"), ("report", "summary_without_scenario")],
)
def test_a_table_that_is_not_what_its_name_says(made, tmp_path, case, command) -> None:
    out = copy(made, "sweep", tmp_path)
    for name in ("comparison", "budget"):
        (out / f"{name}.parquet").unlink(missing_ok=True)
    damage, needle = TABLE_DAMAGE[case]
    damage(out)
    before = listing(out)
    args = [command, out] + (["--no-network"] if command != "compare" else [])
    assert_clean_failure(invoke(*args), needle)
    assert listing(out) == before


def test_no_finite_cost(made: Path, tmp_path: Path) -> None:
    out = copy(made, "sweep", tmp_path)
    for name in ("comparison", "budget"):
        (out / f"{name}.parquet").unlink(missing_ok=True)
    summary = pd.read_parquet(out / "summary.parquet")
    summary.assign(total_cost=float("nan")).to_parquet(out / "summary.parquet")
    before = listing(out)
    assert_clean_failure(invoke("compare", out), "total_cost is not a finite number in 6 of 6")
    assert listing(out) == before
    res = invoke("report", out, "--no-network")  # the report says why it has no comparison
    assert res.exit_code == 0, res.output
    assert "total_cost is not a finite number" in (out / "report.html").read_text()


@pytest.mark.parametrize("command", ["plot", "report"])
def test_an_unexpected_sensitivity_table_is_skipped_with_a_note(made, tmp_path, command) -> None:
    out = copy(made, "run", tmp_path)
    pd.DataFrame({"a": [1, 2]}).to_parquet(out / "sensitivity.parquet")
    res = invoke(command, out, "--no-network")
    assert res.exit_code == 0, res.output
    if command == "plot":
        assert "note: sensitivity.parquet: not a sensitivity table (no column 'method')" in (
            res.stderr
        )
    assert Results.load(out).notes == [
        "sensitivity.parquet: not a sensitivity table (no column 'method'); skipped"
    ]


def test_compare_with_a_malformed_budget_leaves_nothing(made, tmp_path) -> None:
    # used to crash after writing comparison.parquet
    out = copy(made, "sweep", tmp_path)
    for name in ("comparison", "budget"):
        (out / f"{name}.parquet").unlink(missing_ok=True)
    edit_manifest(out, lambda m: m.update(budget={"amount": "lots", "group_by": 5}))
    assert_clean_failure(invoke("compare", out), "budget.amount")
    assert not (out / "comparison.parquet").exists() and not (out / "budget.parquet").exists()


def test_optional_columns_are_those_the_analyses_write(made, tmp_path) -> None:
    # checks.OPTIONAL_COLUMNS must stay a subset of what compare and sensitivity write
    from mensi_sim.results.checks import OPTIONAL_COLUMNS

    out = copy(made, "sweep", tmp_path)
    assert invoke("compare", out).exit_code == 0
    for name in ("comparison", "budget"):
        table = pd.read_parquet(out / f"{name}.parquet")
        assert set(OPTIONAL_COLUMNS[name]) <= set(table.columns), name
    from support import sensitivity_experiment

    (tmp_path / "tiny.toml").write_text(TINY, encoding="utf-8")
    (tmp_path / "sens.toml").write_text(sensitivity_experiment("tiny.toml"), encoding="utf-8")
    res = invoke("sensitivity", tmp_path / "sens.toml", "--out", tmp_path / "s")
    assert res.exit_code == 0, res.output
    table = pd.read_parquet(tmp_path / "s" / "sensitivity.parquet")
    assert set(OPTIONAL_COLUMNS["sensitivity"]) <= set(table.columns)


# ---------------------------------------------------------------------------------------
# the guard at the top
# ---------------------------------------------------------------------------------------


SIMULATE = importlib.import_module("mensi_sim.simulate")  # the package's name is the function


def boom(*args, **kwargs):
    raise RuntimeError("boom\nsecond line")


def test_an_unexpected_error_is_one_line_and_exit_3(made, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(SIMULATE, "simulate", boom)
    res = invoke("run", made / "tiny.toml", "-r", "1", "--out", tmp_path / "out")
    assert res.exit_code == EXIT_INTERNAL
    assert res.stderr == (
        "error: internal error: RuntimeError: boom second line; "
        "run with --debug for the traceback\n"
    )
    assert res.stdout == "" and not (tmp_path / "out").exists()


def test_an_error_while_writing_leaves_nothing_half_written(made, tmp_path, monkeypatch):
    import mensi_sim.plotting

    monkeypatch.setattr(mensi_sim.plotting, "write_basic_plots", boom)  # inside the write
    res = invoke("run", made / "tiny.toml", "-r", "1", "--out", tmp_path / "out")
    assert res.exit_code == EXIT_INTERNAL and "internal error: RuntimeError" in res.stderr
    assert list(tmp_path.iterdir()) == []  # no folder, no temporary sibling


@pytest.mark.parametrize("how", ["flag", "env"])
def test_debug_shows_the_traceback(made, tmp_path, monkeypatch, how) -> None:
    monkeypatch.setattr(SIMULATE, "simulate", boom)
    args = ["run", made / "tiny.toml", "-r", "1", "--out", tmp_path / "out"]
    if how == "flag":
        args.append("--debug")
    else:
        monkeypatch.setenv("MENSI_SIM_DEBUG", "1")
    res = invoke(*args)
    assert isinstance(res.exception, RuntimeError) and "internal error" not in res.stderr


def test_a_sweep_stopped_by_an_internal_error_resumes(made, tmp_path, monkeypatch) -> None:
    from mensi_sim.experiments import runstore

    real = runstore.consolidate
    monkeypatch.setattr(runstore, "consolidate", boom)
    out = tmp_path / "res"
    res = invoke("sweep", made / "sweep.toml", "--out", out)
    assert res.exit_code == EXIT_INTERNAL, res.output
    # every batch is whole, the manifest says the sweep did not finish, the lock is gone
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    assert not folder_lock.lock_path(out).exists()
    assert all(runstore.batch_record.batch_problem(d) is None for d in runstore.batch_dirs(out))
    monkeypatch.setattr(runstore, "consolidate", real)
    res = invoke("sweep", made / "sweep.toml", "--out", out, "--resume")
    assert res.exit_code == 0, res.output
    pd.testing.assert_frame_equal(
        Results.load(out).summary, Results.load(made / "sweep").summary, check_exact=True
    )
