"""What every figure shares: the palette, sizes, axis formatters, bands and atomic saving.

Figures are ``matplotlib.figure.Figure`` objects drawn by the Agg canvas, never
through ``pyplot``, so importing this package changes no global state (no backend
switch, no open-figure registry). Colours come from the Okabe–Ito palette, which
stays distinguishable under the common forms of colour blindness.

For a paper: ``figure_size((7, 3.5))`` makes every figure drawn inside it that size
(inches), ``save_figure(..., dpi=300)`` sets the resolution of raster files, and SVG
files keep their text as text (``svg.fonttype = "none"``), so a journal's editor can
restyle it.
"""

from __future__ import annotations

import contextlib
import io
import os
import uuid
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter, MaxNLocator
from matplotlib.transforms import Bbox

from mensi_sim.codes import COST_CATEGORIES
from mensi_sim.files import os_reason
from mensi_sim.outcomes import cost_labels
from mensi_sim.stats import t_half_width

# Okabe & Ito (2008), "Color Universal Design"
OKABE_ITO = {
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "bluish_green": "#009E73",
    "orange": "#E69F00",
    "reddish_purple": "#CC79A7",
    "sky_blue": "#56B4E9",
    "yellow": "#F0E442",
    "black": "#000000",
}
# one colour per scenario: Okabe–Ito without its yellow, which a line on white hides
SCENARIO_COLOURS = tuple(c for name, c in OKABE_ITO.items() if name != "yellow")
_COST_PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7")
# one colour per cost category, in booking order (the palette repeats past six)
COST_COLOURS = {c: _COST_PALETTE[i % len(_COST_PALETTE)] for i, c in enumerate(COST_CATEGORIES)}
COST_LABELS = cost_labels()  # mensi_sim.outcomes: the one table of labels
GREY = "#999999"
FIGSIZE = (11.0, 4.5)  # inches
DPI = 100  # so the PNG is 1100 x 450 pixels
MAX_SCENARIOS = len(SCENARIO_COLOURS)  # lines one chart shows before it picks (one a colour)
SMALLEST_FONT = 0.8  # a text too long for its panel shrinks to this share of its size, no less
# crowded tick and point labels shrink to this size (points), no smaller: journals
# typically ask for 6-8 pt at least in a printed figure; past it the figure grows instead
LEGIBLE_FONT = 6.0
NOTES_ATTRIBUTE = "mensi_notes"  # a Figure's list of notes for the user (figure_notes)
TICK_GAP = 4.0  # pixels at least between two tick labels (the checks ask for 2)
WEEKS_LABEL = "Week since the start of the school year (weeks)"
SVG_TEXT = {"svg.fonttype": "none"}  # SVG text stays text (editable), not glyph paths

_FIGURE_SIZE: ContextVar[tuple[float, float] | None] = ContextVar("figure_size", default=None)


@contextlib.contextmanager
def figure_size(size: tuple[float, float] | None) -> Iterator[None]:
    """Inside the block every new figure is ``size`` inches (width, height); None: each
    figure's own default. The layout (constrained) adapts; text keeps its point size."""
    if size is not None:
        width, height = (float(v) for v in size)
        if not (np.isfinite(width) and np.isfinite(height) and width > 0 and height > 0):
            raise ValueError(f"figure size must be two positive numbers (inches), got {size!r}")
        size = (width, height)
    token = _FIGURE_SIZE.set(size)
    try:
        yield
    finally:
        _FIGURE_SIZE.reset(token)


