"""Global sensitivity charts: Morris screening (mu*, sigma) and Sobol indices (S1, ST).

Both read the long table ``mensi-sim sensitivity`` writes (``sensitivity.parquet``:
method, outcome, parameter, index, value, conf, noise_share, noise_warning; see
``mensi_sim.analysis.long_table``). Error bars are the half-widths of
SALib's 95% bootstrap confidence intervals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from mensi_sim.plotting.common import (
    GREY,
    OKABE_ITO,
    fit_text,
    label_points,
    new_figure,
    outcome_axis,
)

SENSITIVITY_COLUMNS = ("method", "outcome", "parameter", "index", "value", "conf")


def _indices(table: pd.DataFrame, method: str, outcome: str) -> tuple[pd.DataFrame, str]:
    """Wide value and conf columns per parameter, and a note on replicate noise."""
    missing = [c for c in SENSITIVITY_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"sensitivity table lacks column(s): {', '.join(missing)}")
    part = table[(table["method"] == method) & (table["outcome"] == outcome)]
    if part.empty:
        raise ValueError(f"no {method} indices of {outcome!r} in the sensitivity table")
    order = list(dict.fromkeys(part["parameter"]))
    value = part.pivot(index="parameter", columns="index", values="value").reindex(order)
    conf = part.pivot(index="parameter", columns="index", values="conf").reindex(order)
    wide = value.join(conf.add_suffix("_conf"))
    note = ""
    if "noise_share" in part.columns:
        share = float(part["noise_share"].iloc[0])
        if np.isfinite(share):
            note = f"replicate noise {100 * share:.0f}% of the variance of the point means"
            if bool(part.get("noise_warning", pd.Series([False])).iloc[0]):
                note += " (above 20%: unreliable, add replications)"
        else:
            note = "replicate noise not estimable (one replication)"
    return wide, note


def _title(fig: Figure, text: str, note: str) -> None:
    fig.suptitle(f"{text}\n{note}" if note else text, fontsize="medium")


def plot_morris(
    table: pd.DataFrame, outcome: str, *, figsize: tuple[float, float] | None = None
) -> Figure:
    """Morris screening of one outcome: mu* ranking (left) and the mu*-sigma plane (right).

    mu* is the mean absolute elementary effect, in the outcome's unit per full
    range of the parameter (percentage points for a share, EUR for a cost): how
    much the parameter matters. sigma is their spread: large sigma against mu*
    (above the dashed line sigma = mu*) means a non-linear effect or interactions
    with other parameters. Every point of the plane is labelled with its parameter.

    Raises:
        ValueError: The table lacks columns or has no Morris indices of ``outcome``.
    """
    wide, note = _indices(table, "morris", outcome)
    wide = wide.sort_values("mu_star", ascending=True)
    k = len(wide)
    fig = new_figure(figsize or (11.0, max(4.5, 1.6 + 0.38 * k)))
    ax_bar, ax_plane = fig.subplots(1, 2)
    y = np.arange(k)
    conf = np.nan_to_num(wide.get("mu_star_conf", pd.Series(0.0, index=wide.index)).to_numpy())
    ax_bar.barh(
        y,
        wide["mu_star"],
        xerr=conf,
        color=OKABE_ITO["blue"],
        alpha=0.85,
        error_kw={"ecolor": "#333333", "elinewidth": 1, "capsize": 3},
    )
    ax_bar.set_yticks(y, wide.index)
    ax_bar.set_ylim(-0.6, k - 0.4)
    mu_star, sigma = wide["mu_star"].to_numpy(float), wide["sigma"].to_numpy(float)
    top = float(np.nanmax(np.concatenate([mu_star + conf, sigma, [1e-12]]))) * 1.1
    ax_bar.set_xlim(0, top)
    unit = outcome_axis(ax_bar, outcome, top)
    ax_bar.set_xlabel(f"mu* of {outcome} ({unit}, mean and 95% CI)")
    ax_bar.set_title("Importance: mean absolute elementary effect")
    ax_bar.grid(alpha=0.3, axis="x")

    ax_plane.scatter(mu_star, sigma, s=50, color=OKABE_ITO["vermillion"], zorder=3)
    ax_plane.plot([0, top], [0, top], color=GREY, ls="--", lw=1, label="sigma = mu*")
    pad = 0.04 * top  # markers at 0 stay whole inside the frame
    ax_plane.set_xlim(-pad, top)
    ax_plane.set_ylim(-pad, top)
    outcome_axis(ax_plane, outcome, top, "x")
    outcome_axis(ax_plane, outcome, top, "y")
    ax_plane.set_xlabel(f"mu* of {outcome} ({unit})")
    ax_plane.set_ylabel(f"sigma of {outcome} ({unit})")
    ax_plane.set_title("Non-linearity and interactions")
    ax_plane.grid(alpha=0.3)
    ax_plane.legend(loc="upper left", fontsize="small", frameon=False)
    _title(fig, f"Morris screening: {outcome}", note)
    fit_text(fig)  # before the labels: a wrapped title makes the plane shorter
    label_points(ax_plane, mu_star, sigma, [str(n) for n in wide.index])
    return fig


def plot_sobol(
    table: pd.DataFrame, outcome: str, *, figsize: tuple[float, float] | None = None
) -> Figure:
    """Sobol indices of one outcome: first-order S1 and total-order ST with 95% CIs.

    S1 is the share of the outcome's variance due to the parameter alone; ST adds
    its interactions. ST much above S1 means the parameter acts through
    interactions; ST near 0 means the parameter can be fixed anywhere in its range.

    Raises:
        ValueError: The table lacks columns or has no Sobol indices of ``outcome``.
    """
    wide, note = _indices(table, "sobol", outcome)
    wide = wide.sort_values("ST", ascending=True)
    k = len(wide)
    fig = new_figure(figsize or (11.0, max(4.5, 1.6 + 0.45 * k)))
    ax = fig.subplots()
    y = np.arange(k)
    h = 0.38
    for j, (col, colour, label) in enumerate(
        (
            ("S1", OKABE_ITO["sky_blue"], "first order S1 (alone)"),
            ("ST", OKABE_ITO["blue"], "total order ST (with interactions)"),
        )
    ):
        err = np.nan_to_num(wide.get(f"{col}_conf", pd.Series(0.0, index=wide.index)).to_numpy())
        ax.barh(
            y + (j - 0.5) * h,
            wide[col],
            height=h,
            xerr=err,
            color=colour,
            label=label,
            error_kw={"ecolor": "#333333", "elinewidth": 1, "capsize": 2},
        )
    ax.set_yticks(y, wide.index)
    ax.axvline(0, color=GREY, lw=0.8)
    ax.set_xlabel(f"Sobol index of {outcome} (share of its variance, mean and 95% CI)")
    ax.grid(alpha=0.3, axis="x")
    ax.legend(loc="lower right", fontsize="small", frameon=False)
    _title(fig, f"Sobol indices: {outcome}", note)
    return fit_text(fig)
