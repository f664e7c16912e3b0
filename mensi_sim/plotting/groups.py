"""Outcomes by country (or region, or band) as small multiples: one panel per group.

Every panel has the same scale, so a country's panel can be read beside another's; each
holds one row per scenario. ``plot_group_outcome`` shows each scenario's mean with its
95% interval over replicates (``Results.group_summary``); ``plot_group_differences`` the
paired difference from the baseline within each group (``Results.group_comparison``),
filled where the interval excludes 0.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from mensi_sim.outcomes import format_of
from mensi_sim.plotting.common import (
    GREY,
    MAX_SCENARIOS,
    OKABE_ITO,
    figure_legend,
    fit_text,
    mean_and_ci,
    new_figure,
    outcome_axis,
    percent_axis,
)

MAX_PANELS = 12  # groups shown in one figure (the largest, by schools)
COLUMNS = 3


def _panels(n: int) -> tuple[int, int]:
    cols = min(COLUMNS, n)
    return math.ceil(n / cols), cols


def _largest_groups(rows: pd.DataFrame) -> tuple[list[str], str]:
    """The groups to show (all, or the MAX_PANELS with most schools) and a note."""
    sizes = rows.groupby("group", sort=False)["n_schools"].first()
    names = list(sizes.index.astype(str))
    if len(names) <= MAX_PANELS:
        return names, ""
    keep = set(sizes.sort_values(ascending=False, kind="mergesort").index[:MAX_PANELS])
    return [g for g in names if g in keep], f"the {MAX_PANELS} largest of {len(names)}"


def _grid(n_groups: int, n_rows: int, figsize: tuple[float, float] | None):  # noqa: ANN202
    rows, cols = _panels(n_groups)
    height = max(2.2, 0.9 + 0.26 * n_rows) * rows + 0.8
    fig = new_figure(figsize or (11.0, height))
    axes = np.atleast_1d(fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False))
    flat = axes.ravel()
    for ax in flat[n_groups:]:
        ax.set_visible(False)
    return fig, axes, flat[:n_groups]


def _bottom_panels(panels: np.ndarray) -> list:
    """The panels with no visible panel below them: they carry the x tick labels."""
    cols = min(COLUMNS, len(panels))
    bottom = [ax for i, ax in enumerate(panels) if i + cols >= len(panels)]
    for ax in bottom:
        ax.xaxis.set_tick_params(labelbottom=True)
    return bottom


def _format_axis(ax, outcome: str, values: np.ndarray, *, difference: bool) -> str:  # noqa: ANN001
    v = values[np.isfinite(values)]
    low, high = (float(v.min()), float(v.max())) if v.size else (0.0, 1.0)
    if difference:
        low, high = min(low, 0.0), max(high, 0.0)
    pad = 0.08 * (high - low) if high > low else (0.5 * abs(high) or 0.01)
    ax.set_xlim(low - pad, high + pad)
    if not difference and format_of(outcome).kind == "pct":
        percent_axis(ax, "x")
        return "share of schools"
    return outcome_axis(ax, outcome, float(np.nanmax(np.abs(ax.get_xlim()))), nbins=4)


def plot_group_outcome(
    group_summary: pd.DataFrame,
    by: str = "country",
    outcome: str = "final_adoption_share",
    *,
    scenarios: list[str] | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Small multiples of an outcome by group: each scenario's mean and 95% interval.

    Args:
        group_summary: ``Results.group_summary``.
        by: ``"country"``, ``"region"`` or ``"disadvantage"``.
        outcome: A column of the group summary.
        scenarios: The scenarios to show (default: the first ``MAX_SCENARIOS``).
    """
    rows = group_summary[group_summary["by"] == by]
    if rows.empty:
        raise ValueError(f"no outcomes by {by}")
    names = scenarios or list(dict.fromkeys(rows["scenario"].astype(str)))[:MAX_SCENARIOS]
    rows = rows[rows["scenario"].astype(str).isin(names)]
    groups, note = _largest_groups(rows)
    stats = mean_and_ci(rows, ["group", "scenario"], outcome)
    fig, axes, panels = _grid(len(groups), len(names), figsize)
    y = np.arange(len(names))[::-1]
    for ax, group in zip(panels, groups, strict=True):
        part = stats[stats["group"].astype(str) == group].set_index("scenario").reindex(names)
        mean, lo, hi = (part[c].to_numpy(float) for c in ("mean", "low", "high"))
        ax.errorbar(
            mean, y, xerr=np.nan_to_num(np.abs(np.vstack([mean - lo, hi - mean]))),
            fmt="o", color=OKABE_ITO["blue"], ms=5, elinewidth=1.2,
        )  # fmt: skip
        n = int(rows.loc[rows["group"].astype(str) == group, "n_schools"].iloc[0])
        ax.set_title(f"{group} ({n:,} schools)", fontsize="small")
        ax.grid(alpha=0.3, axis="x")
    values = np.concatenate([stats["low"], stats["high"]]).astype(float)
    unit = _format_axis(panels[0], outcome, values, difference=False)
    for ax in _bottom_panels(panels):
        ax.set_xlabel(f"{format_of(outcome).label} ({unit})", fontsize="small")
    for ax in axes[:, 0]:
        ax.set_yticks(y, names)
    panels[0].set_ylim(-0.7, len(names) - 0.3)
    shown = f"; {note}" if note else ""
    fig.suptitle(f"{format_of(outcome).label} by {by}: mean and 95% interval{shown}")
    return fit_text(fig)


