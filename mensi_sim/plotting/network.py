"""Pictures of the school network: one week, and a strip of the same network over weeks.

Schools are drawn at their coordinates (km), so regional clusters appear where
they are; ties are line segments (matplotlib ``LineCollection``) and schools a
scatter, both straight from the model's arrays: no graph layout is computed, so
a picture of thousands of schools takes well under a second. Programme ties
(mentoring, peer) are all drawn; the many weak ties (proximity, community) are
drawn as a fixed random sample when there are more than a few thousand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import Normalize, to_rgb, to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from mensi_sim.codes import (
    KIND_NAMES,
    MODE_ONLINE,
    ROLE_MENTEE,
    ROLE_MENTOR,
)
from mensi_sim.plotting.common import GREY, OKABE_ITO, figure_legend, fit_text, new_figure

if TYPE_CHECKING:
    from mensi_sim.results import Results

NETWORK_FIGSIZE = (11.0, 7.5)
STRIP_FIGSIZE = (14.0, 4.0)
CAPACITY_CMAP = "viridis"  # sequential, perceptually uniform, colour-blind safe
ADOPTED_COLOUR = OKABE_ITO["vermillion"]
NOT_ADOPTED_COLOUR = OKABE_ITO["sky_blue"]
# most ties of each kind drawn (a fixed random sample above it)
MAX_TIES = {"mentoring": 20_000, "peer": 20_000, "community": 3_000, "proximity": 3_000}
# colour, line width, alpha per tie kind
TIE_STYLE = {
    "mentoring": (OKABE_ITO["blue"], 1.6, 0.9),
    "peer": (OKABE_ITO["orange"], 1.0, 0.8),
    "community": (OKABE_ITO["reddish_purple"], 0.6, 0.45),
    "proximity": (GREY, 0.5, 0.45),
}
ONLINE_DASHES = (0, (3, 2))
SHORT_FIGURE = 1.75  # width / height from which the capacity bar sits beside the map
RASTERIZE_ABOVE = 2_000  # schools or ties drawn as pixels inside an SVG above this


@dataclass(frozen=True)
class NetworkSnapshot:
    """The state of the schools and ties of one run at one week (arrays indexed by school/tie)."""

    week: int
    x: np.ndarray  # km
    y: np.ndarray  # km
    capacity: np.ndarray  # 0-1
    adopted: np.ndarray  # bool
    role: np.ndarray  # codes.ROLE_*
    member: np.ndarray  # bool
    active: np.ndarray  # bool
    tie_src: np.ndarray
    tie_dst: np.ndarray
    tie_kind: np.ndarray  # codes.KIND_*
    tie_mode: np.ndarray  # codes.MODE_*
    label: str = ""

    @property
    def n(self) -> int:
        return int(self.x.size)

    @property
    def adoption_share(self) -> float:
        return float(self.adopted.mean()) if self.n else 0.0


def snapshot(model, label: str = "") -> NetworkSnapshot:  # noqa: ANN001 - a MentoringModel
    """The current state of a ``MentoringModel`` (arrays copied: later steps do not change it)."""
    st, pop = model.state, model.population
    return NetworkSnapshot(
        week=int(model.week),
        x=pop.x,
        y=pop.y,
        capacity=st.capacity.copy(),
        adopted=st.adopted.copy(),
        role=st.role.copy(),
        member=st.member.copy(),
        active=st.active.copy(),
        tie_src=model.tie_src.copy(),
        tie_dst=model.tie_dst.copy(),
        tie_kind=model.tie_kind.copy(),
        tie_mode=model.tie_mode.copy(),
        label=label or model.spec.name,
    )


def replay_snapshots(
    results: Results, weeks: Sequence[int], *, name: str | None = None, replicate: int = 0
) -> list[NetworkSnapshot]:
    """Re-create replicate ``replicate`` of scenario ``name`` and snapshot it at each week.

    The model comes from ``Results.model`` (``experiments.replicate.replicate_model``, the
    one entry point that builds the model of a recorded run), so the pictures show the
    recorded run bit for bit.

    Args:
        results: The results whose run to picture.
        weeks: Weeks to picture (0 = the initial state); past ``time.steps`` is clipped.
        name: Scenario (default: ``Results.replay_source``'s choice).
        replicate: Replicate to re-create.
    """
    source = results.replay_source(name)
    model = results.model(source.name, replicate)
    steps = source.scenario.time.steps
    wanted = sorted({min(max(0, int(w)), steps) for w in weeks})
    shots = []
    for week in wanted:
        while model.week < week:
            model.step()
        shots.append(snapshot(model, source.name))
    return shots


def default_weeks(steps: int, count: int = 5) -> list[int]:
    """``count`` weeks spread evenly from 0 to ``steps`` (fewer when the run is short)."""
    return sorted({int(round(w)) for w in np.linspace(0, steps, count)})


def tie_sample(tie_kind: np.ndarray, max_ties: dict[str, int] | None = None) -> np.ndarray:
    """Indices of the ties to draw: every tie of a kind up to its cap, a fixed sample above it.

    The sample depends only on the tie arrays (seed 0), so every picture of one run
    draws the same ties.
    """
    caps = MAX_TIES if max_ties is None else max_ties
    rng = np.random.default_rng(0)
    keep = []
    for code, name in enumerate(KIND_NAMES):
        idx = np.flatnonzero(tie_kind == code)
        cap = caps.get(name, idx.size)
        if idx.size > cap:
            idx = np.sort(rng.choice(idx, size=cap, replace=False))
        keep.append(idx)
    return np.concatenate(keep) if keep else np.zeros(0, dtype=np.int64)


def _marker_size(n: int) -> float:
    return float(np.clip(4000.0 / max(n, 1), 3.0, 45.0))


def draw_network(
    ax: Axes,
    snap: NetworkSnapshot,
    *,
    colour_by: str = "capacity",
    ties: np.ndarray | None = None,
    legend: bool = True,
) -> tuple[object | None, list[Line2D]]:
    """Draw ties and schools of a snapshot on ``ax``.

    Returns:
        The scatter coloured by capacity (None when coloured by adoption), for a
        colour bar, and the legend handles (roles, adoption, tie kinds drawn).

    Args:
        colour_by: ``"capacity"`` (sequential colour map, adopters ringed in black) or
            ``"adoption"`` (adopters vermillion, others sky blue).
        ties: Indices of the ties to draw (default: ``tie_sample(snap.tie_kind)``).
        legend: Add the legend of roles, adoption and tie kinds to ``ax``.
    """
    if colour_by not in ("capacity", "adoption"):
        raise ValueError(f"colour_by: {colour_by!r} (allowed: capacity, adoption)")
    n = snap.n
    idx = tie_sample(snap.tie_kind) if ties is None else ties
    src, dst = snap.tie_src[idx], snap.tie_dst[idx]
    kind, mode = snap.tie_kind[idx], snap.tie_mode[idx]
    live = snap.active[src] & snap.active[dst]
    xy = np.column_stack([snap.x, snap.y])
    handles: list[Line2D] = []
    raster = idx.size > RASTERIZE_ABOVE
    # weak ties first, so programme ties are drawn on top of them
    for code in (3, 2, 1, 0):
        name = KIND_NAMES[code]
        colour, width, alpha = TIE_STYLE[name]
        shown = False
        for online in (False, True):
            sel = (kind == code) & ((mode == MODE_ONLINE) == online)
            if not sel.any():
                continue
            segs = np.stack([xy[src[sel]], xy[dst[sel]]], axis=1)
            alphas = np.where(live[sel], alpha, alpha * 0.25)
            rgba = np.zeros((segs.shape[0], 4))
            rgba[:, :3] = to_rgb(colour)
            rgba[:, 3] = alphas
            lc = LineCollection(
                segs,
                colors=rgba,
                linewidths=width,
                linestyles=ONLINE_DASHES if online else "solid",
                zorder=1 + (code <= 1),
                rasterized=raster,
            )
            ax.add_collection(lc)
            shown = True
        if shown:
            handles.append(Line2D([], [], color=colour, lw=max(width, 1.0), label=f"{name} tie"))
    if (mode == MODE_ONLINE).any():
        handles.append(
            Line2D([], [], color="#444444", lw=1, ls=(0, (3, 2)), label="online (dashed)")
        )

    mentor = snap.role == ROLE_MENTOR
    mentee = snap.role == ROLE_MENTEE
    size = _marker_size(n)
    norm = Normalize(0.0, 1.0)
    cmap = colormaps[CAPACITY_CMAP]
    adopted_rgba, not_adopted_rgba = to_rgba(ADOPTED_COLOUR), to_rgba(NOT_ADOPTED_COLOUR)
    raster_pts = n > RASTERIZE_ABOVE
    scatter = None
    groups = (
        (~snap.member, "o", size * 0.55, "not in the network"),
        (snap.member & ~mentor & ~mentee, "s", size * 0.8, "network member"),
        (mentee, "o", size, "mentee school"),
        (mentor, "*", size * 4.0, "mentor school"),
    )
    for mask, marker, s, label in groups:
        if not mask.any():
            continue
        alpha = np.where(snap.active[mask], 1.0, 0.35)  # dropped-out schools faded
        face = np.empty((int(mask.sum()), 4))
        if colour_by == "capacity":
            face[:] = cmap(norm(snap.capacity[mask]))
            edge = np.zeros_like(face)  # adopters ringed in black, the others without edge
            edge[:, 3] = snap.adopted[mask] * alpha
        else:
            face[:] = np.where(snap.adopted[mask, None], adopted_rgba, not_adopted_rgba)
            edge = np.zeros_like(face)
            edge[:, 3] = (marker == "*") * alpha
        face[:, 3] = alpha
        ax.scatter(
            snap.x[mask],
            snap.y[mask],
            s=s,
            marker=marker,
            c=face,
            edgecolors=edge,
            linewidths=1.0 if marker != "*" else 0.7,
            zorder=3 + (marker == "*"),
            rasterized=raster_pts,
        )
        values = colour_by == "capacity"
        if values:
            scatter = ScalarMappable(norm=norm, cmap=cmap)
        handles.append(
            Line2D(
                [],
                [],
                marker=marker,
                ls="",
                color="#555555",
                markersize=np.sqrt(s) * (0.9 if marker == "*" else 1.0) + 1,
                label=label,
            )
        )
    if colour_by == "capacity":
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                ls="",
                markerfacecolor="white",
                markeredgecolor="black",
                markersize=7,
                label="adopted (black ring)",
            )
        )
    else:
        handles += [
            Line2D([], [], marker="o", ls="", color=ADOPTED_COLOUR, markersize=7, label="adopted"),
            Line2D(
                [],
                [],
                marker="o",
                ls="",
                color=NOT_ADOPTED_COLOUR,
                markersize=7,
                label="not adopted",
            ),
        ]
    if (~snap.active).any():
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                ls="",
                color="#555555",
                alpha=0.35,
                markersize=7,
                label="dropped out (faded)",
            )
        )
    _frame(ax, snap)
    ax.set_xlabel("x (km)")
    ax.set_ylabel("y (km)")
    if legend:
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.02, 1.0),
            fontsize="small",
            frameon=False,
        )
    return scatter, handles


def _frame(ax: Axes, snap: NetworkSnapshot) -> None:
    """Equal scales on both axes, the limits spanning every school with a margin."""
    if snap.n:
        x0, x1 = float(snap.x.min()), float(snap.x.max())
        y0, y1 = float(snap.y.min()), float(snap.y.max())
        pad = 0.03 * max(x1 - x0, y1 - y0, 1.0)
        ax.set_xlim(x0 - pad, x1 + pad)
        ax.set_ylim(y0 - pad, y1 + pad)
    ax.set_aspect("equal", adjustable="box")


def _room_for_markers(fig: Figure, axes: Sequence[Axes]) -> bool:
    """Widen each map's limits so that its largest school marker stays inside the frame
    at the scale the map is drawn (a fixed share of the span is too little on a small
    map); call it after ``fit_text``, at the figure's layout. True when a map changed."""
    renderer = fig.canvas.get_renderer()
    changed = False
    for ax in axes:
        dots = [
            c
            for c in ax.collections
            if isinstance(c, PathCollection) and len(c.get_offsets()) and len(c.get_sizes())
        ]
        if not dots:
            continue
        ax.apply_aspect()
        box = ax.get_window_extent(renderer)
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        xy = np.concatenate([np.asarray(c.get_offsets(), dtype=float) for c in dots])
        radius = np.sqrt(max(float(np.max(c.get_sizes())) for c in dots)) / 2 * fig.dpi / 72
        need = (radius + 2.0) * max((x1 - x0) / box.width, (y1 - y0) / box.height)  # data units
        (lx, ly), (hx, hy) = xy.min(axis=0), xy.max(axis=0)
        if min(lx - x0, x1 - hx, ly - y0, y1 - hy) < need:
            pad = 1.1 * need  # the map shrinks a little as its limits widen
            ax.set_xlim(min(x0, lx - pad), max(x1, hx + pad))
            ax.set_ylim(min(y0, ly - pad), max(y1, hy + pad))
            changed = True
    return changed


def _fit_maps(fig: Figure, axes: Sequence[Axes]) -> Figure:
    """``fit_text``, then room for the markers of the maps, then ``fit_text`` again for the
    maps' new limits if they changed. Returns ``fig``."""
    fit_text(fig)
    if _room_for_markers(fig, axes):
        fit_text(fig)
    return fig


def _title(snap: NetworkSnapshot) -> str:
    adopted = int(snap.adopted.sum())
    return (
        f"week {snap.week}: {adopted} of {snap.n:,} schools adopted "
        f"({100 * snap.adoption_share:.0f}%), mean capacity {snap.capacity.mean():.2f}"
    )


def plot_network(
    snap: NetworkSnapshot,
    *,
    colour_by: str = "capacity",
    ties: np.ndarray | None = None,
    figsize: tuple[float, float] = NETWORK_FIGSIZE,
    title: str | None = None,
    legend: str = "right",
) -> Figure:
    """One run's network at one week: schools at their coordinates, ties by kind and mode.

    Mentor schools are stars, mentees circles, schools outside the network small
    circles; schools are coloured by capacity (adopters ringed) or by adoption.
    Ties are coloured by kind (mentoring, peer, community, proximity); online
    ties are dashed, ties of a school that dropped out faded.

    Args:
        legend: ``"right"`` of the map or ``"bottom"`` (for a narrow figure).
    """
    fig = new_figure(figsize)
    ax = fig.subplots()
    scatter, handles = draw_network(ax, snap, colour_by=colour_by, ties=ties, legend=False)
    if legend == "bottom":
        figure_legend(
            fig,
            handles=handles,
            loc="outside lower center",
            ncols=3,
            fontsize="small",
            frameon=False,
        )
    else:
        figure_legend(
            fig, handles=handles, loc="outside right upper", fontsize="small", frameon=False
        )
    if scatter is not None:
        width, height = fig.get_size_inches()
        if width >= SHORT_FIGURE * height:  # height is scarce: the bar beside the map
            bar = fig.colorbar(scatter, ax=ax, shrink=0.8, location="right", pad=0.02)
        else:
            bar = fig.colorbar(scatter, ax=ax, shrink=0.5, location="bottom", pad=0.01, aspect=40)
        bar.set_label("Capacity for digital innovation (0-1 scale)")
    head = f"{snap.label}: " if snap.label else ""
    ax.set_title(title if title is not None else head + _title(snap))
    return _fit_maps(fig, [ax])


def plot_network_strip(
    snaps: Sequence[NetworkSnapshot],
    *,
    colour_by: str = "adoption",
    figsize: tuple[float, float] = STRIP_FIGSIZE,
) -> Figure:
    """Small multiples: the same network at several weeks, one panel per snapshot."""
    if not snaps:
        raise ValueError("no snapshots to draw")
    fig = new_figure(figsize)
    axes = np.atleast_1d(fig.subplots(1, len(snaps)))
    ties = tie_sample(snaps[-1].tie_kind)
    scatter, handles = None, []
    for ax, snap in zip(axes, snaps, strict=True):
        # ties added by opening up exist only in later snapshots
        own = ties[ties < snap.tie_kind.size]
        drawn, handles = draw_network(ax, snap, colour_by=colour_by, ties=own, legend=False)
        scatter = drawn if drawn is not None else scatter
        ax.set_title(
            f"week {snap.week}: {100 * snap.adoption_share:.0f}% adopted", fontsize="medium"
        )
        ax.set_xlabel("x (km)", fontsize="small")
        ax.set_ylabel("")
        ax.tick_params(labelsize="x-small")
    axes[0].set_ylabel("y (km)", fontsize="small")
    figure_legend(
        fig,
        handles=handles,
        loc="outside lower center",
        ncols=min(6, len(handles)),
        fontsize="small",
        frameon=False,
    )
    if scatter is not None:
        bar = fig.colorbar(scatter, ax=list(axes), shrink=0.8, location="right")
        bar.set_label("Capacity (0-1)")
    label = snaps[0].label
    fig.suptitle(f"{label}: the network over the run" if label else "The network over the run")
    return _fit_maps(fig, list(axes))
