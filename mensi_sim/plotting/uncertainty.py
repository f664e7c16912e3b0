"""Figures of calibration and of a probabilistic sensitivity analysis.

- ``plot_marginals``: each parameter's prior density and posterior (weighted histogram),
  its 90% credible interval, and the truth of a synthetic calibration;
- ``plot_predictive``: each target's posterior-predictive distribution against the
  observed value;
- ``plot_ceac``: the acceptability curves of a PSA with the acceptability frontier, and
  the EVPPI of each parameter group.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from mensi_sim.plotting.common import (
    GREY,
    OKABE_ITO,
    colour_of,
    euro_formatter,
    fit_text,
    new_figure,
)


def _grid(n: int) -> tuple[int, int]:
    cols = min(3, max(1, n))
    return math.ceil(n / cols), cols


def plot_marginals(posterior: pd.DataFrame, marginals: pd.DataFrame, priors: dict) -> Figure:
    """Prior density (line) and posterior (weighted histogram) of every parameter."""
    names = list(marginals["parameter"])
    rows, cols = _grid(len(names))
    fig = new_figure((3.6 * cols, 2.8 * rows))
    w = posterior["weight"].to_numpy(float)
    for i, name in enumerate(names):
        ax = fig.add_subplot(rows, cols, i + 1)
        m = marginals.set_index("parameter").loc[name]
        x = posterior[name].to_numpy(float)
        prior = priors[name].frozen()
        lo = min(float(prior.ppf(0.005)), float(x.min()))
        hi = max(float(prior.ppf(0.995)), float(x.max()))
        ax.hist(
            x,
            bins=25,
            range=(lo, hi),
            weights=w,
            density=True,
            color=OKABE_ITO["sky_blue"],
            alpha=0.7,
            label="posterior",
        )
        grid = np.linspace(lo, hi, 200)
        ax.plot(grid, prior.pdf(grid), color=OKABE_ITO["black"], lw=1.2, label="prior")
        ax.axvspan(
            m["low"],
            m["high"],
            color=OKABE_ITO["blue"],
            alpha=0.12,
            label=f"{m['level']:.0%} credible interval",
        )
        if "truth" in m and m["truth"] == m["truth"]:
            ax.axvline(m["truth"], color=OKABE_ITO["vermillion"], lw=1.5, ls="--", label="truth")
        ax.set_title(name, fontsize=9)
        ax.set_yticks([])
        if i == 0:
            ax.legend(fontsize=7, frameon=False)
    fig.suptitle("Posterior against prior (sd ratio below 1: the targets informed it)", fontsize=10)
    return fit_text(fig)


def plot_predictive(predictive: pd.DataFrame, replicated: pd.DataFrame) -> Figure:
    """Each target's posterior-predictive distribution (with the data's noise) and the
    observed value."""
    targets = list(predictive["target"])
    rows, cols = _grid(len(targets))
    fig = new_figure((3.6 * cols, 2.6 * rows))
    for i, name in enumerate(targets):
        ax = fig.add_subplot(rows, cols, i + 1)
        r = predictive.set_index("target").loc[name]
        y = replicated.loc[replicated["target"] == name, "value"].to_numpy(float)
        if y.size:
            ax.hist(
                y, bins=20, color=OKABE_ITO["sky_blue"], alpha=0.8, label="posterior predictive"
            )
        ax.axvspan(r["low"], r["high"], color=OKABE_ITO["blue"], alpha=0.12, label="90% interval")
        ax.axvline(r["observed"], color=OKABE_ITO["vermillion"], lw=2, label="observed")
        ax.set_title(f"{name} (p = {r['p_value']:.2f})", fontsize=9)
        ax.set_yticks([])
        if i == 0:
            ax.legend(fontsize=7, frameon=False)
    fig.suptitle("Posterior-predictive check of every target", fontsize=10)
    return fit_text(fig)


def plot_ceac(ceac: pd.DataFrame, evppi: pd.DataFrame | None = None) -> Figure:
    """Acceptability curves (P(best) by willingness to pay), the acceptability frontier
    (thick: the option with the largest expected net benefit), and EVPPI by group."""
    two = evppi is not None and not evppi.empty
    fig = new_figure((10, 4) if two else (6.5, 4))
    ax = fig.add_subplot(1, 2 if two else 1, 1)
    options = list(dict.fromkeys(ceac["option"]))
    for i, o in enumerate(options):
        part = ceac[ceac["option"] == o].sort_values("wtp")
        ax.plot(part["wtp"], part["p_best"], color=colour_of(i), lw=1.2, label=o)
        front = part["p_best"].where(part["on_frontier"])
        ax.plot(part["wtp"], front, color=colour_of(i), lw=4, alpha=0.5)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("willingness to pay per additional adopting school")
    ax.set_ylabel("probability best (share of draws)")
    ax.xaxis.set_major_formatter(euro_formatter(float(ceac["wtp"].max())))
    ax.axhline(0.95, color=GREY, lw=0.8, ls=":")
    ax.legend(fontsize=8, frameon=False)
    ax.set_title("Acceptability curves (thick: acceptability frontier)", fontsize=10)
    if two:
        bx = fig.add_subplot(1, 2, 2)
        vi = evppi.sort_values("evppi")
        bx.barh(vi["group"], vi["evppi"], color=OKABE_ITO["blue"])
        bx.xaxis.set_major_formatter(euro_formatter(float(vi["evppi"].max() or 1.0)))
        bx.set_xlabel(f"EVPPI per run at {float(vi['wtp'].iloc[0]):,.0f} EUR per school")
        bx.set_title("Value of resolving each uncertainty", fontsize=10)
    return fit_text(fig)
