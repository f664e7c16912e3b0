"""Figures of simulation results (the only module that imports matplotlib).

Figures are built as ``matplotlib.figure.Figure`` objects drawn by the Agg
canvas, never through ``pyplot``, so importing this module changes no global
state (no backend switch, no open-figure registry). Colours come from the
Okabe–Ito palette, which stays distinguishable under the common forms of
colour blindness.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter
from scipy import stats

from mensi_sim.codes import COST_CATEGORIES

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
COST_COLOURS = dict(
    zip(
        COST_CATEGORIES,
        ("#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7"),
        strict=True,
    )
)
COST_LABELS = {
    "travel": "Travel",
    "staff_time": "Staff time",
    "platform": "Online platform",
    "coordination": "Coordination",
    "training": "Training",
    "incentives": "Incentives",
}
FIGSIZE = (11.0, 4.5)  # inches
DPI = 100  # so the PNG is 1100 x 450 pixels


def _euro_formatter(largest: float) -> FuncFormatter:
    """Axis labels in EUR with one scale for the whole axis: €800, €12k or €1.2M."""
    if largest >= 1e6:
        return FuncFormatter(lambda v, _pos: f"€{v / 1e6:,.1f}M")
    if largest >= 1e4:
        return FuncFormatter(lambda v, _pos: f"€{v / 1e3:,.0f}k")
    return FuncFormatter(lambda v, _pos: f"€{v:,.0f}")


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
    tq = np.where(n > 1, stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1)), 0.0)
    half = tq * sd / np.sqrt(np.maximum(n, 1))
    out["low"] = out["mean"] - half
    out["high"] = out["mean"] + half
    return out.drop(columns="sd")


def plot_adoption_and_cost(timeseries: pd.DataFrame) -> Figure:
    """Adoption over time and cumulative cost by category.

    Left: the share of all schools that have adopted, by week; one line per
    scenario (mean over replicates) with its 95% confidence band. Right: the
    cumulative cost by category in EUR, mean over replicates, stacked; over
    weeks for a single scenario, or as the final cost per scenario (stacked
    bars) when there are several.

    Args:
        timeseries: The ``timeseries`` frame of a SimulationResult (columns
            scenario, replicate, step, adoption_share, cost_<category>).

    Raises:
        ValueError: The frame is empty or lacks a needed column.
    """
    cost_cols = [f"cost_{c}" for c in COST_CATEGORIES]
    needed = ["scenario", "replicate", "step", "adoption_share", *cost_cols]
    missing = [c for c in needed if c not in timeseries.columns]
    if missing:
        raise ValueError(f"timeseries lacks column(s): {', '.join(missing)}")
    if timeseries.empty:
        raise ValueError("timeseries is empty: nothing to plot")

    fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax_adopt, ax_cost = fig.subplots(1, 2)
    scenarios = list(dict.fromkeys(timeseries["scenario"].astype(str)))

    # left: adoption share, mean and 95% band per scenario
    band = mean_and_ci(
        timeseries.assign(scenario=timeseries["scenario"].astype(str)),
        ["scenario", "step"],
        "adoption_share",
    )
    for i, name in enumerate(scenarios):
        colour = SCENARIO_COLOURS[i % len(SCENARIO_COLOURS)]
        b = band[band["scenario"] == name]
        n_rep = int(b["n"].max())
        ax_adopt.fill_between(b["step"], b["low"], b["high"], color=colour, alpha=0.25, lw=0)
        ax_adopt.plot(b["step"], b["mean"], color=colour, lw=2, label=f"{name} (n = {n_rep})")
    ax_adopt.set_xlabel("Week since the start of the school year (weeks)")
    ax_adopt.set_ylabel("Schools that have adopted (% of all schools)")
    ax_adopt.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    ax_adopt.set_ylim(0, 1)
    ax_adopt.set_xlim(left=0)
    ax_adopt.set_title("Adoption: mean and 95% confidence band")
    ax_adopt.grid(alpha=0.3)
    ax_adopt.legend(loc="upper left", fontsize="small", frameon=False)

    # right: cumulative cost by category, mean over replicates
    means = (
        timeseries.assign(scenario=timeseries["scenario"].astype(str))
        .groupby(["scenario", "step"], sort=True)[cost_cols]
        .mean()
    )
    colours = [COST_COLOURS[c] for c in COST_CATEGORIES]
    labels = [COST_LABELS[c] for c in COST_CATEGORIES]
    if len(scenarios) == 1:
        m = means.loc[scenarios[0]]
        ax_cost.stackplot(
            m.index.to_numpy(),
            [m[c].to_numpy(dtype=float) for c in cost_cols],
            colors=colours,
            labels=labels,
            alpha=0.9,
        )
        ax_cost.set_xlabel("Week since the start of the school year (weeks)")
        ax_cost.set_xlim(left=0)
        ax_cost.set_title(f"Cumulative cost by category: {scenarios[0]}")
    else:
        final = means.groupby(level="scenario").tail(1).droplevel("step").reindex(scenarios)
        bottom = np.zeros(len(scenarios))
        for col, colour, label in zip(cost_cols, colours, labels, strict=True):
            values = final[col].to_numpy(dtype=float)
            ax_cost.bar(scenarios, values, bottom=bottom, color=colour, label=label)
            bottom += values
        ax_cost.set_xlabel("Scenario")
        ax_cost.tick_params(axis="x", labelrotation=20)
        ax_cost.set_title("Cumulative cost by category at the end of the run")
    ax_cost.set_ylabel("Cumulative cost, mean over replicates (EUR)")
    ax_cost.set_ylim(bottom=0)
    ax_cost.yaxis.set_major_formatter(_euro_formatter(ax_cost.get_ylim()[1]))
    ax_cost.grid(alpha=0.3, axis="y")
    handles, names = ax_cost.get_legend_handles_labels()
    where = {"loc": "upper left"}
    if len(scenarios) > 1:  # beside the bars, which fill the top left
        where["bbox_to_anchor"] = (1.0, 1.0)
    ax_cost.legend(handles[::-1], names[::-1], fontsize="small", frameon=False, **where)
    return fig


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
