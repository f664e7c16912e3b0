"""The one number formatter of tables and reports: ``fmt(value, kind)``.

Kinds: ``pct`` (25.3%), ``dpct`` (+2.1pp, a compact difference of shares), ``pp``
(+2.1 pp), ``eur`` (€1,234), ``deur`` (+€1,234), ``num1`` (2.5), ``signed1`` (+2.5),
``num3`` (0.125), ``signed3`` (+0.125), ``int`` (1,234); anything else: 4 significant
digits. A missing value (None, NaN) is ``n/a``; an infinite one is written as such
(``inf%``). ``mensi_sim.outcomes`` says which kind each outcome takes.
"""

from __future__ import annotations

import math
from typing import Any

KINDS = ("pct", "dpct", "pp", "eur", "deur", "num1", "signed1", "num3", "signed3", "int")


def missing(value: Any) -> bool:
    """True for None, NaN, pandas' NA or a value that is not a number."""
    if value is None:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def fmt(value: Any, kind: str) -> str:
    """A number as text in one of the ``KINDS``; ``n/a`` when missing."""
    if missing(value):
        return "n/a"
    v = float(value)
    if kind == "pct":
        return f"{100 * v:.1f}%"
    if kind == "dpct":
        return f"{100 * v:+.1f}pp"
    if kind == "pp":
        return f"{100 * v:+.1f} pp"
    if kind == "eur":
        return f"{'-' if v < 0 else ''}€{abs(v):,.0f}"
    if kind == "deur":
        return f"{'+' if v > 0 else '-' if v < 0 else ''}€{abs(v):,.0f}"
    if kind == "num1":
        return f"{v:.1f}"
    if kind == "signed1":
        return f"{v:+.1f}"
    if kind == "num3":
        return f"{v:.3f}"
    if kind == "signed3":
        return f"{v:+.3f}"
    if kind == "int":
        return f"{v:,.0f}"
    return f"{v:.4g}"


def with_ci(mean: Any, low: Any, high: Any, kind: str) -> str:
    """``mean [low, high]`` (the interval left out when missing)."""
    text = fmt(mean, kind)
    if missing(low) or missing(high):
        return text
    return f"{text} [{fmt(low, kind)}, {fmt(high, kind)}]"


def html_table(
    rows: list[list[str]],
    header: list[str] | None = None,
    caption: str = "",
    *,
    numbers: bool = True,
) -> str:
    """A small HTML table of text cells (escaped), for notebooks (``_repr_html_``).

    The first column is a left-aligned row label. With ``numbers`` the other columns are
    right-aligned and never wrap, so an interval stays on one line; without, they are
    text, left-aligned.
    """
    from html import escape

    value_style = "text-align:right;white-space:nowrap" if numbers else "text-align:left"

    def cells(row: list[str], tag: str) -> str:
        out = []
        for i, cell in enumerate(row):
            style = "text-align:left" if i == 0 else value_style
            out.append(f"<{tag} style='{style}'>{escape(str(cell))}</{tag}>")
        return "<tr>" + "".join(out) + "</tr>"

    head = f"<thead>{cells(header, 'th')}</thead>" if header else ""
    body = "".join(cells(r, "td") for r in rows)
    cap = f"<caption style='text-align:left'>{escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}{head}<tbody>{body}</tbody></table>"
