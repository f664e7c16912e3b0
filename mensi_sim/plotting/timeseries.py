"""Curves over weeks: adoption, capacity and equity gap, cost by category.

Every function takes the ``timeseries`` frame of a results directory (one row
per scenario, replicate and week) and draws the mean over replicates with its
95% confidence band, one colour per scenario. A design of many sampled
parameter points (a sensitivity sweep) is drawn as an ensemble instead: the
median over points and the band holding 90% of them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from mensi_sim.codes import COST_CATEGORIES
from mensi_sim.plotting.common import (
    COST_COLOURS,
    COST_LABELS,
    FIGSIZE,
    GREY,
    WEEKS_LABEL,
    colour_of,
    euro_formatter,
    figure_legend,
    fit_text,
    mean_and_ci,
    new_figure,
    percent_axis,
    pick_scenarios,
    week_axis,
)

COST_COLUMNS = tuple(f"cost_{c}" for c in COST_CATEGORIES)
# beside the panels, centred: an axes title wider than its panel runs into an upper one
_LEGEND_RIGHT = {"loc": "outside right", "fontsize": "small", "frameon": False}
NARROW = 9.0  # inches: a narrower figure has its legend below the panels, not beside them


def _legend(fig: Figure, handles: list, labels: list[str]) -> None:
    """The figure's legend beside its panels, or below them in a narrow figure (a paper's
    7 inches), where a column of entries would take a quarter of the width."""
    if fig.get_size_inches()[0] >= NARROW:
        figure_legend(fig, handles, labels, **_LEGEND_RIGHT)
    else:
        below = {**_LEGEND_RIGHT, "loc": "outside lower center"}
        figure_legend(fig, handles, labels, ncols=max(1, len(handles)), **below)


def _check(ts: pd.DataFrame, columns: tuple[str, ...] | list[str]) -> None:
    needed = ["scenario", "replicate", "step", *columns]
    missing = [c for c in needed if c not in ts.columns]
    if missing:
        raise ValueError(f"timeseries lacks column(s): {', '.join(missing)}")
    if ts.empty:
        raise ValueError("timeseries is empty: nothing to plot")


def _as_str(ts: pd.DataFrame) -> pd.DataFrame:
    return ts.assign(scenario=ts["scenario"].astype(str))


def plot_adoption_and_cost(
    timeseries: pd.DataFrame,
    *,
    baseline: str | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Adoption over time and cumulative cost by category.

    Left: the share of all schools that have adopted, by week; one line per
    scenario (mean over replicates) with its 95% confidence band. Right: the
    cumulative cost by category in EUR, mean over replicates, stacked; over
    weeks for a single scenario, or as the final cost per scenario (stacked
    horizontal bars, one row per scenario) when there are several. With more
    scenarios than colours it shows the baseline and those adopting most.

    Args:
        timeseries: The ``timeseries`` frame of a SimulationResult (columns
            scenario, replicate, step, adoption_share, cost_<category>).
        baseline: The scenario kept in view when there are too many to show all.
        figsize: Inches (default 11 x 4.5).

    Raises:
        ValueError: The frame is empty or lacks a needed column.
    """
    cost_cols = list(COST_COLUMNS)
    _check(timeseries, ["adoption_share", *cost_cols])

    fig = new_figure(figsize or FIGSIZE)
    ax_adopt, ax_cost = fig.subplots(1, 2)
    ts = _as_str(timeseries)
    scenarios, note = pick_scenarios(ts, baseline)
    ts = ts[ts["scenario"].isin(scenarios)]

    # left: adoption share, mean and 95% band per scenario
    _scenario_bands(
        ax_adopt, ts, "adoption_share", {n: colour_of(i) for i, n in enumerate(scenarios)}
    )
    ax_adopt.set_ylabel("Schools that have adopted (% of all schools)")
    percent_axis(ax_adopt)
    ax_adopt.set_ylim(0, _share_top(ts, ["adoption_share"]))
    _finish_weeks(ax_adopt, ts)
    ax_adopt.set_title("Adoption: mean and 95% confidence band")
    ax_adopt.legend(loc="upper left", fontsize="small", frameon=False)

    # right: cumulative cost by category, mean over replicates
    means = ts.groupby(["scenario", "step"], sort=True)[cost_cols].mean()
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
        _finish_weeks(ax_cost, ts)
        ax_cost.set_title(f"Cumulative cost by category: {scenarios[0]}")
        ax_cost.set_ylabel("Cumulative cost, mean over replicates (EUR)")
        top = float(m[cost_cols].sum(axis=1).max())
        ax_cost.set_ylim(0, max(top * 1.08, 1.0))
        ax_cost.yaxis.set_major_formatter(euro_formatter(ax_cost.get_ylim()[1]))
        ax_cost.grid(alpha=0.3, axis="y")
    else:
        final = means.groupby(level="scenario").tail(1).droplevel("step").reindex(scenarios)
        rows = np.arange(len(scenarios))[::-1]  # the first scenario on top
        left = np.zeros(len(scenarios))
        for col, colour, label in zip(cost_cols, colours, labels, strict=True):
            values = final[col].to_numpy(dtype=float)
            ax_cost.barh(rows, values, left=left, color=colour, label=label, height=0.7)
            left += values
        ax_cost.set_yticks(rows, scenarios)
        ax_cost.set_ylim(-0.6, len(scenarios) - 0.4)
        # room on the right: the longest bar ends well inside the frame
        ax_cost.set_xlim(0, max(float(left.max()) * 1.08, 1.0))
        ax_cost.xaxis.set_major_formatter(euro_formatter(ax_cost.get_xlim()[1]))
        ax_cost.set_xlabel("Cumulative cost to the horizon, mean over replicates (EUR)")
        ax_cost.set_title("Cost by category to the horizon (the last simulated week)")
        ax_cost.grid(alpha=0.3, axis="x")
    handles, names = ax_cost.get_legend_handles_labels()
    _legend(fig, handles[::-1], names[::-1])
    _subtitle(fig, note)
    return fit_text(fig)


