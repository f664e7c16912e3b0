"""Figures fit for a paper: nothing overlaps, nothing is cut, units are the outcome's own,
and the size, resolution and SVG text a journal asks for.

Every figure kind is drawn on a 25-scenario sweep (five structures x five learning
rates, long names, five scenarios at the same point) and on the small sweep and single
run of the other plot tests, at its own size and at a paper's 7 x 3.5 inches, and checked
from its artists through the renderer (``figure_checks.layout_problems``): no text
overlaps or touches another or runs into a legend, none leaves the canvas, no title is
wider than its panel, and no marker is cut by its frame.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from figure_checks import drawn_texts, layout_problems
from matplotlib.colors import to_hex
from PIL import Image
from support import TINY_SCENARIO
from typer.testing import CliRunner
from viz_support import (
    ALL_SWEEP_FIGURES,
    mensi_app,
    run_results,
    sweep25_results,
    sweep_results,
)

from mensi_sim import Results
from mensi_sim.plotting import plan_figures
from mensi_sim.plotting import timeseries as tsp
from mensi_sim.plotting.collect import FigureSpec, _draw, write_plots
from mensi_sim.plotting.common import (
    LEGIBLE_FONT,
    OKABE_ITO,
    SCENARIO_COLOURS,
    figure_notes,
    figure_size,
    new_figure,
)

# the tiny sweep's figures, and Morris and Sobol charts of the cost too
FIGURES_25 = sorted(ALL_SWEEP_FIGURES | {"morris_total_cost", "sobol_total_cost"})
PAPER = (7.0, 3.5)  # inches: the README's `--size 7x3.5` for a paper
# what 25 scenarios do not fit into 7 x 3.5 inches: 24 rows of scheme names in about 200
# pixels of height (each row needs 12 at the default font, 10 at LEGIBLE_FONT): the figure
# grows taller, and says so (the eight Morris labels fit at a smaller font, their ticks
# thinned for the plane the labels leave)
GROWN_AT_PAPER_SIZE = {"paired_differences"}


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sweep_results(tmp_path_factory)


@pytest.fixture(scope="module")
def sweep25(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sweep25_results(tmp_path_factory)


def _figures(results: Path) -> dict:
    """Every figure kind the results support, plus adoption_cost on the chosen scenarios."""
    bundle = Results.load(results)
    makers = {s.name: s.make for s in plan_figures(bundle)}
    makers.setdefault(
        "adoption_cost",
        lambda: tsp.plot_adoption_and_cost(bundle.timeseries, baseline=bundle.baseline),
    )
    return makers


@pytest.fixture(scope="module")
def figures25(sweep25: Path) -> dict:
    return _figures(sweep25)


@pytest.fixture(scope="module")
def figures(sweep: Path) -> dict:
    return _figures(sweep)


def test_the_25_scenario_sweep_supports_every_figure_kind(figures25) -> None:
    assert sorted(figures25) == sorted(FIGURES_25)


@pytest.mark.parametrize("name", FIGURES_25)
def test_every_figure_of_25_scenarios_keeps_its_text_apart_and_on_the_canvas(
    figures25, name
) -> None:
    fig = figures25[name]()
    assert layout_problems(fig) == []


@pytest.mark.parametrize("name", FIGURES_25)
def test_every_figure_of_25_scenarios_at_a_papers_size(figures25, name) -> None:
    with figure_size(PAPER):
        fig = figures25[name]()
    width, height = fig.get_size_inches()
    if name in GROWN_AT_PAPER_SIZE:
        assert width == PAPER[0] and height > PAPER[1]
    else:
        assert (width, height) == PAPER and figure_notes(fig) == []
    assert layout_problems(fig) == []
    for text, _ in drawn_texts(fig):  # shrunk to fit, still legible in print
        assert text.get_fontsize() >= LEGIBLE_FONT, text.get_text()


def test_a_figure_grown_past_the_size_asked_says_so(figures25, tmp_path) -> None:
    """24 rows of names do not fit 3.5 inches even at 6 pt: the figure is as tall as they
    need, and `mensi-sim plot` prints the note `write_plots` returns."""
    spec = FigureSpec("paired_differences", "", "", figures25["paired_differences"], "comparison")
    paths, notes = _draw(spec, tmp_path, ("png",), 100, PAPER)
    width, height = Image.open(paths[0]).size
    assert width == 700 and height > 350
    inches = f"{height / 100:.1f}"
    assert notes == [
        f"paired_differences: 24 rows need {inches} in; drawn 7 x {inches} instead of 7 x 3.5"
    ]


def test_a_figure_that_fits_is_not_grown(figures, figures25) -> None:
    """Three scenarios' rows fit 7 x 3.5; 25 scenarios' fit their own default height (the
    25 scenarios' Morris planes at 7 x 3.5: test_every_figure_of_25_scenarios_at_...)."""
    with figure_size(PAPER):
        small = figures["paired_differences"]()
    assert tuple(small.get_size_inches()) == PAPER and figure_notes(small) == []
    default = figures25["paired_differences"]()
    assert figure_notes(default) == []


@pytest.mark.parametrize("which", ["sweep", "run"])
def test_figures_of_a_few_scenarios_keep_their_text_apart(tmp_path_factory, which) -> None:
    results = (sweep_results if which == "sweep" else run_results)(tmp_path_factory)
    for name, make in _figures(results).items():
        assert layout_problems(make()) == [], name


@pytest.mark.parametrize("name", sorted(ALL_SWEEP_FIGURES))
def test_every_figure_of_a_few_scenarios_fits_a_papers_size(figures, name) -> None:
    """The README's `mensi-sim plot ... --size 7x3.5`: long axis labels wrapped to their
    axes, legends below the panels or in fewer columns, the map's markers inside."""
    with figure_size(PAPER):
        fig = figures[name]()
    assert tuple(fig.get_size_inches()) == PAPER
    assert layout_problems(fig) == []


def test_the_figures_of_a_single_run_fit_a_papers_size(tmp_path_factory) -> None:
    with figure_size(PAPER):
        for name, make in _figures(run_results(tmp_path_factory)).items():
            assert layout_problems(make()) == [], name


def test_the_checker_sees_overlap_text_off_the_canvas_and_cut_markers() -> None:
    fig = new_figure((4.0, 3.0))
    ax = fig.subplots()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.text(0.5, 0.5, "first label")
    ax.text(0.52, 0.51, "second label")
    fig.text(0.98, 0.5, "beyond the right edge")
    ax.scatter([1.0], [0.5], s=200)
    problems = layout_problems(fig)
    assert any("'first label' and 'second label' overlap" in p for p in problems)
    assert any("'beyond the right edge' leaves the canvas" in p for p in problems)
    assert any("marker(s) cut by the frame" in p for p in problems)


def test_the_checker_sees_a_title_wider_than_its_panel() -> None:
    fig = new_figure((6.0, 4.0))
    fig.set_layout_engine("none")
    top = fig.add_axes((0.3, 0.5, 0.4, 0.3))  # 240 pixels wide, the titles on the canvas
    bottom = fig.add_axes((0.3, 0.1, 0.4, 0.25))
    for ax in (top, bottom):
        ax.set_xticks([])
        ax.set_yticks([])
    top.set_title("A centre title of many words, wider than its axes")
    bottom.set_title("A right title, also wider than its axes", loc="right")
    fig.suptitle("A suptitle wider than the union of the two axes below it")
    problems = layout_problems(fig)
    for kind, text in (
        ("title", "A centre title of many words, wider than its axes"),
        ("title", "A right title, also wider than its axes"),
        ("suptitle", "A suptitle wider than the union of the two axes below it"),
    ):
        found = [p for p in problems if p.startswith(f"{kind} {text!r} is wider than its axes (")]
        assert found and found[0].endswith(" > 240 pixels)"), (text, problems)
    assert not any("leaves the canvas" in p for p in problems)
    top.set_title("Short")
    bottom.set_title("Short too", loc="right")
    fig.suptitle("A suptitle")
    assert layout_problems(fig) == []


def test_fit_text_wraps_a_long_title_to_its_panel_and_keeps_a_short_one() -> None:
    from mensi_sim.plotting.common import fit_text

    fig = new_figure((7.0, 3.0))
    narrow, wide = fig.subplots(1, 2, width_ratios=(1, 3))
    for ax in (narrow, wide):
        ax.set_xticks([])
        ax.set_yticks([])
    long = "A long title of many words that runs well past the narrow panel below it"
    narrow.set_title(long)
    wide.set_title("Short title", loc="left")
    fig.suptitle("Two panels\nand a note of two lines")
    assert fit_text(fig, labels=False) is fig  # the titles only
    assert narrow.get_title().count("\n") >= 1
    assert narrow.get_title().split() == long.split()  # the same words in the same order
    assert wide.get_title(loc="left") == "Short title"
    assert fig.get_suptitle() == "Two panels\nand a note of two lines"
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert narrow.title.get_window_extent(renderer).width <= narrow.bbox.width
    assert layout_problems(fig) == []


def test_fit_text_wraps_axis_labels_to_their_axes_and_thins_crowded_ticks() -> None:
    from matplotlib.ticker import MaxNLocator

    from mensi_sim.plotting.common import euro_formatter, fit_text

    fig = new_figure((6.0, 3.0))
    left, right = fig.subplots(1, 2)
    x_label = "Week since the start of the school year (weeks)"
    y_label = "Mean capacity for digital innovation (0-1 scale)"
    right_label = "Equity gap: other minus disadvantaged (0-1 scale)"
    left.set_xlabel(x_label)
    left.set_ylabel(y_label)
    right.set_ylabel(right_label)
    second = right.secondary_yaxis("right")
    second.set_ylabel("SELFIE-style score (1-5), a second axis")
    for axis in (left.xaxis, left.yaxis, right.yaxis, second.yaxis):
        axis.set_ticks([])  # the thinning is the cost axis'
    right.set_xlim(0, 2_000_000)
    right.xaxis.set_major_locator(MaxNLocator(nbins=8))
    right.xaxis.set_major_formatter(euro_formatter(2_000_000))
    right.set_xlabel("Cost")
    before = layout_problems(fig)  # as drawn: labels run into each other, ticks touch
    assert any(p.startswith("texts 'Week since") for p in before)
    assert any(p.count("'€") == 2 for p in before), before  # two cost ticks
    assert fit_text(fig) is fig
    assert len(right.xaxis.get_majorticklocs()) < 9  # every 0.25M: now fewer
    assert left.get_xlabel().count("\n") >= 1 and left.get_ylabel().count("\n") >= 1
    for text, original in ((left.get_xlabel(), x_label), (left.get_ylabel(), y_label)):
        assert text.split() == original.split()  # the same words in the same order
    assert right.get_xlabel() == "Cost"  # a label that fits stays as it is
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert left.xaxis.label.get_window_extent(renderer).width <= left.bbox.width
    assert left.yaxis.label.get_window_extent(renderer).height <= left.bbox.height
    assert layout_problems(fig) == []


def test_a_figure_legend_too_wide_for_the_canvas_takes_fewer_columns() -> None:
    from matplotlib.lines import Line2D

    from mensi_sim.plotting.common import figure_legend, fit_text

    fig = new_figure((5.0, 3.0))
    ax = fig.subplots()
    ax.set_xticks([])
    ax.set_yticks([])
    handles = [Line2D([], [], color=c, label=f"scenario number {i}") for i, c in
               enumerate(SCENARIO_COLOURS[:6])]  # fmt: skip
    legend = figure_legend(fig, handles=handles, loc="outside lower center", ncols=6)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert legend in fig.legends and len(fig.legends) == 1
    assert legend.get_window_extent(renderer).width <= fig.bbox.width
    rows = Counter(round(t.get_window_extent(renderer).y0) for t in legend.get_texts())
    assert len(rows) > 1 and len(set(rows.values())) == 1, rows  # 3 + 3 (or 2 + 2 + 2), not 5 + 1
    assert layout_problems(fit_text(fig)) == []


def _tick_texts(ax, axis: str = "x") -> list[str]:  # noqa: ANN001
    target = ax.xaxis if axis == "x" else ax.yaxis
    lo, hi = sorted(ax.get_xlim() if axis == "x" else ax.get_ylim())
    return [target.get_major_formatter()(v) for v in target.get_majorticklocs() if lo <= v <= hi]


def test_differences_of_shares_are_in_percentage_points_and_costs_in_euros(figures25) -> None:
    fig = figures25["paired_differences"]()
    share, *_, cost = fig.axes
    assert "percentage points" in share.get_xlabel()
    ticks = _tick_texts(share)
    assert ticks and not any("%" in t for t in ticks)
    assert any(float(t) >= 10 for t in ticks if t not in ("0",))  # 100 x the share
    assert all(re.fullmatch(r"-?€[\d,.]+[kM]?", t) for t in _tick_texts(cost)), _tick_texts(cost)


def test_morris_axes_are_in_the_outcomes_unit(figures25) -> None:
    cost = figures25["morris_total_cost"]()
    bar, plane = cost.axes[:2]
    assert "EUR" in bar.get_xlabel() and "outcome units" not in bar.get_xlabel()
    for ticks in (_tick_texts(bar), _tick_texts(plane), _tick_texts(plane, "y")):
        assert all(t.startswith("€") for t in ticks), ticks  # never a raw 500000
    share = figures25["morris_final_adoption_share"]()
    assert "percentage points" in share.axes[0].get_xlabel()
    assert not any("%" in t for t in _tick_texts(share.axes[0]))


def test_morris_plane_names_every_parameter(figures25) -> None:
    fig = figures25["morris_final_adoption_share"]()
    plane = fig.axes[1]
    drawn = {t.get_text() for t, _ in drawn_texts(fig)}
    names = {t.get_text() for t in fig.axes[0].get_yticklabels()}
    assert len(names) == 8 and names <= drawn  # 7 parameters and the dummy
    assert {t.get_text() for t in plane.texts} == names


def test_cost_effectiveness_plane_numbers_every_scheme_with_a_key(figures25, sweep25: Path) -> None:
    fig = figures25["cost_effectiveness"]()
    table = pd.read_parquet(sweep25 / "comparison.parquet")
    numbers = [int(n) for t in fig.axes[0].texts for n in t.get_text().split(", ")]
    assert sorted(numbers) == list(range(1, len(table) + 1))  # each scheme exactly once
    key = next(g for g in fig.legends if g.get_title().get_text() == "Key")
    expected = [f"{i}  {name}" for i, name in enumerate(table["scenario"], 1)]
    assert [t.get_text() for t in key.get_texts()] == expected
    # the five "none" scenarios share the baseline's point, and one label
    assert "1, 2, 3, 4, 5" in {t.get_text() for t in fig.axes[0].texts}


def _colours(fig) -> set[str]:  # noqa: ANN001
    found = set()
    for ax in fig.axes:
        found |= {to_hex(line.get_color()) for line in ax.get_lines()}
        for coll in ax.collections:
            found |= {to_hex(c) for c in coll.get_facecolor()}
            found |= {to_hex(c) for c in coll.get_edgecolor()}
    return found


def test_no_scenario_is_drawn_in_yellow_on_white(figures25) -> None:
    yellow = OKABE_ITO["yellow"].lower()
    assert yellow not in {c.lower() for c in SCENARIO_COLOURS}
    for name in ("adoption", "capacity_equity", "adoption_cost"):
        assert yellow not in _colours(figures25[name]()), name


def test_bars_end_inside_their_frame(figures25) -> None:
    fig = figures25["adoption_cost"]()
    ax = fig.axes[1]
    ends = [p.get_x() + p.get_width() for p in ax.patches]
    assert ends and max(ends) <= 0.95 * ax.get_xlim()[1]


def test_no_inside_outside_panel_when_every_school_is_a_member() -> None:
    import tomllib

    from mensi_sim.scenario import Scenario
    from mensi_sim.simulate import simulate

    sc = Scenario.model_validate(tomllib.loads(TINY_SCENARIO))
    ts = pd.concat(
        [
            simulate(
                sc.with_updates({"network.structure": s}), replications=2, seed=1
            ).timeseries.assign(scenario=s)
            for s in ("none", "complete")
        ]
    )
    assert (ts.loc[ts["scenario"] == "complete", "members"] == 30).all()
    fig = tsp.plot_adoption_curves(ts)
    assert len(fig.axes) == 1
    assert "no school is outside its network" in fig.get_suptitle()
    # with schools outside (top_down: 12 of 30 in the network) the panel is there
    td = simulate(sc, replications=2, seed=1).timeseries
    assert len(tsp.plot_adoption_curves(td).axes) == 2


def _svg_texts(path: Path) -> list[str]:
    root = ET.parse(path).getroot()
    return [el.text or "" for el in root.iter() if el.tag.endswith("text")]


def test_size_and_dpi_for_a_paper_and_svg_text_kept_as_text(sweep: Path, tmp_path: Path) -> None:
    written, notes = write_plots(
        sweep, out_dir=tmp_path, formats=("png", "svg"), network=False, dpi=300, size=(7, 3.5)
    )
    assert notes == [] and written
    for png in [p for p in written if p.suffix == ".png"]:
        with Image.open(png) as img:
            assert img.size == (2100, 1050), (png.name, img.size)
    svg = tmp_path / "cost_effectiveness.svg"
    texts = _svg_texts(svg)
    assert "Cost-effectiveness plane (baseline: none)" in texts  # a <text>, not glyph paths
    assert 'id="DejaVuSans' not in svg.read_text(encoding="utf-8")
    with figure_size((7, 3.5)):
        assert tuple(new_figure().get_size_inches()) == (7.0, 3.5)
    assert tuple(new_figure().get_size_inches()) == (11.0, 4.5)  # only inside the block
    with pytest.raises(ValueError, match="two positive numbers"):
        with figure_size((0, 3)):
            pass


def test_plot_and_run_take_dpi_and_size(sweep: Path, tmp_path: Path, tiny_scenario_file) -> None:
    runner = CliRunner()
    app = mensi_app()
    done = runner.invoke(
        app,
        ["plot", str(sweep), "--out", str(tmp_path / "p"), "--format", "png", "--no-network"]
        + ["--dpi", "150", "--size", "8x4"],
    )
    assert done.exit_code == 0, done.output
    with Image.open(tmp_path / "p" / "adoption.png") as img:
        assert img.size == (1200, 600)
    done = runner.invoke(
        app,
        ["run", str(tiny_scenario_file), "-r", "2", "--out", str(tmp_path / "r")]
        + ["--dpi", "200", "--size", "7x3"],
    )
    assert done.exit_code == 0, done.output
    with Image.open(tmp_path / "r" / "adoption_cost.png") as img:
        assert img.size == (1400, 600)
    for bad, says in (
        (["--size", "7"], "expected WIDTHxHEIGHT"),
        (["--size", "100x1"], "1 to 50 inches"),
        (["--size", "40x40", "--dpi", "1200"], "pixels on a side"),
    ):
        done = runner.invoke(app, ["plot", str(sweep), "--out", str(tmp_path / "x"), *bad])
        line = done.output.strip()
        assert done.exit_code == 2 and line.startswith("error: --size") and says in line, line
        assert "\n" not in line and not (tmp_path / "x").exists()


def test_label_points_keeps_the_data_limits() -> None:
    from mensi_sim.plotting.common import label_points

    fig = new_figure((5.0, 4.0))
    ax = fig.subplots()
    x, y = np.array([0.0, 0.01, 0.02, 1.0]), np.array([0.0, 0.0, 0.01, 1.0])
    ax.scatter(x, y)
    limits = (ax.get_xlim(), ax.get_ylim())
    texts = label_points(ax, x, y, ["a", "bb", "ccc", "dddd"])
    assert [t.get_text() for t in texts] == ["a", "bb", "ccc", "dddd"]
    assert (ax.get_xlim(), ax.get_ylim()) == limits
    assert layout_problems(fig) == []


@pytest.mark.parametrize(
    ("largest", "ticks"),
    [(1.2e6, [0, 2.5e5, 5e5, 7.5e5, 1e6]), (9e4, [-2500, 0, 2500, 10_000, 12_500])]
    + [(900, [0, 250, 1000]), (3e7, [0, 1e7, 2.5e7])],
)
def test_euro_ticks_name_their_values(largest, ticks) -> None:
    from mensi_sim.plotting.common import euro_formatter

    fmt = euro_formatter(largest)
    labels = [fmt(v) for v in ticks]
    assert len(set(labels)) == len(labels)  # no two ticks read the same (€0.2M for 250k)
    for value, text in zip(ticks, labels, strict=True):
        number = float(text.replace("€", "").replace(",", "").rstrip("kM") or 0)
        scale = {"k": 1e3, "M": 1e6}.get(text[-1], 1.0)
        assert number * scale == pytest.approx(value), (value, text)


def test_the_report_captions_a_grown_figure_with_its_note(figures25, sweep25) -> None:
    from mensi_sim.report.comparisons import figures_html

    make = figures25["paired_differences"]
    spec = FigureSpec("paired_differences", "Differences", "Caption.", make, "comparison")
    with figure_size(PAPER):
        html = figures_html([spec], Results.load(sweep25))
    assert "Caption. Note: 24 rows need" in html and "instead of 7 x 3.5." in html
    assert "Note:" not in figures_html([spec], Results.load(sweep25))  # at its own size
