"""Figures of a results directory: which ones fit, their size, content, labels and files.

Built from real results (a tiny run and a tiny sweep of three structures with its
comparison and sensitivity tables), so the plots are checked against the column
names the other modules really write.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner
from viz_support import (
    ALL_SWEEP_FIGURES,
    GROUP_FIGURES,
    check_png,
    mensi_app,
    run_results,
    sweep_results,
)

from mensi_sim.plotting import (
    DPI,
    plan_figures,
    plot_network,
    replay_snapshots,
    tie_sample,
    write_basic_plots,
    write_plots,
)
from mensi_sim.plotting.network import NetworkSnapshot
from mensi_sim.results import Results
from mensi_sim.results.rebuild import replay_source

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sweep_results(tmp_path_factory)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_results(tmp_path_factory)


@pytest.fixture(scope="module")
def sweep_plots(sweep: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("sweep_plots")
    written, notes = write_plots(sweep, out_dir=out, formats=("png", "svg"))
    return out, written, notes


def test_every_figure_that_fits_a_sweep_is_written_in_png_and_svg(sweep_plots) -> None:
    out, written, notes = sweep_plots
    assert notes == []
    assert {p.stem for p in written} == ALL_SWEEP_FIGURES
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{name}.{ext}" for name in ALL_SWEEP_FIGURES for ext in ("png", "svg")
    )  # nothing else: no temporary files left behind
    for name in ALL_SWEEP_FIGURES:
        root = ET.parse(out / f"{name}.svg").getroot()
        assert root.tag.endswith("svg")


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("adoption", (1100, 450)),
        ("capacity_equity", (1100, 450)),
        ("cost_over_time", (1100, 450)),
        ("cost_effectiveness", (1100, 600)),
        ("network", (1100, 750)),
        ("network_weeks", (1400, 400)),
        ("morris_final_adoption_share", None),
        ("sobol_final_adoption_share", None),
        ("paired_differences", None),
    ],
)
def test_png_has_the_figure_size_and_is_not_blank(sweep_plots, sweep: Path, name, size) -> None:
    out, _, _ = sweep_plots
    if size is None:  # height grows with the rows: the figure's own size
        spec = next(s for s in plan_figures(Results.load(sweep)) if s.name == name)
        w, h = spec.make().get_size_inches()
        size = (round(w * DPI), round(h * DPI))
    check_png(out / f"{name}.png", size)


def test_axes_carry_units_and_legends(sweep: Path) -> None:
    specs = {s.name: s for s in plan_figures(Results.load(sweep), network=False)}
    fig = specs["adoption"].make()
    left = fig.axes[0]
    assert "(weeks)" in left.get_xlabel() and "%" in left.get_ylabel()
    assert len(left.get_lines()) == 3 + 2  # one per scenario, and the solid/dashed key
    assert [t.get_text() for t in fig.legends[0].get_texts()][:3] == [
        "none (n = 4)",
        "top_down (n = 4)",
        "virtual (n = 4)",
    ]
    fig = specs["capacity_equity"].make()
    assert "0-1 scale" in fig.axes[0].get_ylabel() and "0-1 scale" in fig.axes[1].get_ylabel()
    fig = specs["cost_over_time"].make()
    assert "EUR" in fig.get_suptitle() or any("EUR" in t.get_text() for t in fig.texts)
    assert len(fig.axes[0].collections) == 6  # one stacked band per cost category
    fig = specs["cost_effectiveness"].make()
    ax = fig.axes[0]
    assert "schools" in ax.get_xlabel() and "EUR" in ax.get_ylabel()
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "cost-effectiveness frontier" in labels and "baseline" in labels
    assert {t.get_text() for t in ax.texts} >= {"none", "top_down", "virtual"}  # every point
    fig = specs["morris_final_adoption_share"].make()
    assert "mu*" in fig.axes[0].get_xlabel() and "sigma" in fig.axes[1].get_ylabel()
    fig = specs["sobol_final_adoption_share"].make()
    assert "Sobol index" in fig.axes[0].get_xlabel()


def test_frontier_and_dominated_schemes_are_marked(sweep: Path) -> None:
    from mensi_sim.plotting import plot_cost_effectiveness

    table = pd.read_parquet(sweep / "comparison.parquet")
    table.loc[table["scenario"] == "top_down", "frontier"] = "dominated by virtual"
    fig = plot_cost_effectiveness(table)
    ax = fig.axes[0]
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any(label.startswith("dominated") for label in labels)
    (frontier_line,) = [ln for ln in ax.get_lines() if ln.get_label() == labels[0]]
    assert labels[0] == "cost-effectiveness frontier"
    on = table[table["frontier"] == "frontier"].sort_values("mean_cost")
    assert list(frontier_line.get_xdata()) == list(on["delta_effect"])


def test_a_single_run_gets_only_what_fits_it(run: Path, tmp_path: Path) -> None:
    written, notes = write_plots(run, out_dir=tmp_path, formats=("png",))
    names = {p.stem for p in written}
    assert names == {
        "adoption_cost",
        "adoption",
        "capacity_equity",
        "cost_over_time",
        "network",
        "network_weeks",
        "by_country",  # the run has two countries
    }
    assert notes == []
    for p in written:
        check_png(p)


def test_basic_plots_need_no_rerun_and_land_in_the_results(sweep: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(sweep, copy)
    written = write_basic_plots(copy)
    assert all(p.parent == copy for p in written)
    expected = ALL_SWEEP_FIGURES - {"network", "network_weeks"} - GROUP_FIGURES
    assert {p.stem for p in written} == expected
    assert {p.suffix for p in written} == {".png", ".svg"}


def test_plots_tolerate_missing_or_broken_analysis_files(sweep: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(sweep, copy)
    (copy / "sensitivity.parquet").unlink()
    (copy / "comparison.parquet").write_bytes(b"not parquet")
    res = Results.load(copy)
    assert "sensitivity" not in res.tables
    assert res.comparison_source == "computed"  # from the summary instead
    assert any("comparison.parquet: cannot read" in n for n in res.notes)
    names = {s.name for s in plan_figures(res, network=False)}
    assert "cost_effectiveness" in names and not any(n.startswith("morris") for n in names)


def test_network_replay_reproduces_replicate_zero_bit_for_bit(run: Path) -> None:
    res = Results.load(run)
    source = res.replay_source()
    steps = source.scenario.time.steps
    shots = replay_snapshots(res, [0, steps])
    ts = res.timeseries
    rep0 = ts[ts["replicate"] == 0].set_index("step")["adoption_share"]
    assert [s.week for s in shots] == [0, steps]
    assert shots[0].adoption_share == rep0.loc[0]
    assert shots[-1].adoption_share == rep0.loc[steps]
    assert float(shots[-1].capacity.mean()) == ts[ts["replicate"] == 0]["mean_capacity"].iloc[-1]


def test_sweep_network_uses_a_scheme_and_refuses_a_changed_scenario(
    sweep: Path, tmp_path: Path
) -> None:
    import shutil

    manifest = json.loads((sweep / "manifest.json").read_text())
    assert replay_source(manifest).name == "top_down"  # the first that is not the baseline
    assert replay_source(manifest, "virtual").scenario.network.structure == "virtual"
    # the base scenario file changes after the sweep: the runs cannot be re-created
    folder = tmp_path / "moved"
    shutil.copytree(Path(manifest["source_path"]).parent, folder)
    tiny = folder / "tiny.toml"
    tiny.write_text(tiny.read_text().replace("n_schools = 30", "n_schools = 32"))
    manifest["source_path"] = str(folder / "tiny_sweep.toml")
    from mensi_sim.errors import ResultsError

    with pytest.raises(ResultsError, match="changed since the sweep"):
        replay_source(manifest)


def _snapshot(n: int, kinds: np.ndarray) -> NetworkSnapshot:
    rng = np.random.default_rng(1)
    m = kinds.size
    return NetworkSnapshot(
        week=3,
        x=rng.random(n) * 100,
        y=rng.random(n) * 100,
        capacity=rng.random(n),
        adopted=rng.random(n) < 0.3,
        role=np.where(np.arange(n) < 5, 1, 2).astype(np.int8),
        member=np.ones(n, bool),
        active=np.ones(n, bool),
        tie_src=rng.integers(0, n, m),
        tie_dst=rng.integers(0, n, m),
        tie_kind=kinds,
        tie_mode=(rng.random(m) < 0.5).astype(np.int8),
        label="synthetic",
    )


MANY_WEAK_TIES = np.r_[np.zeros(200), np.full(30_000, 3)].astype(np.int8)  # mentoring, proximity


def test_many_weak_ties_are_sampled_and_the_picture_is_drawn(tmp_path: Path) -> None:
    kinds = MANY_WEAK_TIES
    idx = tie_sample(kinds)
    assert (kinds[idx] == 0).sum() == 200 and (kinds[idx] == 3).sum() == 3000
    assert np.array_equal(idx, tie_sample(kinds))  # the same sample every time
    snap = _snapshot(5000, kinds)
    for colour_by in ("capacity", "adoption"):
        fig = plot_network(snap, colour_by=colour_by)
        labels = [t.get_text() for t in fig.legends[0].get_texts()]
        assert {"mentoring tie", "proximity tie", "mentor school", "online (dashed)"} <= set(labels)
        path = tmp_path / f"net_{colour_by}.png"
        fig.savefig(path, dpi=fig.dpi)
        check_png(path, (1100, 750))


@pytest.mark.benchmark
def test_benchmark_network_picture_of_5000_schools_and_30000_ties(tmp_path: Path) -> None:
    """Prints the time to draw and save the picture (the tie sample keeps it to seconds)."""
    import time

    snap = _snapshot(5000, MANY_WEAK_TIES)
    for colour_by in ("capacity", "adoption"):
        started = time.perf_counter()
        fig = plot_network(snap, colour_by=colour_by)
        fig.savefig(tmp_path / f"net_{colour_by}.png", dpi=fig.dpi)
        print(f"network picture, 5,000 schools, {colour_by}: {time.perf_counter() - started:.2f} s")


def test_plot_command_writes_files_and_fails_in_one_line(sweep: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    app = mensi_app()
    done = runner.invoke(
        app, ["plot", str(sweep), "--out", str(tmp_path), "--format", "png", "--no-network"]
    )
    assert done.exit_code == 0, done.output
    assert "11 files in" in done.output
    assert (tmp_path / "cost_effectiveness.png").is_file()
    assert not (tmp_path / "network.png").exists()
    done = runner.invoke(app, ["plot", str(tmp_path / "nothing")])
    assert done.exit_code == 2
    assert done.output.strip().startswith("error: ") and len(done.output.strip().splitlines()) == 1
    done = runner.invoke(app, ["plot", str(sweep), "--format", "bmp"])
    assert done.exit_code == 2 and "--format" in done.output


# in a fresh process: the test process may run other threads (then nothing forks)
FORKED_FIGURES = """
import json, sys
from pathlib import Path
from mensi_sim.experiments import execution
from mensi_sim.plotting import collect, write_plots
from mensi_sim.plotting.common import new_figure

