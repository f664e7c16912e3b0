"""Layout checks of a drawn figure, read from its artists through the renderer.

``drawn_texts`` records every piece of text the Agg renderer really draws (tick labels
outside the view, empty strings and hidden artists are never drawn, so never checked);
``layout_problems`` lists each pair of texts whose boxes overlap, each text that leaves
the canvas or runs into a legend it is not part of (its handles included), each title
wider than its panel (an axes' centre, left or right title against the axes' width; a
figure's suptitle against the width of the union of the figure's axes) and each marker
cut by the frame of its axes.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from mensi_sim.plotting.common import drawn_text_artists

TOLERANCE = 1.0  # pixels a text may pass the canvas edge (anti-aliasing)
GAP = 2.0  # pixels at least between two texts (touching words read as one)


def drawn_texts(fig: Figure) -> list[tuple[Text, Bbox]]:
    """(artist, window box) of every non-blank text the renderer draws."""
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    fig.canvas.draw()  # runs the layout at the final size
    renderer = fig.canvas.get_renderer()
    unique = drawn_text_artists(fig, renderer)
    return [(t, t.get_window_extent(renderer)) for t in unique]


def _too_close(a: Bbox, b: Bbox, gap: float = GAP) -> bool:
    """The boxes overlap, or are less than ``gap`` pixels apart on both axes."""
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return w > -gap and h > -gap and (w > 0 or h > 0)


def _marker_problems(fig: Figure, renderer) -> list[str]:  # noqa: ANN001
    """Scatter markers cut by their axes' frame (more than a quarter of the marker outside)."""
    problems = []
    for ax in fig.axes:
        if not isinstance(ax, Axes) or not ax.get_visible():
            continue
        box = ax.get_window_extent(renderer)
        for coll in ax.collections:
            if not isinstance(coll, PathCollection) or not coll.get_visible():
                continue
            offsets = np.asarray(coll.get_offsets(), dtype=float)
            if offsets.size == 0 or not coll.get_clip_on():
                continue
            points = coll.get_offset_transform().transform(offsets)
            sizes = np.broadcast_to(np.asarray(coll.get_sizes(), float), (len(points),))
            radius = np.sqrt(sizes) / 2 * fig.dpi / 72.0  # points^2 area -> pixels
            ok = np.isfinite(points).all(axis=1)
            inside = (
                (points[:, 0] - radius / 2 >= box.x0 - TOLERANCE)
                & (points[:, 0] + radius / 2 <= box.x1 + TOLERANCE)
                & (points[:, 1] - radius / 2 >= box.y0 - TOLERANCE)
                & (points[:, 1] + radius / 2 <= box.y1 + TOLERANCE)
            )
            visible = (
                (points[:, 0] + radius >= box.x0)
                & (points[:, 0] - radius <= box.x1)
                & (points[:, 1] + radius >= box.y0)
                & (points[:, 1] - radius <= box.y1)
            )
            cut = ok & visible & ~inside
            if cut.any():
                title = ax.get_title() or ax.get_xlabel()
                problems.append(f"{cut.sum()} marker(s) cut by the frame of {title!r}")
    return problems


def _title_problems(fig: Figure, texts: list[tuple[Text, Bbox]], renderer) -> list[str]:  # noqa: ANN001
    """Drawn titles wider than their panel: an axes title than its axes, a suptitle than
    the union of the figure's visible axes (a title running past its panel reads badly)."""
    drawn = dict(texts)
    axes = [ax for ax in fig.axes if isinstance(ax, Axes) and ax.get_visible()]
    frames = {ax: ax.get_window_extent(renderer) for ax in axes}
    titles = [
        (t, frames[ax], "title") for ax in axes for t in (ax.title, ax._left_title, ax._right_title)
    ]
    if fig._suptitle is not None and axes:
        titles.append((fig._suptitle, Bbox.union(list(frames.values())), "suptitle"))
    problems = []
    for text, frame, kind in titles:
        if text in drawn and drawn[text].width > frame.width + TOLERANCE:
            problems.append(
                f"{kind} {text.get_text()!r} is wider than its axes "
                f"({drawn[text].width:.0f} > {frame.width:.0f} pixels)"
            )
    return problems


def layout_problems(fig: Figure) -> list[str]:
    """What is wrong with the drawn figure: overlapping texts, text off the canvas, a
    title wider than its panel, markers cut by a frame; empty when nothing is."""
    texts = drawn_texts(fig)
    renderer = fig.canvas.get_renderer()
    canvas = fig.bbox
    problems = []
    for i, (a, box_a) in enumerate(texts):
        if (
            box_a.x0 < canvas.x0 - TOLERANCE
            or box_a.y0 < canvas.y0 - TOLERANCE
            or box_a.x1 > canvas.x1 + TOLERANCE
            or box_a.y1 > canvas.y1 + TOLERANCE
        ):
            problems.append(f"text {a.get_text()!r} leaves the canvas ({box_a.bounds})")
        for b, box_b in texts[i + 1 :]:
            if _too_close(box_a, box_b):
                problems.append(f"texts {a.get_text()!r} and {b.get_text()!r} overlap or touch")
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes)]
    for legend in [g for g in legends if g is not None and g.get_visible()]:
        box = legend.get_window_extent(renderer)
        own = set(legend.get_texts()) | {legend.get_title()}
        for t, box_t in texts:
            if t not in own and _too_close(box, box_t, gap=0.0):
                problems.append(f"text {t.get_text()!r} runs into a legend")
    return problems + _title_problems(fig, texts, renderer) + _marker_problems(fig, renderer)
