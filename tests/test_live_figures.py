"""The app's figures (plotting.live): axes scaled to the data, and the week-by-week redraw
(blitting) showing the same picture as a figure drawn from scratch."""

from __future__ import annotations

import io

import numpy as np
import pytest
from figure_checks import layout_problems
from matplotlib.collections import LineCollection
from PIL import Image

from mensi_sim.plotting import plot_live_run, snapshot
from mensi_sim.plotting.live import LiveCharts, LiveNetwork, data_range
from mensi_sim.viz.model import VizModel


@pytest.fixture(scope="module")
def run():  # noqa: ANN201 - a VizModel after 12 weeks, and its charts updated each week
    model = VizModel(n_schools=120, weeks=52, seed=3)
    charts = LiveCharts(model.spec.time.steps)
    pngs = [charts.update(model.timeseries())]
    for _ in range(12):
        model.step()
        pngs.append(charts.update(model.timeseries()))
    return model, charts, pngs


def _pixels(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as img:
        return np.asarray(img.convert("RGB"), dtype=np.int16)


@pytest.mark.parametrize(
    ("low", "high", "span", "floor", "ceil"),
    [(0.20, 0.21, 0.02, 0.0, 1.0), (0.0, 0.0, 0.02, 0.0, 1.0), (0.97, 1.0, 0.02, 0.0, 1.0)]
    + [(-0.034, -0.031, 0.02, None, None), (0.2, 0.8, 0.02, 0.0, 1.0)],
)
def test_a_range_holds_the_data_with_room_and_stays_in_bounds(low, high, span, floor, ceil):
    lo, hi = data_range(low, high, min_span=span, floor=floor, ceil=ceil)
    assert lo <= low and high <= hi and hi - lo >= span
    assert floor is None or lo >= floor
    assert ceil is None or hi <= ceil
    assert hi - lo <= max(4 * (high - low), 4 * span)  # scaled to the data, not 0-1


def test_each_chart_has_its_own_range_around_its_data(run) -> None:
    model, charts, _ = run
    t = model.timeseries()
    for ax, column in (
        (charts.ax_adopt, "adoption_share"),
        (charts.ax_cap, "mean_capacity"),
        (charts.ax_gap, "equity_gap"),
    ):
        lo, hi = ax.get_ylim()
        values = t[column].to_numpy(float)
        assert lo <= values.min() and values.max() <= hi, column
        assert hi - lo <= max(0.2, 4 * np.ptp(values)), (column, lo, hi)
    assert charts.ax_gap.get_ylim() != charts.ax_cap.get_ylim()  # the gap has its own axis
    lo, hi = charts.ax_cost.get_ylim()
    assert lo == 0 and t["cost_total"].max() <= hi
    assert charts.ax_adopt.get_xlim() == (0, 52)  # the week axis spans the run
    legend = charts.ax_cost.get_legend()
    renderer = charts.fig.canvas.get_renderer()
    area = charts.ax_cost.get_window_extent(renderer)
    assert legend.get_window_extent(renderer).x0 >= area.x1  # beside the areas, not on them


def test_the_weekly_redraw_shows_what_a_fresh_figure_shows(run) -> None:
    model, charts, pngs = run
    assert len({hash(p) for p in pngs}) == len(pngs)  # every week a new picture
    charts.background = None  # the same state drawn from scratch (ranges kept)
    blitted, drawn = _pixels(pngs[-1]), _pixels(charts.update(model.timeseries()))
    assert blitted.shape == drawn.shape
    differ = (np.abs(blitted - drawn).max(axis=2) > 40).mean()
    assert differ < 0.01, f"{100 * differ:.2f}% of the pixels differ"
    assert layout_problems(plot_live_run(model.timeseries(), steps=52)) == []


def test_the_network_draws_its_ties_once_and_its_schools_each_week() -> None:
    model = VizModel(n_schools=120, weeks=20, seed=3)
    live = LiveNetwork("adoption")
    first = live.update(snapshot(model), model.drawn_ties())
    ties = [c for c in live.ax.collections if isinstance(c, LineCollection)]
    assert ties
    pictures = {first}
    for _ in range(15):
        model.step()
        pictures.add(live.update(snapshot(model), model.drawn_ties()))
        now = [c for c in live.ax.collections if isinstance(c, LineCollection)]
        assert now == ties  # the same tie artists: never rebuilt while the ties stay
    assert len(pictures) > 1  # the schools and the title change
    assert live.title.get_text().startswith("Week 15: ")