pools = []
forked_pool = execution.forked_pool
def counted(n):
    pools.append(n)
    return forked_pool(n)
execution.forked_pool = counted

results, out = Path(sys.argv[1]), Path(sys.argv[2])
basic = {"basic_only": True, "out_dir": out}
apart, _ = write_plots(results, **{**basic, "out_dir": out / "apart"}, workers=2)
here, _ = write_plots(results, **{**basic, "out_dir": out / "here"}, formats=("png",), workers=1)

def broken():
    raise ValueError("no weeks\\n to draw")

def line():
    fig = new_figure()
    fig.subplots().plot([0, 1], [1, 0])
    return fig

specs = [collect.FigureSpec(name, name, "", make, "outcomes")
         for name, make in (("first", line), ("broken", broken), ("last", line))]
drawn = collect._draw_all(specs, out, ("png",), None, None, None, 3)
print(json.dumps({
    "pools": pools,
    "apart": [p.name for p in apart],
    "here": [p.name for p in here],
    "drawn": [[[p.name for p in paths], notes] for paths, notes in drawn],
}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="figures fork on Linux only")
def test_figures_drawn_in_forked_processes_are_the_ones_drawn_here(
    sweep: Path, tmp_path: Path
) -> None:
    """A sweep's figures are drawn several at once in forked processes: the same pixels
    as drawn one after the other in this process, in the same order; a figure the data
    cannot give comes back as its note from the worker that tried it. Drawing here leaves
    no thread behind (textalloc's tqdm bar would start one), so the next call forks too."""
    script = tmp_path / "forked.py"
    script.write_text(FORKED_FIGURES, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), str(sweep), str(tmp_path)],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    got = json.loads(done.stdout)
    # the first and the last call drew in forked processes; workers=1 drew here
    assert got["pools"] == [2, 3]
    pngs = [name for name in got["apart"] if name.endswith(".png")]
    assert pngs == got["here"] and len(pngs) >= 4
    assert len(got["apart"]) == 2 * len(pngs)
    for name in pngs:
        assert (tmp_path / "apart" / name).read_bytes() == (tmp_path / "here" / name).read_bytes()
    assert got["drawn"] == [
        [["first.png"], []],
        [[], ["broken: skipped (no weeks to draw)"]],
        [["last.png"], []],
    ]
