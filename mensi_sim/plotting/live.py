"""Figures of one run that grow week by week (the interactive app), redrawn in milliseconds.

A Step of the app must be quick (under 0.3 s at 120 schools), and a matplotlib figure
drawn from scratch takes several times that: the layout, the ticks and the text cost
most. ``LiveCharts`` and ``LiveNetwork`` therefore keep one figure each and redraw only
what changes, with matplotlib's blitting: the frame, ticks, labels, legends and (for the
network) the ties are drawn once into a background; each week the background is copied
back and only the moving parts are drawn over it (the curves and the cost areas; the
schools and the title). The whole figure is drawn again only when a curve leaves its
axis range (the range then grows with room to spare, so that happens a few times a
run) or the ties change. The PNG is encoded with light compression (fast, a little
larger), which is what a page that updates every week needs.

Axis ranges follow the data: adoption, capacity and the equity gap each get their own
range around their values (at least 2 percentage points or 0.02 of capacity), the
week axis spans the run, and cost starts at 0.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from PIL import Image

from mensi_sim.codes import COST_CATEGORIES
from mensi_sim.plotting.common import (
    COST_COLOURS,
    COST_LABELS,
    colour_of,
    euro_formatter,
    fit_text,
    new_figure,
    percent_axis,
    week_axis,
)

COST_COLUMNS = tuple(f"cost_{c}" for c in COST_CATEGORIES)
LIVE_FIGSIZE = (7.6, 5.6)  # inches: the 2 x 2 charts
LIVE_NETWORK_FIGSIZE = (6.0, 6.2)
HEADROOM = 0.25  # share of the data's span added above and below when a range grows
NEEDED = ("step", "adoption_share", "mean_capacity", "equity_gap", *COST_COLUMNS)


def png_bytes(fig: Figure) -> bytes:
    """The figure's canvas as PNG (drawn already), quickly compressed."""
    canvas = fig.canvas
    width, height = canvas.get_width_height(physical=True)
    rgba = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buf = io.BytesIO()
    rgba.convert("RGB").save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def data_range(
    low: float,
    high: float,
    *,
    min_span: float,
    floor: float | None = None,
    ceil: float | None = None,
) -> tuple[float, float]:
    """An axis range holding [low, high] with ``HEADROOM`` on each side, at least
    ``min_span`` wide, rounded out to a tenth of the span, clipped to [floor, ceil]."""
    if not (np.isfinite(low) and np.isfinite(high)):
        low, high = 0.0, 1.0
    span = max(high - low, min_span)
    mid = (low + high) / 2
    low, high = mid - span / 2 - HEADROOM * span, mid + span / 2 + HEADROOM * span
    step = 10 ** np.floor(np.log10(span / 2))
    low, high = np.floor(low / step) * step, np.ceil(high / step) * step
    if floor is not None and low < floor:
        high, low = high + (floor - low), floor
    if ceil is not None and high > ceil:
        low, high = max(low - (high - ceil), floor if floor is not None else -np.inf), ceil
    return float(low), float(high)


def _inside(limits: tuple[float, float], low: float, high: float) -> bool:
    return limits[0] <= low and high <= limits[1]


class _Blitted:
    """A figure whose static parts are drawn once; ``animated`` artists are drawn each time."""

    def __init__(self, fig: Figure) -> None:
        self.fig = fig
        self.background: Any = None
        self.animated: list[Artist] = []

    def full_draw(self) -> None:
        """Lay out and draw everything static, keep it as the background."""
        self.fig.set_layout_engine("constrained")
        self.fig.canvas.draw()
        self.fig.set_layout_engine("none")  # the layout stays as it is until the next full draw
        self.background = self.fig.canvas.copy_from_bbox(self.fig.bbox)

    def blit(self) -> bytes:
        """The background with the animated artists over it, as PNG."""
        canvas = self.fig.canvas
        canvas.restore_region(self.background)
        renderer = canvas.get_renderer()
        for artist in self.animated:
            if artist.get_visible():
                artist.draw(renderer)
        return png_bytes(self.fig)


