"""The figure of an optimisation: adoption against spend per year, coloured by equity.

It reads the tables ``mensi_sim.analysis.optimise`` returns (``front``: the re-evaluated
designs and the shipped programmes on fresh seeds; ``candidates``: every design the search
tried, in sample) and draws them; it computes nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from mensi_sim.plotting.common import (
    GREY,
    OKABE_ITO,
    euro_formatter,
    label_points,
    new_figure,
    percent_axis,
)

ADOPTION = "final_adoption_share"
EQUITY = "final_equity_gap"
SPEND = "spend_per_year"
FRONT_LABEL = "front design (out of sample, 95% CI)"


def plot_optimisation(
    front: pd.DataFrame,
    candidates: pd.DataFrame | None = None,
    budget: float | None = None,
    *,
    budget_kind: str = "cash",
) -> Figure:
    """Adoption at the horizon (y) against spend per programme year (x).

    Front designs (out of sample, 95% CI bars) are coloured by their equity gap; the
    knee is a star and the budget-best design a ring; the shipped programmes are black
    diamonds with their names; the search's other candidates (in sample) are faint grey
    dots; the budget is a dashed line.
    """
    fig = new_figure((9.0, 5.5))
    ax = fig.add_subplot()
    if (
        candidates is not None
        and f"{ADOPTION}_mean" in candidates
        and f"{SPEND}_mean" in candidates
    ):
        ok = candidates[candidates["error"].eq("")] if "error" in candidates else candidates
        ax.scatter(
            ok[f"{SPEND}_mean"],
            ok[f"{ADOPTION}_mean"],
            s=10,
            color=GREY,
            alpha=0.35,
            linewidths=0,
            label="searched (in sample)",
            zorder=1,
        )
    designs = front[(front["kind"] == "design") & front["feasible"]]
    others = front[(front["kind"] == "design") & ~front["feasible"]]
    shipped = front[front["kind"] == "shipped"]
    for part in (designs, others):
        if part.empty:
            continue
        x, y = part[f"{SPEND}_mean"].to_numpy(float), part[f"{ADOPTION}_mean"].to_numpy(float)
        ax.errorbar(
            x,
            y,
            yerr=[y - part[f"{ADOPTION}_ci_low"], part[f"{ADOPTION}_ci_high"] - y],
            xerr=[x - part[f"{SPEND}_ci_low"], part[f"{SPEND}_ci_high"] - x],
            fmt="none",
            ecolor="#bbbbbb",
            elinewidth=0.8,
            zorder=2,
        )
    points = None
    if not designs.empty:
        equity = designs[f"{EQUITY}_mean"].to_numpy(float) if f"{EQUITY}_mean" in designs else None
        points = ax.scatter(
            designs[f"{SPEND}_mean"],
            designs[f"{ADOPTION}_mean"],
            c=equity if equity is not None else OKABE_ITO["blue"],
            cmap="viridis_r",
            s=46,
            edgecolors="#333333",
            linewidths=0.5,
            zorder=3,
        )
        if equity is not None:
            bar = fig.colorbar(points, ax=ax, pad=0.01)
            bar.set_label("Equity gap at the horizon (0-1 capacity; lower is fairer)")
        for flag, marker, size in (("knee", "*", 260), ("budget_best", "o", 220)):
            pick = designs[designs[flag]]
            if not pick.empty:
                ax.scatter(
                    pick[f"{SPEND}_mean"],
                    pick[f"{ADOPTION}_mean"],
                    marker=marker,
                    s=size,
                    facecolors="none",
                    edgecolors=OKABE_ITO["vermillion"],
                    linewidths=1.6,
                    zorder=4,
                )
    if not others.empty:
        ax.scatter(
            others[f"{SPEND}_mean"], others[f"{ADOPTION}_mean"], marker="x", color=GREY, zorder=3
        )
    ax.scatter(
        shipped[f"{SPEND}_mean"],
        shipped[f"{ADOPTION}_mean"],
        marker="D",
        s=40,
        color=OKABE_ITO["black"],
        zorder=4,
    )
    if budget is not None:
        ax.axvline(budget, color=OKABE_ITO["vermillion"], linestyle="--", linewidth=1, zorder=0)
    spend = "Cash" if budget_kind == "cash" else "Cash + staff time"
    ax.set_xlabel(f"{spend} per programme year (EUR; designs and programmes on fresh seeds)")
    ax.set_ylabel("Schools adopted at the horizon (% of all)")
    percent_axis(ax, "y")
    largest = np.nanmax(front[f"{SPEND}_mean"].to_numpy(float)) if len(front) else 1.0
    ax.xaxis.set_major_formatter(euro_formatter(largest))
    ax.grid(alpha=0.3)
    ring = {"linestyle": "", "markerfacecolor": "none", "markeredgecolor": OKABE_ITO["vermillion"]}
    handles = [Line2D([], [], marker="o", linestyle="", color=OKABE_ITO["blue"], label=FRONT_LABEL)]
    if designs["knee"].any():
        handles.append(Line2D([], [], marker="*", markersize=12, label="knee", **ring))
    if designs["budget_best"].any():
        handles.append(
            Line2D([], [], marker="o", markersize=11, label="best within the budget", **ring)
        )
    handles.append(
        Line2D([], [], marker="D", linestyle="", color=OKABE_ITO["black"], label="shipped")
    )
    grey = {"linestyle": "", "color": GREY}
    if candidates is not None:
        handles.append(Line2D([], [], marker="o", alpha=0.5, label="searched (in sample)", **grey))
    if not others.empty:
        handles.append(Line2D([], [], marker="x", label="over the limits out of sample", **grey))
    if budget is not None:
        handles.append(
            Line2D([], [], color=OKABE_ITO["vermillion"], linestyle="--", label="budget")
        )
    ax.legend(handles=handles, loc="lower right", fontsize=8, framealpha=0.9)
    label_points(
        ax,
        shipped[f"{SPEND}_mean"].to_numpy(float),
        shipped[f"{ADOPTION}_mean"].to_numpy(float),
        list(shipped["scenario"]),
    )
    return fig
