"""What every figure shares: the palette, sizes, axis formatters, bands and atomic saving.

Figures are ``matplotlib.figure.Figure`` objects drawn by the Agg canvas, never
through ``pyplot``, so importing this package changes no global state (no backend
switch, no open-figure registry). Colours come from the Okabe–Ito palette, which
stays distinguishable under the common forms of colour blindness.
"""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from mensi_sim.codes import COST_CATEGORIES
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
SCENARIO_COLOURS = tuple(OKABE_ITO.values())
_COST_PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7")
# one colour per cost category, in booking order (the palette repeats past six)
COST_COLOURS = {c: _COST_PALETTE[i % len(_COST_PALETTE)] for i, c in enumerate(COST_CATEGORIES)}
COST_LABELS = cost_labels()  # mensi_sim.outcomes: the one table of labels
GREY = "#999999"
FIGSIZE = (11.0, 4.5)  # inches
DPI = 100  # so the PNG is 1100 x 450 pixels
MAX_SCENARIOS = 8  # lines one chart shows before it picks (one per palette colour)
WEEKS_LABEL = "Week since the start of the school year (weeks)"


def new_figure(figsize: tuple[float, float] = FIGSIZE) -> Figure:
    """An empty constrained-layout Figure on an Agg canvas (no pyplot)."""
    fig = Figure(figsize=figsize, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def euro_formatter(largest: float) -> FuncFormatter:
    """Axis labels in EUR with one scale for the whole axis: €800, €12k or €1.2M."""
    largest = abs(largest)
    if largest >= 1e6:
        return FuncFormatter(lambda v, _pos: f"€{v / 1e6:,.1f}M")
    if largest >= 1e4:
        return FuncFormatter(lambda v, _pos: f"€{v / 1e3:,.0f}k")
    return FuncFormatter(lambda v, _pos: f"€{v:,.0f}")


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
    """The i-th scenario colour (the palette repeats after eight)."""
    return SCENARIO_COLOURS[i % len(SCENARIO_COLOURS)]


def save_figure(
    fig: Figure, path_without_suffix: str | Path, formats: Sequence[str] = ("png",)
) -> list[Path]:
    """Save a figure in each format, each file written atomically.

    Every file is drawn into a hidden temporary sibling and renamed into place,
    so a reader never sees a half-written image.

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
            fig.savefig(tmp, format=fmt, dpi=fig.dpi)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        written.append(target)
    return written


def figure_bytes(fig: Figure, fmt: str = "png") -> bytes:
    """The figure drawn into memory (for embedding in a report or a web page)."""
    if fig.canvas is None or not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=fig.dpi)
    return buf.getvalue()