class LiveCharts(_Blitted):
    """Adoption, capacity, equity gap and cost of one run, 2 x 2, updated each week.

    Args:
        steps: Weeks the run will last (the week axis spans them, so the curves grow).
        figsize: Inches (default ``LIVE_FIGSIZE``).
    """

    def __init__(self, steps: int, figsize: tuple[float, float] | None = None) -> None:
        super().__init__(new_figure(figsize or LIVE_FIGSIZE))
        self.steps = max(int(steps), 1)
        axes = self.fig.subplots(2, 2, sharex=True)
        (self.ax_adopt, self.ax_cap), (self.ax_gap, self.ax_cost) = axes
        small = {"fontsize": "small"}
        self.line_all = self.ax_adopt.plot([], [], color=colour_of(0), lw=2, label="all schools")[0]
        self.line_members = self.ax_adopt.plot(
            [], [], color=colour_of(1), lw=1.5, label="network members"
        )[0]
        self.line_outside = self.ax_adopt.plot(
            [], [], color=colour_of(2), lw=1.5, ls="--", label="outside the network"
        )[0]
        self.line_cap = self.ax_cap.plot([], [], color=colour_of(0), lw=2)[0]
        self.line_gap = self.ax_gap.plot([], [], color=colour_of(1), lw=2)[0]
        self.ax_gap.axhline(0, color="#444444", lw=0.7)
        self.ax_adopt.set_title("Adoption (% of schools)", **small)
        self.ax_cap.set_title("Mean capacity (0-1 scale)", **small)
        self.ax_gap.set_title("Equity gap (other - disadvantaged)", **small)
        self.ax_cost.set_title("Cumulative cost (EUR)", **small)
        percent_axis(self.ax_adopt)
        for ax in axes.ravel():
            ax.set_xlim(0, self.steps)
            week_axis(ax)
            ax.grid(alpha=0.3)
            ax.tick_params(labelsize="small")
        for ax in (self.ax_gap, self.ax_cost):
            ax.set_xlabel("Week", **small)
        # the cost legend beside its panel, never over the areas
        handles = [
            self.ax_cost.fill_between([], [], color=COST_COLOURS[c], label=COST_LABELS[c])
            for c in reversed(COST_CATEGORIES)
        ]
        self.ax_cost.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.02, 1.0),
            fontsize="small",
            frameon=False,
            borderaxespad=0,
        )
        for line in (self.line_all, self.line_members, self.line_outside, self.line_cap):
            line.set_animated(True)
        self.line_gap.set_animated(True)
        self.areas: list[Artist] = []
        self.limits: dict[str, tuple[float, float]] = {}

    def _ranges(self, t: pd.DataFrame) -> dict[str, tuple[float, float]]:
        lines = (self.line_all, self.line_members, self.line_outside)
        columns = ["adoption_share", "adoption_share_members", "adoption_share_outside"]
        shown = [c for c, line in zip(columns, lines, strict=True) if line.get_visible()]
        values = t[shown].to_numpy(float)
        values = values[np.isfinite(values)]
        cap = t["mean_capacity"].to_numpy(float)
        gap = np.r_[t["equity_gap"].to_numpy(float), 0.0]
        total = (
            float(t["cost_total"].max())
            if "cost_total" in t
            else float(t[list(COST_COLUMNS)].sum(axis=1).max())
        )
        return {
            "adopt": (float(values.min()), float(values.max())),
            "cap": (float(cap.min()), float(cap.max())),
            "gap": (float(gap.min()), float(gap.max())),
            "cost": (0.0, total),
        }

    def update(self, timeseries: pd.DataFrame) -> bytes:
        """Draw the run so far (``model.timeseries()``) and return the PNG."""
        missing = [c for c in NEEDED if c not in timeseries.columns]
        if missing:
            raise ValueError(f"timeseries lacks column(s): {', '.join(missing)}")
        t = timeseries
        week = t["step"].to_numpy(float)
        # members and outsiders are drawn when they differ from all schools
        members = float(t["members"].max()) > 0 if "members" in t else False
        split = members and not np.allclose(t["adoption_share_members"], t["adoption_share"])
        visible = (True, split, split)
        self.line_all.set_data(week, t["adoption_share"])
        self.line_members.set_data(week, t["adoption_share_members"])
        self.line_outside.set_data(week, t["adoption_share_outside"])
        lines = (self.line_all, self.line_members, self.line_outside)
        changed = tuple(line.get_visible() for line in lines) != visible
        for line, shown in zip(lines, visible, strict=True):
            line.set_visible(shown)
        if changed or self.background is None:
            self.ax_adopt.legend(
                handles=[line for line in lines if line.get_visible()],
                loc="upper left",
                fontsize="small",
                frameon=False,
            )
        self.line_cap.set_data(week, t["mean_capacity"])
        self.line_gap.set_data(week, t["equity_gap"])
        for area in self.areas:
            area.remove()
        stacks = [t[c].to_numpy(float) for c in COST_COLUMNS]
        self.areas = self.ax_cost.stackplot(
            week, stacks, colors=[COST_COLOURS[c] for c in COST_CATEGORIES], alpha=0.9
        )
        for area in self.areas:
            area.set_animated(True)
        self.animated = [
            *self.areas,
            self.line_all,
            self.line_members,
            self.line_outside,
            self.line_cap,
            self.line_gap,
        ]
        ranges = self._ranges(t)
        redraw = self.background is None or changed
        for key, (low, high) in ranges.items():
            if key not in self.limits or not _inside(self.limits[key], low, high):
                self.limits[key] = self._range(key, low, high)
                redraw = True
        if redraw:
            self.ax_adopt.set_ylim(*self.limits["adopt"])
            self.ax_cap.set_ylim(*self.limits["cap"])
            self.ax_gap.set_ylim(*self.limits["gap"])
            self.ax_cost.set_ylim(*self.limits["cost"])
            self.ax_cost.yaxis.set_major_formatter(euro_formatter(self.limits["cost"][1]))
            self.full_draw()
        return self.blit()

    @staticmethod
    def _range(key: str, low: float, high: float) -> tuple[float, float]:
        if key == "cost":
            return 0.0, max(1000.0, 2.0 * high)  # cost only grows: double the range
        if key == "adopt":
            return data_range(low, high, min_span=0.02, floor=0.0, ceil=1.0)
        if key == "cap":
            return data_range(low, high, min_span=0.02, floor=0.0, ceil=1.0)
        return data_range(low, high, min_span=0.02)


