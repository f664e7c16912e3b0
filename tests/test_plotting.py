"""The adoption and cost figure: drawn without pyplot, saved atomically, expected size."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from mensi_sim.plotting import DPI, FIGSIZE, plot_adoption_and_cost, save_figure

WIDTH, HEIGHT = round(FIGSIZE[0] * DPI), round(FIGSIZE[1] * DPI)


def test_png_of_the_expected_size(tiny_result, tmp_path: Path) -> None:
    fig = plot_adoption_and_cost(tiny_result.timeseries)
    (path,) = save_figure(fig, tmp_path / "adoption_cost")
    assert path == tmp_path / "adoption_cost.png"
    assert path.stat().st_size > 10_000
    with Image.open(path) as img:
        assert img.format == "PNG"
        assert img.size == (WIDTH, HEIGHT)
        # not a blank canvas: many distinct colours were drawn
        assert len(img.convert("RGB").getcolors(maxcolors=1 << 20)) > 50
    assert [p.name for p in tmp_path.iterdir()] == ["adoption_cost.png"]


def test_axes_are_labelled_with_units(tiny_result) -> None:
    fig = plot_adoption_and_cost(tiny_result.timeseries)
    left, right = fig.axes[:2]
    assert "weeks" in left.get_xlabel()
    assert "%" in left.get_ylabel()
    assert "EUR" in right.get_ylabel()
    assert len(right.collections) == 6  # one stacked band per cost category
    assert left.get_legend() is not None  # the scenarios
    assert [t.get_text() for t in fig.legends[0].get_texts()][-1] == "Travel"  # cost categories


def test_several_scenarios_and_formats(tiny_result, tmp_path: Path) -> None:
    ts = tiny_result.timeseries
    both = pd.concat([ts, ts.assign(scenario="other", adoption_share=ts["adoption_share"] / 2)])
    fig = plot_adoption_and_cost(both)
    assert len(fig.axes[0].get_lines()) == 2
    written = save_figure(fig, tmp_path / "fig", formats=("png", "svg"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.png", "fig.svg"]
    assert all(p.stat().st_size > 0 for p in written)


def test_rejects_a_frame_without_the_metrics(tiny_result) -> None:
    with pytest.raises(ValueError, match="adoption_share"):
        plot_adoption_and_cost(tiny_result.timeseries.drop(columns="adoption_share"))
    with pytest.raises(ValueError, match="empty"):
        plot_adoption_and_cost(tiny_result.timeseries.iloc[:0])


def test_failed_save_leaves_no_file(tiny_result, tmp_path: Path) -> None:
    fig = plot_adoption_and_cost(tiny_result.timeseries)
    with pytest.raises(ValueError):
        save_figure(fig, tmp_path / "fig", formats=("png", "no-such-format"))
    assert [p.name for p in tmp_path.iterdir()] == ["fig.png"]


def test_import_changes_no_global_state() -> None:
    code = (
        "import sys, matplotlib\n"
        "rc = matplotlib.rcParams\n"
        "before = dict.__getitem__(rc, 'backend')\n"
        "import mensi_sim.plotting\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
        "assert dict.__getitem__(rc, 'backend') == before\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