def new_figure(figsize: tuple[float, float] = FIGSIZE) -> Figure:
    """An empty constrained-layout Figure on an Agg canvas (no pyplot), ``figsize`` inches
    unless a ``figure_size`` block sets the size of every figure."""
    fig = Figure(figsize=_FIGURE_SIZE.get() or figsize, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def add_note(fig: Figure, note: str) -> None:
    """Record a note on ``fig`` for the user (a figure drawn larger than asked, say):
    ``write_plots`` adds it to the results' notes, which ``mensi-sim plot`` prints. A
    figure function returns a Figure only, so the note travels on it."""
    notes = getattr(fig, NOTES_ATTRIBUTE, None)
    if notes is None:
        notes = []
        setattr(fig, NOTES_ATTRIBUTE, notes)
    notes.append(note)


def figure_notes(fig: Figure) -> list[str]:
    """The notes recorded on ``fig`` by ``add_note`` (none: an empty list)."""
    return list(getattr(fig, NOTES_ATTRIBUTE, None) or [])


def _grown_note(fig: Figure, what: str, asked: tuple[float, float]) -> None:
    width, height = fig.get_size_inches()
    add_note(
        fig,
        f"{what} need {height:.1f} in; drawn {width:g} x {height:.1f} instead of "
        f"{asked[0]:g} x {asked[1]:g}",
    )


def _settle(fig: Figure, renderer) -> None:  # noqa: ANN001
    """Run the layout and put each axes where the draw will (aspect, locators)."""
    if fig.get_layout_engine() is not None:
        fig.get_layout_engine().execute(fig)
    for ax in fig.axes:
        if ax.get_visible():
            locator = ax.get_axes_locator()
            ax.apply_aspect(locator(ax, renderer) if locator else None)


def fit_rows(fig: Figure, ax: Axes, rows: int) -> Figure:
    """Fit ``rows`` category tick labels (one a unit apart on the y axis of ``ax``) into
    their rows: labels taller than a row shrink toward ``LEGIBLE_FONT``; rows too low even
    at that size make the figure taller, as much as they need, with a note on the figure
    (``add_note``). Call it after ``fit_text``. Returns ``fig``."""
    if rows < 2:
        return fig
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    renderer = fig.canvas.get_renderer()
    asked = tuple(float(v) for v in fig.get_size_inches())
    labels = [t for t in ax.get_yticklabels() if t.get_text()]
    if not labels:
        return fig
    size = labels[0].get_fontsize()
    probe = Text(text="Ag", fontproperties=labels[0].get_fontproperties())
    probe.set_figure(fig)

    def height(points: float) -> float:
        probe.set_fontsize(points)
        return probe.get_window_extent(renderer).height

    for _ in range(4):
        _settle(fig, renderer)
        pitch = abs(float(np.diff(ax.transData.transform([(0, 0), (0, 1)])[:, 1])[0]))
        start = size
        while size > LEGIBLE_FONT and height(size) + TICK_GAP > pitch:
            size = max(LEGIBLE_FONT, size - 0.5)
        if size != start:
            ax.tick_params(axis="y", labelsize=size)
        need = height(size) + TICK_GAP
        if need <= pitch:
            break
        width, tall = fig.get_size_inches()
        fig.set_size_inches(width, tall + rows * (need - pitch) / fig.dpi + 0.02)
    if tuple(fig.get_size_inches()) != asked:
        _settle(fig, renderer)
        _grown_note(fig, f"{rows} rows", asked)
    return fig


def _length(text: Text, renderer) -> float:  # noqa: ANN001
    """A text's length along its lines in pixels (a rotated y label's is its height)."""
    box = text.get_window_extent(renderer)
    return box.height if abs(np.sin(np.deg2rad(text.get_rotation()))) > 0.5 else box.width


def _thin_ticks(ax: Axes, axis, renderer) -> bool:  # noqa: ANN001
    """Fewer ticks on an axis (a ``MaxNLocator``'s) whose tick labels would touch at the
    axes' drawn size; True when the ticks changed. The count is fixed at what the axes'
    size gives: matplotlib's default (``nbins="auto"``) counts by the axes' length, which
    the layout changes in turn, and the two can settle on a tick label off the canvas."""
    locator = axis.get_major_locator()
    ticks = axis.get_major_ticks()
    if not (isinstance(locator, MaxNLocator) and ticks and ticks[0].label1.get_visible()):
        return False
    locator.set_params(nbins=max(1, len(locator()) - 1))  # the same ticks, at any size
    probe = Text(fontproperties=ticks[0].label1.get_fontproperties())
    probe.set_figure(ax.figure)
    low, high = sorted(axis.get_view_interval())
    horizontal = axis.axis_name == "x"
    changed = False
    while True:
        locs = [v for v in locator() if low <= v <= high]
        if len(locs) < 3:
            return changed
        points = ax.transData.transform([(v, 0) if horizontal else (0, v) for v in locs])
        at = points[:, 0 if horizontal else 1]
        sizes = []
        for label in axis.get_major_formatter().format_ticks(locs):
            probe.set_text(label)
            box = probe.get_window_extent(renderer)
            sizes.append(box.width if horizontal else box.height)
        gaps = [
            abs(b - a) - (sa + sb) / 2
            for a, b, sa, sb in zip(at, at[1:], sizes, sizes[1:], strict=False)
        ]
        if min(gaps) >= TICK_GAP:
            return changed
        locator.set_params(nbins=len(locs) - 2)  # one interval fewer than shown
        changed = True


def figure_legend(fig: Figure, *args, ncols: int = 1, **kwargs) -> Legend:  # noqa: ANN002
    """``fig.legend(*args, ncols=ncols, **kwargs)`` that stays on the canvas: a legend
    wider than the figure gets fewer columns (as many as fit, the rows filled evenly),
    one taller than it more columns. A legend's size is its own (not the layout's), so
    it is measured at once."""
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    renderer = fig.canvas.get_renderer()
    room_w, room_h = 0.98 * fig.bbox.width, 0.98 * fig.bbox.height

    def make(n: int) -> tuple[Legend, Bbox]:
        legend = fig.legend(*args, ncols=n, **kwargs)
        return legend, legend.get_window_extent(renderer)

    legend, box = make(ncols)
    entries = max(1, len(legend.get_texts()))
    wide = box.width > room_w
    while (box.width > room_w if wide else box.height > room_h) and (
        ncols > 1 if wide else ncols < entries
    ):
        legend.remove()
        ncols += -1 if wide else 1
        legend, box = make(ncols)
    balanced = -(-entries // -(-entries // ncols))  # as many rows, filled evenly (3 + 3, not 5 + 1)
    if balanced < ncols:
        legend.remove()
        legend, box = make(balanced)
    return legend


def fit_text(fig: Figure, *, labels: bool = True) -> Figure:
    """Fit the text of ``fig`` to its panels. Each title and axis label is wrapped at its
    spaces so that no line is longer than its panel: an axes title and x label its axes'
    width, a y label (a secondary axis' too) its axes' height, the suptitle and supxlabel
    the width of the figure's axes together, the supylabel their height; a single word
    longer than that gets a smaller font (down to ``SMALLEST_FONT`` of its size). An axis
    whose tick labels would touch (a ``MaxNLocator``'s, matplotlib's default) gets fewer
    ticks. Lengths are measured through the renderer at the figure's layout, so call it
    once the figure is complete (legends and colour bars added), before ``label_points``.
    The words stay as they are; a text that fits is left alone, a wrapped one gets lines
    of even length. ``labels=False``: titles only. Returns ``fig``."""
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    renderer = fig.canvas.get_renderer()
    axes = [ax for ax in fig.axes if ax.get_visible()]
    # (text, the axes it belongs to or None for the figure's, along the width or height)
    texts: list[tuple[Text, Axes | None, str]] = [
        (t, ax, "width") for ax in axes for t in (ax.title, ax._left_title, ax._right_title)
    ]
    if fig._suptitle is not None and axes:
        texts.append((fig._suptitle, None, "width"))
    if labels:
        for ax in axes:
            for part in (ax, *ax.child_axes):  # a secondary axis spans its parent
                if not part.get_visible():
                    continue
                if part.xaxis.get_visible():
                    texts.append((part.xaxis.label, ax, "width"))
                if part.yaxis.get_visible():
                    texts.append((part.yaxis.label, ax, "height"))
        if axes:
            texts += [(t, None, "width") for t in (fig._supxlabel,) if t is not None]
            texts += [(t, None, "height") for t in (fig._supylabel,) if t is not None]
    texts = [
        (t, ax, d, t.get_text(), t.get_fontsize())
        for t, ax, d in texts
        if t.get_visible() and t.get_text()
    ]

    def length(text: Text, line: str) -> float:
        text.set_text(line)
        return _length(text, renderer)

    def wrap(text: Text, words: list[str], limit: float) -> list[str]:
        lines = [words[0]]
        for word in words[1:]:
            if length(text, f"{lines[-1]} {word}") <= limit:
                lines[-1] += f" {word}"
            else:
                lines.append(word)
        return lines

    for _ in range(4):  # a wrapped text is taller: an axes narrows (more at fixed aspect)
        _settle(fig, renderer)  # where the draw puts the axes (aspect, colour bar locator)
        frames = {ax: ax.get_window_extent(renderer) for ax in axes}
        changed = False
        for text, ax, along, original, size in texts:
            frame = frames[ax] if ax is not None else Bbox.union(list(frames.values()))
            limit = frame.width if along == "width" else frame.height
            before, before_size, lines = text.get_text(), text.get_fontsize(), []
            text.set_fontsize(size)
            for part in original.split("\n"):
                words = part.split(" ")
                if length(text, part) <= limit or len(words) == 1:
                    lines.append(part)
                    continue
                wrapped, low, high = wrap(text, words, limit), 0.0, limit
                while high - low > 2.0:  # the narrowest limit giving as many lines
                    mid = (low + high) / 2
                    low, high = (
                        (mid, high) if len(wrap(text, words, mid)) > len(wrapped) else (low, mid)
                    )
                lines += wrap(text, words, high)
            widest = max(length(text, line) for line in lines)
            text.set_text("\n".join(lines))
            if widest > limit:  # a word longer than its panel: a smaller font, within reason
                text.set_fontsize(max(SMALLEST_FONT * size, size * limit / widest))
            changed |= text.get_text() != before or text.get_fontsize() != before_size
        if labels:
            for ax in axes:
                for axis in (ax.xaxis, ax.yaxis):
                    changed |= _thin_ticks(ax, axis, renderer)
        if not changed:
            break
    return fig


def euro_formatter(largest: float) -> FuncFormatter:
    """Axis labels in EUR with one scale for the whole axis: €800, €12k or €1.2M
    (0 is €0, a negative amount -€12k), each with the decimals it needs (€0.25M, not €0.2M)."""
    largest = abs(largest)
    scale, suffix = (1e6, "M") if largest >= 1e6 else (1e3, "k")
    if largest < 1e4:
        scale, suffix = 1.0, ""

    def label(v: float, _pos: int | None = None) -> str:
        if v == 0:
            return "€0"
        sign, amount = ("-" if v < 0 else ""), abs(v) / scale
        digits = next(
            (d for d in (0, 1, 2) if abs(amount * 10**d - round(amount * 10**d)) < 1e-6), 2
        )
        return f"{sign}€{amount:,.{digits}f}{suffix}"

    return FuncFormatter(label)


def percent_axis_formatter(*, points: bool = False) -> FuncFormatter:
    """Shares (0-1) as percent (20%), or, for differences of shares, as percentage
    points (20: the axis label names the unit)."""

    def label(v: float, _pos: int | None = None) -> str:
        pct = 100 * v
        digits = 0 if abs(pct - round(pct)) < 1e-6 else 1
        text = "0" if abs(pct) < 1e-9 else f"{pct:.{digits}f}"
        return text if points else f"{text}%"

    return FuncFormatter(label)


def percent_axis(ax: Axes, axis: str = "y", *, points: bool = False) -> None:
    """A share axis in percent (or percentage points), ticks at round values."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
    target.set_major_formatter(percent_axis_formatter(points=points))


def week_axis(ax: Axes) -> None:
    """Weeks on the x axis: whole weeks only."""
    ax.xaxis.set_major_locator(MaxNLocator(nbins=8, integer=True))


# (unit in an axis label, kind) of a run outcome: share (0-1, shown in percent or
# percentage points), eur, or a plain number with its unit
OUTCOME_UNITS = {
    "final_adoption_share": ("percentage points", "share"),
    "final_adoption_share_members": ("percentage points", "share"),
    "final_adoption_share_outside": ("percentage points", "share"),
    "weeks_to_half_adoption": ("weeks", "number"),
    "capacity_gain": ("0-1 capacity scale", "number"),
    "final_equity_gap": ("0-1 capacity scale", "number"),
    "final_mean_capacity": ("0-1 capacity scale", "number"),
    "total_cost": ("EUR", "eur"),
    "cost_per_adopting_school": ("EUR", "eur"),
    "adopters_final": ("schools", "number"),
}


def outcome_unit(outcome: str) -> tuple[str, str]:
    """(unit, kind) of an outcome for an axis of its effects or differences; kind is
    ``share``, ``eur`` or ``number``. Unknown names: by their ending, else outcome units."""
    if outcome in OUTCOME_UNITS:
        return OUTCOME_UNITS[outcome]
    if outcome.endswith("_share"):
        return "percentage points", "share"
    if outcome.startswith("cost") or outcome.endswith("_cost"):
        return "EUR", "eur"
    return "outcome units", "number"


def outcome_axis(ax: Axes, outcome: str, largest: float, axis: str = "x", *, nbins: int = 5) -> str:
    """Format an axis of effects on (or differences of) ``outcome``: pp for shares, € for
    costs, at most ``nbins`` intervals; returns the unit for the axis label."""
    unit, kind = outcome_unit(outcome)
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(MaxNLocator(nbins=nbins, steps=[1, 2, 2.5, 5, 10]))
    if kind == "share":
        target.set_major_formatter(percent_axis_formatter(points=True))
    elif kind == "eur":
        target.set_major_formatter(euro_formatter(largest))
    return unit


@contextlib.contextmanager
def _no_tqdm_monitor() -> Iterator[None]:
    """Inside the block tqdm starts no monitor thread. textalloc wraps its loop in a
    disabled tqdm bar, which starts one that outlives the figure, and a process running
    a thread does not fork (``execution.start_method``): the next figures would be drawn
    one after the other. The monitor only tunes the refresh of slow bars."""
    from tqdm import tqdm

    interval = tqdm.monitor_interval
    tqdm.monitor_interval = 0
    try:
        yield
    finally:
        tqdm.monitor_interval = interval


def drawn_text_artists(fig: Figure, renderer) -> list[Text]:  # noqa: ANN001
    """Every non-blank text artist a draw of ``fig`` with ``renderer`` really shows, once
    each, in drawing order (tick labels outside the view, empty strings and hidden artists
    are never drawn). The draw runs the layout at the final size first."""
    seen: list[Text] = []
    original = renderer.draw_text

    def spy(gc, x, y, s, prop, angle, ismath=False, mtext=None):  # noqa: ANN001
        if mtext is not None and str(s).strip():
            seen.append(mtext)
        return original(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)

    renderer.draw_text = spy
    try:
        fig.draw(renderer)
    finally:
        del renderer.draw_text
    return list(dict.fromkeys(seen))


def _crowded(fig: Figure, ax: Axes, texts: list[Text], renderer) -> bool:  # noqa: ANN001
    """Whether a point label leaves the frame of ``ax`` or comes within 2 pixels of another
    text of the figure (another label, a tick label, a legend's or an axis' text)."""
    shown = drawn_text_artists(fig, renderer)  # not the ticks the draw leaves out
    frame = ax.get_window_extent(renderer)
    boxes = [t.get_window_extent(renderer) for t in texts]
    own = set(map(id, texts))
    others = [t.get_window_extent(renderer) for t in shown if id(t) not in own]
    for i, box in enumerate(boxes):
        if box.x0 < frame.x0 or box.x1 > frame.x1 or box.y0 < frame.y0 or box.y1 > frame.y1:
            return True
        for other in boxes[i + 1 :] + others:
            if box.padded(2.0).overlaps(other):
                return True
    return False


def label_points(
    ax: Axes,
    x: Sequence[float],
    y: Sequence[float],
    labels: Sequence[str],
    *,
    fontsize: float = 8.0,
    colour: str = "#222222",
) -> list[Text]:
    """Write each label next to its point without covering another label, a point or the
    frame; a thin line joins a label placed away from its point.

    Placement is textalloc's (greedy over candidate positions around each point), for the
    figure at its final size: call it after everything else is drawn (after ``fit_text``).
    The axis limits are fixed first, so the labels cannot move the data, and the labels
    take no room in the layout (they stay inside the frame). Labels textalloc cannot set
    apart are shrunk toward ``LEGIBLE_FONT``; still crowded at that size, the figure grows
    taller (to twice its height at most) with a note on it (``add_note``), and the ticks
    are thinned again for the size the figure ends at.
    """
    import textalloc

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return []
    fig = ax.figure
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    renderer = fig.canvas.get_renderer()
    asked = tuple(float(v) for v in fig.get_size_inches())
    ax.set_xlim(ax.get_xlim())
    ax.set_ylim(ax.get_ylim())
    names = [str(t) for t, keep in zip(labels, ok, strict=True) if keep]
    size, reach = fontsize, 0.3
    while True:
        with _no_tqdm_monitor():
            _, _, texts, lines = textalloc.allocate(
                ax,
                x[ok],
                y[ok],
                names,
                x_scatter=x[ok],
                y_scatter=y[ok],
                textsize=size,
                textcolor=colour,
                linecolor="#777777",
                linewidth=0.6,
                margin=0.01,
                min_distance=0.015,
                max_distance=reach,
                nbr_candidates=200 if reach == 0.3 else 1000,
                draw_all=True,
            )
        texts = [t for t in texts if t is not None]
        for text in texts:
            text.set_in_layout(False)
        if not _crowded(fig, ax, texts, renderer):
            break
        width, height = fig.get_size_inches()
        if size <= LEGIBLE_FONT and height >= 2 * asked[1] - 1e-9:
            break  # as legible and as tall as it gets: the labels as textalloc put them
        for artist in (*texts, *lines):
            if artist is not None:
                artist.remove()
        if reach < 0.9:  # farther from their points first (joined by lines)
            reach = 0.9
        elif size > LEGIBLE_FONT:
            size, reach = max(LEGIBLE_FONT, size - 0.5), 0.3
        else:
            fig.set_size_inches(width, min(2 * asked[1], height * 1.1))
            fit_text(fig)  # the ticks for the taller axes
    if tuple(fig.get_size_inches()) != asked:
        _grown_note(fig, f"{len(names)} point labels", asked)
    return texts


def euros(value: float) -> str:
    """An amount for a label: €850, €12.3k, €1.23M."""
    if value is None or not np.isfinite(value):
        return "n/a"
    sign, v = ("-" if value < 0 else ""), abs(value)
    if v >= 1e6:
        return f"{sign}€{v / 1e6:,.2f}M"
    if v >= 1e4:
        return f"{sign}€{v / 1e3:,.1f}k"
    return f"{sign}€{v:,.0f}"


def mean_and_ci(
    frame: pd.DataFrame, by: Sequence[str], column: str, level: float = 0.95
) -> pd.DataFrame:
    """Mean of ``column`` over replicates per group, with a t-based confidence band.

    Returns a frame with the ``by`` columns and ``mean``, ``low``, ``high``, ``n``;
    with a single replicate the band collapses onto the mean.
    """
    g = frame.groupby(list(by), sort=True)[column]
    out = g.agg(mean="mean", sd="std", n="count").reset_index()
    n = out["n"].to_numpy(dtype=float)
    sd = np.nan_to_num(out["sd"].to_numpy(dtype=float))
    half = np.where(n > 1, t_half_width(sd, np.maximum(n, 2), level), 0.0)
    out["low"] = out["mean"] - half
    out["high"] = out["mean"] + half
    return out.drop(columns="sd")


def scenario_order(frame: pd.DataFrame) -> list[str]:
    """Scenario names in order of first appearance."""
    return list(dict.fromkeys(frame["scenario"].astype(str)))


def pick_scenarios(
    ts: pd.DataFrame, baseline: str | None = None, most: int = MAX_SCENARIOS
) -> tuple[list[str], str]:
    """The scenarios a chart shows, and a note when it shows only some of them.

    With more than ``most`` scenarios it keeps the baseline and those with the
    highest final mean adoption share, in their original order.
    """
    names = scenario_order(ts)
    if len(names) <= most:
        return names, ""
    last = ts.loc[ts.groupby(["scenario", "replicate"])["step"].idxmax()]
    final = last.groupby(last["scenario"].astype(str))["adoption_share"].mean()
    keep = [baseline] if baseline in names else []
    for name in final.sort_values(ascending=False, kind="mergesort").index:
        if len(keep) >= most:
            break
        if name not in keep:
            keep.append(name)
    shown = [n for n in names if n in keep]
    why = "the baseline and " if baseline in keep else ""
    return shown, f"{len(shown)} of {len(names)} scenarios: {why}the highest final adoption"


def colour_of(i: int) -> str:
    """The i-th scenario colour (the palette repeats after seven)."""
    return SCENARIO_COLOURS[i % len(SCENARIO_COLOURS)]


def save_figure(
    fig: Figure,
    path_without_suffix: str | Path,
    formats: Sequence[str] = ("png",),
    *,
    dpi: float | None = None,
) -> list[Path]:
    """Save a figure in each format, each file written atomically.

    Every file is drawn into a hidden temporary sibling and renamed into place,
    so a reader never sees a half-written image. SVG text stays text.

    Args:
        dpi: Dots per inch of raster formats (default: the figure's, 100).

    Returns:
        The paths written, e.g. ``[Path("out/adoption_cost.png")]``.
    """
    base = Path(path_without_suffix)
    if fig.canvas is None or not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    written = []
    for fmt in formats:
        fmt = fmt.lstrip(".").lower()
        target = base.with_name(f"{base.name}.{fmt}")
        tmp = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex[:12]}")
        try:
            with matplotlib.rc_context(SVG_TEXT):
                fig.savefig(tmp, format=fmt, dpi=dpi or fig.dpi)
            os.replace(tmp, target)
        except OSError as exc:  # name the figure, not the temporary file
            tmp.unlink(missing_ok=True)
            raise OSError(exc.errno, os_reason(exc), str(target)) from None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        written.append(target)
    return written


def figure_bytes(fig: Figure, fmt: str = "png", *, dpi: float | None = None) -> bytes:
    """The figure drawn into memory (for embedding in a report or a web page)."""
    if fig.canvas is None or not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    buf = io.BytesIO()
    with matplotlib.rc_context(SVG_TEXT):
        fig.savefig(buf, format=fmt, dpi=dpi or fig.dpi)
    return buf.getvalue()
