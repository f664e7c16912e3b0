"""Figures of simulation results (the only package that imports matplotlib).

Figures are built as ``matplotlib.figure.Figure`` objects drawn by the Agg
canvas, never through ``pyplot``, so importing this package changes no global
state (no backend switch, no open-figure registry). Colours come from the
Okabe–Ito palette, which stays distinguishable under the common forms of
colour blindness; every axis is labelled with its unit.

Modules: ``common`` (palette, sizes, saving), ``timeseries`` (curves over
weeks), ``comparison`` (cost-effectiveness plane, paired differences),
``sensitivity`` (Morris, Sobol), ``network`` (pictures of a run's network,
re-created through ``Results.model``), ``live`` (the app's figures, redrawn week by
week by blitting), ``collect`` (which figures fit a ``Results``; writing them).
Figures read ``Results`` and the tables of ``mensi_sim.analysis``; they never compute
an analysis themselves.
"""

from mensi_sim.plotting.collect import (
    FigureSpec,
    plan_figures,
    write_basic_plots,
    write_plots,
)
from mensi_sim.plotting.common import (
    COST_COLOURS,
    COST_LABELS,
    DPI,
    FIGSIZE,
    OKABE_ITO,
    SCENARIO_COLOURS,
    figure_bytes,
    mean_and_ci,
    save_figure,
)
from mensi_sim.plotting.comparison import plot_cost_effectiveness, plot_paired_differences
from mensi_sim.plotting.live import LiveCharts, LiveNetwork, plot_live_run
from mensi_sim.plotting.network import (
    NetworkSnapshot,
    draw_network,
    plot_network,
    plot_network_strip,
    replay_snapshots,
    snapshot,
    tie_sample,
)
from mensi_sim.plotting.sensitivity import plot_morris, plot_sobol
from mensi_sim.plotting.timeseries import (
    plot_adoption_and_cost,
    plot_adoption_curves,
    plot_capacity_equity,
    plot_cost_over_time,
)

__all__ = [
    "COST_COLOURS",
    "COST_LABELS",
    "DPI",
    "FIGSIZE",
    "OKABE_ITO",
    "SCENARIO_COLOURS",
    "FigureSpec",
    "LiveCharts",
    "LiveNetwork",
    "NetworkSnapshot",
    "draw_network",
    "figure_bytes",
    "mean_and_ci",
    "plan_figures",
    "plot_adoption_and_cost",
    "plot_adoption_curves",
    "plot_capacity_equity",
    "plot_cost_effectiveness",
    "plot_cost_over_time",
    "plot_live_run",
    "plot_morris",
    "plot_network",
    "plot_network_strip",
    "plot_paired_differences",
    "plot_sobol",
    "replay_snapshots",
    "save_figure",
    "snapshot",
    "tie_sample",
    "write_basic_plots",
    "write_plots",
]