def plot_group_differences(
    group_comparison: pd.DataFrame,
    outcome: str = "final_adoption_share",
    *,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Small multiples of the paired difference from the baseline within each group.

    Reads ``<outcome>_difference``, ``_ci_low``, ``_ci_high`` and ``_significant`` of a
    ``group_comparison`` table; shares in percentage points, costs in EUR. Shows at most
    ``MAX_SCENARIOS`` schemes (the first).
    """
    if f"{outcome}_difference" not in group_comparison.columns:
        raise ValueError(f"group comparison has no {outcome}_difference column")
    baseline = str(group_comparison["baseline"].iloc[0])
    by = str(group_comparison["by"].iloc[0])
    t = group_comparison[group_comparison["scenario"] != baseline]
    if t.empty:
        raise ValueError("group comparison has no scheme besides the baseline")
    names = list(dict.fromkeys(t["scenario"].astype(str)))[:MAX_SCENARIOS]
    t = t[t["scenario"].astype(str).isin(names)]
    sizes = t.assign(n_schools=0)
    groups, note = _largest_groups(sizes)
    fig, axes, panels = _grid(len(groups), len(names), figsize)
    y = np.arange(len(names))[::-1]
    for ax, group in zip(panels, groups, strict=True):
        part = t[t["group"].astype(str) == group].set_index("scenario").reindex(names)
        d, lo, hi = (part[f"{outcome}_{c}"].to_numpy(float) for c in ("difference", "ci_low",
                                                                      "ci_high"))  # fmt: skip
        sig = part[f"{outcome}_significant"].fillna(False).to_numpy(bool)
        ax.axvline(0, color=GREY, lw=0.8, ls="--")
        ax.errorbar(d, y, xerr=np.nan_to_num(np.abs(np.vstack([d - lo, hi - d]))), fmt="none",
                    ecolor=OKABE_ITO["blue"], elinewidth=1.2)  # fmt: skip
        ax.scatter(d, y, s=36, zorder=3, edgecolors=OKABE_ITO["blue"],
                   facecolors=np.where(sig, OKABE_ITO["blue"], "white"))  # fmt: skip
        ax.set_title(group, fontsize="small")
        ax.grid(alpha=0.3, axis="x")
    columns = [f"{outcome}_{c}" for c in ("difference", "ci_low", "ci_high")]
    unit = _format_axis(panels[0], outcome, t[columns].to_numpy(float).ravel(), difference=True)
    for ax in _bottom_panels(panels):
        ax.set_xlabel(f"Δ {format_of(outcome).label} ({unit})", fontsize="small")
    for ax in axes[:, 0]:
        ax.set_yticks(y, names)
    panels[0].set_ylim(-0.7, len(names) - 0.3)
    handles = [
        Line2D([], [], marker="o", ls="", color=OKABE_ITO["blue"], label="95% CI excludes 0"),
        Line2D([], [], marker="o", ls="", markerfacecolor="white",
               markeredgecolor=OKABE_ITO["blue"], label="95% CI includes 0"),
    ]  # fmt: skip
    figure_legend(fig, handles=handles, loc="outside lower center", ncols=2, fontsize="small",
               frameon=False)  # fmt: skip
    shown = f"; {note}" if note else ""
    fig.suptitle(f"Difference from {baseline} within each {by}, same seeds per replicate{shown}")
    return fit_text(fig)