def plot_live_run(
    timeseries: pd.DataFrame,
    *,
    steps: int | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """The app's charts of one run as one ordinary figure: adoption, capacity, equity gap
    and cost by category (2 x 2), each axis scaled to the data.

    Args:
        timeseries: ``model.timeseries()`` of one run (no scenario or replicate column).
        steps: Weeks the run will last; the week axis spans them (default: the data's).
        figsize: Inches (default ``LIVE_FIGSIZE``).
    """
    last = int(timeseries["step"].max()) if "step" in timeseries and len(timeseries) else 1
    charts = LiveCharts(max(steps or 0, last, 1), figsize)
    charts.update(timeseries)
    for artist in charts.animated:  # drawn by every savefig from now on
        artist.set_animated(False)
    charts.fig.set_layout_engine("constrained")
    return fit_text(charts.fig)


class LiveNetwork(_Blitted):
    """The network of one run, week by week: ties drawn once, schools and title each week.

    Args:
        colour_by: ``"capacity"`` or ``"adoption"`` (see ``draw_network``).
        figsize: Inches (default ``LIVE_NETWORK_FIGSIZE``).
    """

    def __init__(self, colour_by: str = "capacity", figsize: tuple[float, float] | None = None):
        super().__init__(new_figure(figsize or LIVE_NETWORK_FIGSIZE))
        self.colour_by = colour_by
        self.ax = self.fig.subplots()
        self.title = self.ax.set_title("")
        self.title.set_animated(True)
        self.key: tuple | None = None
        self.schools: list[Artist] = []

    def update(self, snap: Any, ties: np.ndarray) -> bytes:  # snap: NetworkSnapshot
        """Draw the snapshot (schools over the ties drawn for ``ties``) and return the PNG."""
        from matplotlib.collections import PathCollection

        from mensi_sim.plotting.network import draw_network

        key = (
            snap.n,
            int(ties.size),
            snap.tie_kind.size,
            snap.active.tobytes(),
            snap.member.tobytes(),
        )
        redraw = key != self.key
        before = set(self.ax.collections)
        # the ties only for a new background; otherwise the schools alone (no tie is built)
        scatter, handles = draw_network(
            self.ax, snap, colour_by=self.colour_by, ties=ties if redraw else ties[:0], legend=False
        )
        new = [c for c in self.ax.collections if c not in before]
        for old in self.schools:
            old.remove()
        self.schools = [c for c in new if isinstance(c, PathCollection)]
        for c in self.schools:
            c.set_animated(True)
        if redraw:  # ties (and who is active or a member) changed: a new background
            for c in [c for c in before if not isinstance(c, PathCollection)]:
                c.remove()
            for legend in list(self.fig.legends):
                legend.remove()
            self.fig.legend(
                handles=handles,
                loc="outside lower center",
                ncols=3,
                fontsize="x-small",
                frameon=False,
            )
            if scatter is not None and not getattr(self, "_bar", None):
                self._bar = self.fig.colorbar(
                    scatter, ax=self.ax, shrink=0.6, location="bottom", pad=0.01, aspect=40
                )
                self._bar.set_label("Capacity for digital innovation (0-1 scale)", fontsize="small")
            self.key = key
        self.title.set_text(
            f"Week {snap.week}: {int(snap.adopted.sum())} of {snap.n:,} schools adopted "
            f"({100 * snap.adoption_share:.0f}%)"
        )
        self.animated = [*self.schools, self.title]
        if redraw:
            self.full_draw()
        return self.blit()
