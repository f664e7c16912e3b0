"""Comparisons against the baseline: the cost-effectiveness plane and paired differences.

Both read the table ``mensi-sim compare`` writes (``comparison.parquet``, one row
per scenario; see ``mensi_sim.analysis.comparison_table``) or the
output of ``cost_effectiveness``, which has the same cost-effectiveness columns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from mensi_sim.plotting.common import (
    GREY,
    OKABE_ITO,
    euro_formatter,
    figure_legend,
    fit_rows,
    fit_text,
    label_points,
    new_figure,
    outcome_axis,
)

CE_COLUMNS = (
    "scenario",
    "delta_cost",
    "delta_cost_ci_low",
    "delta_cost_ci_high",
    "delta_effect",
    "delta_effect_ci_low",
    "delta_effect_ci_high",
    "frontier",
    "mean_cost",
)
MAX_NAMED = 8  # schemes named beside their point up to this many; above it numbered, with a key
KEY_ROWS = 32  # rows of the key in one column

# (marker, colour, filled, legend text) per frontier status
_STATUS_STYLE = {
    "frontier": ("o", OKABE_ITO["blue"], True, "on the cost-effectiveness frontier"),
    "dominated": ("X", OKABE_ITO["vermillion"], True, "dominated (another costs less, does more)"),
    "extended": ("^", OKABE_ITO["orange"], False, "extendedly dominated (a mix does better)"),
    "same": ("s", GREY, False, "same as another scheme"),
    "baseline": ("D", OKABE_ITO["black"], True, "baseline"),
}


def _status(row: pd.Series, baseline: str | None) -> str:
    if row["scenario"] == baseline:
        return "baseline"
    text = str(row["frontier"])
    if text == "frontier":
        return "frontier"
    if text.startswith("dominated by"):
        return "dominated"
    if text.startswith("extendedly"):
        return "extended"
    return "same"


def _check(table: pd.DataFrame, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"comparison table lacks column(s): {', '.join(missing)}")
    if table.empty:
        raise ValueError("comparison table is empty: nothing to plot")


def _point_labels(t: pd.DataFrame, named: bool) -> tuple[list[str], list[float], list[float]]:
    """One label per distinct point: the scheme's name (or number), or the names
    (numbers) of all the schemes at the same place joined by commas."""
    x = t["delta_effect"].to_numpy(float)
    y = t["delta_cost"].to_numpy(float)
    keys = [(round(a, 9), round(b, 9)) for a, b in zip(x, y, strict=True)]
    groups: dict[tuple[float, float], list[str]] = {}
    for key, name, number in zip(
        keys, t["scenario"].astype(str), range(1, len(t) + 1), strict=True
    ):
        groups.setdefault(key, []).append(name if named else str(number))
    return [", ".join(v) for v in groups.values()], [k[0] for k in groups], [k[1] for k in groups]


def plot_cost_effectiveness(
    table: pd.DataFrame, *, figsize: tuple[float, float] | None = None
) -> Figure:
    """The cost-effectiveness plane: incremental cost against additional adopting schools.

    Each scheme is a point at its mean paired difference from the baseline (the
    origin), with 95% confidence intervals in both directions. The frontier joins
    the schemes no other scheme (or mix of two) beats, in order of cost; dominated
    and extendedly dominated schemes are marked. Dashed grey lines mark no
    difference; a scheme up and to the left costs more and achieves less. Every
    point is labelled: by name up to ``MAX_NAMED`` schemes, else by its number in
    the key beside the plane; schemes at the same place share one label.

    Args:
        table: ``comparison.parquet`` or ``cost_effectiveness(...)`` (columns scenario,
            delta_cost, delta_effect with ``_ci_low``/``_ci_high``, frontier, mean_cost;
            ``baseline`` names the baseline).
        figsize: Inches (default 11 x 6).

    Raises:
        ValueError: The table is empty or lacks a needed column.
    """
    _check(table, CE_COLUMNS)
    t = table.reset_index(drop=True)
    baseline = str(t["baseline"].iloc[0]) if "baseline" in t.columns else None
    t["status"] = [_status(r, baseline) for _, r in t.iterrows()]
    fig = new_figure(figsize or (11.0, 6.0))
    ax = fig.subplots()
    ax.axhline(0, color=GREY, lw=0.8, ls="--", zorder=0)
    ax.axvline(0, color=GREY, lw=0.8, ls="--", zorder=0)

    front = t[t["status"].isin(["frontier", "baseline"])]
    front = front[front["frontier"] == "frontier"].sort_values(["mean_cost", "delta_effect"])
    if len(front) > 1:
        ax.plot(
            front["delta_effect"],
            front["delta_cost"],
            color=OKABE_ITO["blue"],
            lw=1.5,
            zorder=1,
            label="cost-effectiveness frontier",
        )

    for status, (marker, colour, filled, text) in _STATUS_STYLE.items():
        part = t[t["status"] == status]
        if part.empty:
            continue
        x, y = part["delta_effect"].to_numpy(float), part["delta_cost"].to_numpy(float)
        xerr = np.vstack([x - part["delta_effect_ci_low"], part["delta_effect_ci_high"] - x])
        yerr = np.vstack([y - part["delta_cost_ci_low"], part["delta_cost_ci_high"] - y])
        ax.errorbar(
            x,
            y,
            xerr=np.nan_to_num(np.abs(xerr)),
            yerr=np.nan_to_num(np.abs(yerr)),
            fmt="none",
            ecolor=colour,
            elinewidth=0.8,
            alpha=0.6,
            zorder=2,
        )
        ax.scatter(
            x,
            y,
            marker=marker,
            s=70,
            zorder=3,
            label=text,
            facecolors=colour if filled else "white",
            edgecolors=colour,
            linewidths=1.5,
        )

    ax.set_xlabel("Additional adopting schools against the baseline (schools, mean and 95% CI)")
    ax.set_ylabel("Incremental cost against the baseline (EUR, mean and 95% CI)")
    title = "Cost-effectiveness plane"
    ax.set_title(f"{title} (baseline: {baseline})" if baseline else title)
    ax.margins(0.08)  # room for the outermost markers and their labels
    low, high = ax.get_ylim()
    ax.yaxis.set_major_locator(MaxNLocator(nbins=7))
    ax.yaxis.set_major_formatter(euro_formatter(max(abs(low), abs(high))))
    ax.grid(alpha=0.3)
    handles, names = ax.get_legend_handles_labels()
    figure_legend(
        fig, handles, names, loc="outside lower center", ncols=3, fontsize="small", frameon=False
    )
    named = len(t) <= MAX_NAMED
    if not named:
        key = [Line2D([], [], ls="", label=f"{i}  {n}") for i, n in enumerate(t["scenario"], 1)]
        figure_legend(
            fig,
            handles=key,
            loc="outside right upper",
            ncols=-(-len(key) // KEY_ROWS),
            fontsize="small",
            frameon=False,
            handlelength=0,
            handletextpad=0,
            title="Key",
            title_fontsize="small",
            alignment="left",
        )
    fit_text(fig)  # before the labels: a wrapped title makes the plane shorter
    labels, lx, ly = _point_labels(t, named)
    label_points(ax, lx, ly, labels)
    return fig


# (outcome, label) of the panels, each axis in the outcome's unit (outcome_axis)
PAIRED_OUTCOMES = (
    ("final_adoption_share", "Final adoption share"),
    ("capacity_gain", "Capacity gain"),
    ("final_equity_gap", "Final equity gap"),
    ("total_cost", "Total cost"),
)


def plot_paired_differences(
    table: pd.DataFrame, *, figsize: tuple[float, float] | None = None
) -> Figure:
    """Paired difference of each headline outcome from the baseline, with 95% CIs.

    One panel per outcome, one row per scheme; a filled marker means the
    interval excludes 0. Shares are in percentage points, costs in EUR. Reads the
    wide ``comparison.parquet`` columns ``<outcome>_difference``, ``_ci_low``,
    ``_ci_high``, ``_significant``.
    """
    present = [o for o in PAIRED_OUTCOMES if f"{o[0]}_difference" in table.columns]
    if not present:
        raise ValueError("comparison table has no <outcome>_difference column")
    baseline = str(table["baseline"].iloc[0]) if "baseline" in table.columns else None
    t = table[table["scenario"] != baseline] if baseline else table
    if t.empty:
        raise ValueError("comparison table has no scheme besides the baseline")
    names = list(t["scenario"].astype(str))
    fig = new_figure(figsize or (11.0, max(3.0, 1.4 + 0.32 * len(names))))
    axes = np.atleast_1d(fig.subplots(1, len(present), sharey=True))
    y = np.arange(len(names))[::-1]
    for ax, (outcome, label) in zip(axes, present, strict=True):
        d = t[f"{outcome}_difference"].to_numpy(float)
        lo = t[f"{outcome}_ci_low"].to_numpy(float)
        hi = t[f"{outcome}_ci_high"].to_numpy(float)
        sig = t.get(f"{outcome}_significant", pd.Series(False, index=t.index)).to_numpy(bool)
        ax.axvline(0, color=GREY, lw=0.8, ls="--")
        ax.errorbar(
            d,
            y,
            xerr=np.nan_to_num(np.abs(np.vstack([d - lo, hi - d]))),
            fmt="none",
            ecolor=OKABE_ITO["blue"],
            elinewidth=1.2,
        )
        ax.scatter(
            d,
            y,
            s=40,
            zorder=3,
            edgecolors=OKABE_ITO["blue"],
            facecolors=np.where(sig, OKABE_ITO["blue"], "white"),
        )
        _span(ax, np.concatenate([lo, hi, d, [0.0]]))
        largest = float(np.nanmax(np.abs(ax.get_xlim())))
        unit = outcome_axis(ax, outcome, largest, nbins=4)
        ax.set_xlabel(f"{label} ({unit})", fontsize="small")
        ax.grid(alpha=0.3, axis="x")
    axes[0].set_yticks(y, names)
    axes[0].set_ylim(-0.7, len(names) - 0.3)  # the first and last rows' markers inside
    handles = [
        Line2D([], [], marker="o", ls="", color=OKABE_ITO["blue"], label="95% CI excludes 0"),
        Line2D(
            [],
            [],
            marker="o",
            ls="",
            markerfacecolor="white",
            markeredgecolor=OKABE_ITO["blue"],
            label="95% CI includes 0",
        ),
    ]
    figure_legend(
        fig, handles=handles, loc="outside lower center", ncols=2, fontsize="small", frameon=False
    )
    fig.suptitle(f"Paired differences from the baseline ({baseline}), same seeds per replicate")
    return fit_rows(fit_text(fig), axes[0], len(names))  # rows too low: a taller figure


def _span(ax, values: np.ndarray) -> None:  # noqa: ANN001 - an Axes
    """x limits holding every value with 8% room on both sides (markers stay inside)."""
    v = values[np.isfinite(values)]
    low, high = (float(v.min()), float(v.max())) if v.size else (-1.0, 1.0)
    pad = 0.08 * (high - low) if high > low else (0.5 * abs(high) or 0.01)
    ax.set_xlim(low - pad, high + pad)