# ---- bands ------------------------------------------------------------------------------
def _scenario_bands(
    ax: Axes,
    ts: pd.DataFrame,
    column: str,
    colours: dict[str, str],
    *,
    ls: str = "-",
    label: bool = True,
) -> None:
    """Mean over replicates and 95% band of ``column`` for each scenario of ``colours``."""
    band = mean_and_ci(ts[ts["scenario"].isin(list(colours))], ["scenario", "step"], column)
    for name, colour in colours.items():
        b = band[band["scenario"] == name]
        if b.empty:
            continue
        n_rep = int(b["n"].max())
        ax.fill_between(b["step"], b["low"], b["high"], color=colour, alpha=0.18, lw=0)
        ax.plot(
            b["step"],
            b["mean"],
            color=colour,
            lw=2,
            ls=ls,
            label=f"{name} (n = {n_rep})" if label else None,
        )


def _ensemble_band(ax: Axes, ts: pd.DataFrame, column: str, colour: str, label: str) -> None:
    """Median over design points (each the mean of its replicates) and their 5-95% range."""
    per_point = ts.groupby(["scenario", "step"], sort=True)[column].mean().unstack("scenario")
    steps = per_point.index.to_numpy()
    values = per_point.to_numpy(dtype=float)
    lo, med, hi = np.nanpercentile(values, [5, 50, 95], axis=1)
    ax.fill_between(
        steps, lo, hi, color=colour, alpha=0.25, lw=0, label=f"{label}: 5-95% of points"
    )
    ax.plot(steps, med, color=colour, lw=2, label=f"{label}: median")


def _has_outsiders(ts: pd.DataFrame) -> pd.Series:
    """Per scenario: whether some schools are outside the network (then the outside share
    means something; when every school is a member it is 0 by definition)."""
    differs = ~np.isclose(ts["adoption_share_members"], ts["adoption_share"])
    some = (ts["adoption_share_outside"] > 0) | differs
    return some.groupby(ts["scenario"]).any() & (ts.groupby("scenario")["members"].max() > 0)


def _share_top(ts: pd.DataFrame, columns: list[str]) -> float:
    """Upper limit of a share axis: the data's top with room for the legend, at most 100%."""
    high = float(np.nanmax(ts[columns].to_numpy(dtype=float))) if len(ts) else 1.0
    return float(min(1.0, max(0.1, np.ceil(high * 1.35 * 20) / 20)))


def _finish_weeks(ax: Axes, ts: pd.DataFrame) -> None:
    ax.set_xlabel(WEEKS_LABEL)
    ax.set_xlim(0, max(1, int(ts["step"].max())))
    week_axis(ax)
    ax.grid(alpha=0.3)


def _subtitle(fig: Figure, note: str) -> None:
    if note:
        fig.suptitle(note, fontsize="small", color="#444444")


def plot_adoption_curves(
    timeseries: pd.DataFrame,
    *,
    baseline: str | None = None,
    ensemble: bool = False,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Adoption share by week with 95% confidence bands, one line per scenario.

    Left: all schools. Right: schools in the mentoring network (solid) and
    schools outside it (dashed), for the scenarios that have a network. When no
    scenario shown has schools outside its network (every school is a member, or
    there is no network), the right panel would repeat the left one and is left out.

    Args:
        timeseries: The ``timeseries`` frame of a results directory.
        baseline: The scenario kept in view when there are too many to show all.
        ensemble: Draw many sampled parameter points as one median and 5-95% band.
        figsize: Inches (default 11 x 4.5).
    """
    cols = ["adoption_share", "adoption_share_members", "adoption_share_outside", "members"]
    _check(timeseries, cols)
    ts = _as_str(timeseries)
    outside = _has_outsiders(ts)
    names, note = ([], "") if ensemble else pick_scenarios(ts, baseline)
    split = bool(outside.any()) if ensemble else bool(outside.reindex(names).fillna(False).any())
    fig = new_figure(figsize or FIGSIZE)
    axes = list(np.atleast_1d(fig.subplots(1, 2 if split else 1, sharey=True)))
    ax_all, ax_net = axes[0], (axes[1] if split else None)
    if ensemble:
        n_points = ts["scenario"].nunique()
        _ensemble_band(ax_all, ts, "adoption_share", colour_of(0), "all schools")
        if ax_net is not None:
            _ensemble_band(ax_net, ts, "adoption_share_members", colour_of(1), "network members")
            _ensemble_band(
                ax_net, ts, "adoption_share_outside", colour_of(2), "outside the network"
            )
        note = f"ensemble of {n_points} sampled parameter points"
        ax_all.set_title("All schools: median and 5-95% of sampled points")
    else:
        colours = {n: colour_of(i) for i, n in enumerate(names)}
        _scenario_bands(ax_all, ts, "adoption_share", colours)
        if ax_net is not None:
            members = ts.groupby("scenario")["members"].max()
            with_network = {n: c for n, c in colours.items() if members[n] > 0}
            _scenario_bands(ax_net, ts, "adoption_share_members", with_network, label=False)
            with_outside = {n: c for n, c in with_network.items() if outside[n]}
            _scenario_bands(
                ax_net, ts, "adoption_share_outside", with_outside, ls="--", label=False
            )
            ax_all.plot([], [], color=GREY, lw=2, label="network members (solid, right)")
            ax_all.plot([], [], color=GREY, lw=2, ls="--", label="outside the network (dashed)")
        ax_all.set_title("All schools: mean and 95% confidence band")
    ax_all.set_ylabel("Schools that have adopted (% of the group)")
    if ax_net is not None:
        ax_net.set_title("Inside and outside the mentoring network")
    elif not ensemble:
        note = "; ".join(t for t in (note, "one panel: no school is outside its network") if t)
    top = _share_top(ts, ["adoption_share", "adoption_share_members", "adoption_share_outside"])
    for ax in axes:
        _finish_weeks(ax, ts)
        percent_axis(ax)
        ax.set_ylim(0, top)
        if ensemble and ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper left", fontsize="small", frameon=False)
    if not ensemble:
        _legend(fig, *ax_all.get_legend_handles_labels())
    _subtitle(fig, note)
    return fit_text(fig)


def plot_capacity_equity(
    timeseries: pd.DataFrame,
    *,
    baseline: str | None = None,
    ensemble: bool = False,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Mean capacity and the equity gap by week, with 95% confidence bands.

    Capacity is on the model's 0-1 scale; the right axis of the left panel gives
    the matching SELFIE score (1-5, s = 1 + 4c). The equity gap is the mean
    capacity of other schools minus that of disadvantaged schools: above 0 the
    disadvantaged schools lag behind. Each panel's axis is scaled to its data.
    """
    _check(timeseries, ["mean_capacity", "equity_gap"])
    ts = _as_str(timeseries)
    fig = new_figure(figsize or FIGSIZE)
    ax_cap, ax_gap = fig.subplots(1, 2)
    note = ""
    if ensemble:
        _ensemble_band(ax_cap, ts, "mean_capacity", colour_of(0), "mean capacity")
        _ensemble_band(ax_gap, ts, "equity_gap", colour_of(1), "equity gap")
        note = f"ensemble of {ts['scenario'].nunique()} sampled parameter points"
        ax_cap.set_title("Capacity: median and 5-95% of sampled points")
    else:
        names, note = pick_scenarios(ts, baseline)
        colours = {n: colour_of(i) for i, n in enumerate(names)}
        _scenario_bands(ax_cap, ts, "mean_capacity", colours)
        _scenario_bands(ax_gap, ts, "equity_gap", colours, label=False)
        ax_cap.set_title("Capacity: mean and 95% confidence band")
    ax_cap.set_ylabel("Mean capacity for digital innovation (0-1 scale)")
    selfie = ax_cap.secondary_yaxis("right", functions=(lambda c: 1 + 4 * c, lambda s: (s - 1) / 4))
    selfie.set_ylabel("SELFIE-style score (1-5)")
    ax_gap.axhline(0, color="#444444", lw=0.8)
    ax_gap.set_ylabel("Equity gap: other minus disadvantaged (0-1 scale)")
    ax_gap.set_title("Equity gap (above 0: disadvantaged lag)")
    for ax in (ax_cap, ax_gap):
        _finish_weeks(ax, ts)
    if ensemble:
        for ax in (ax_cap, ax_gap):
            ax.legend(loc="best", fontsize="small", frameon=False)
    elif ax_cap.get_legend_handles_labels()[0]:
        _legend(fig, *ax_cap.get_legend_handles_labels())
    _subtitle(fig, note)
    return fit_text(fig)


def _stack(ax: Axes, frame: pd.DataFrame, legend: bool) -> None:
    labels = [COST_LABELS[c] for c in COST_CATEGORIES] if legend else ["_nolegend_"] * 6
    ax.stackplot(
        frame.index.to_numpy(),
        [frame[c].to_numpy(dtype=float) for c in COST_COLUMNS],
        colors=[COST_COLOURS[c] for c in COST_CATEGORIES],
        labels=labels,
        alpha=0.9,
    )


def plot_cost_over_time(
    timeseries: pd.DataFrame,
    *,
    baseline: str | None = None,
    ensemble: bool = False,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Cumulative cost by category over weeks (EUR, mean over replicates), stacked.

    One panel per scenario (small multiples on one cost axis, at most seven);
    an ensemble of sampled points shows the total cost's median and 5-95% band.
    """
    _check(timeseries, [*COST_COLUMNS, "cost_total"])
    ts = _as_str(timeseries)
    if ensemble:
        fig = new_figure(figsize or FIGSIZE)
        ax = fig.subplots()
        _ensemble_band(ax, ts, "cost_total", colour_of(0), "total cost")
        ax.set_ylabel("Cumulative cost, mean over replicates (EUR)")
        ax.set_title("Cumulative total cost")
        _finish_weeks(ax, ts)
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_formatter(euro_formatter(ax.get_ylim()[1]))
        ax.legend(loc="upper left", fontsize="small", frameon=False)
        _subtitle(fig, f"ensemble of {ts['scenario'].nunique()} sampled parameter points")
        return fit_text(fig)
    names, note = pick_scenarios(ts, baseline)
    cols = len(names) if len(names) <= 5 else 4
    rows = -(-len(names) // cols)
    fig = new_figure(figsize or (FIGSIZE[0], FIGSIZE[1] if rows == 1 else 7.5))
    axes = np.atleast_1d(fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False)).ravel()
    means = ts.groupby(["scenario", "step"], sort=True)[list(COST_COLUMNS)].mean()
    top = 0.0
    for i, (ax, name) in enumerate(zip(axes, names, strict=False)):
        m = means.loc[name]
        _stack(ax, m, legend=i == 0)
        top = max(top, float(m.sum(axis=1).max()))
        ax.set_title(name, fontsize="medium")
        ax.grid(alpha=0.3, axis="y")
        ax.set_xlim(0, max(1, int(ts["step"].max())))
        week_axis(ax)
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    axes[0].set_ylim(0, max(top * 1.05, 1.0))
    axes[0].yaxis.set_major_formatter(euro_formatter(axes[0].get_ylim()[1]))
    fig.supxlabel(WEEKS_LABEL, fontsize="medium")
    fig.supylabel("Cumulative cost, mean over replicates (EUR)", fontsize="medium")
    handles, labels = axes[0].get_legend_handles_labels()
    # beside the panels at any width: below, it would meet the week label under them
    figure_legend(fig, handles[::-1], labels[::-1], **_LEGEND_RIGHT)
    title = "Cumulative cost by category (EUR)"
    fig.suptitle(f"{title}\n{note}" if note else title, fontsize="medium")
    return fit_text(fig)
