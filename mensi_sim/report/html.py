"""HTML building blocks of the report: escaping, tables, figures, the page.

Numbers are written by ``mensi_sim.formats.fmt``, the one formatter of the package.

Everything the page needs is inside it: the style sheet is inline, images are
``data:`` URIs, and there are no scripts, web fonts or links to other sites.
"""

from __future__ import annotations

import base64
import html
import os
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from mensi_sim.experiments.marker import add_written
from mensi_sim.files import os_reason

CSS = """
:root { --ink: #1b1b1b; --muted: #555; --rule: #d0d0d0; --accent: #0072B2; --band: #f4f6f8; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
       sans-serif; color: var(--ink); margin: 0; line-height: 1.5; background: #fff; }
main { max-width: 1180px; margin: 0 auto; padding: 1.5rem 2rem 4rem; }
header.top { background: var(--accent); color: #fff; padding: 1.4rem 2rem; }
header.top h1 { margin: 0 auto; max-width: 1180px; font-size: 1.7rem; }
header.top p { margin: 0.3rem auto 0; max-width: 1180px; opacity: 0.9; }
nav.toc { background: var(--band); border-bottom: 1px solid var(--rule); padding: 0.5rem 2rem; }
nav.toc ul { list-style: none; margin: 0 auto; max-width: 1180px; padding: 0; display: flex;
             flex-wrap: wrap; gap: 0.3rem 1.2rem; font-size: 0.92rem; }
nav.toc a { color: var(--accent); text-decoration: none; }
h2 { border-bottom: 2px solid var(--accent); padding-bottom: 0.2rem; margin-top: 2.4rem; }
h3 { margin-top: 1.6rem; }
p.lead { font-size: 1.05rem; }
.muted, caption, figcaption { color: var(--muted); }
table { border-collapse: collapse; margin: 0.6rem 0 1rem; font-size: 0.9rem; width: 100%; }
caption { caption-side: top; text-align: left; padding-bottom: 0.3rem; font-size: 0.88rem; }
th, td { border-bottom: 1px solid var(--rule); padding: 0.3rem 0.55rem; vertical-align: top; }
th { text-align: left; background: var(--band); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
.table-wrap { overflow-x: auto; max-width: 100%; }
tr.frontier td { background: #eaf3fa; }
tr.changed td { background: #fff7e0; }
.badge { display: inline-block; padding: 0 0.45rem; border-radius: 0.7rem; font-size: 0.8rem;
         background: var(--band); border: 1px solid var(--rule); white-space: nowrap; }
.badge.good { background: #e3f2ec; border-color: #009E73; }
.badge.bad { background: #fbe9e0; border-color: #D55E00; }
figure { margin: 1.2rem 0 2rem; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--rule); }
figcaption { font-size: 0.9rem; margin-top: 0.3rem; }
details { margin: 0.6rem 0 1rem; }
summary { cursor: pointer; color: var(--accent); }
dl.glossary dt { font-weight: 600; margin-top: 0.6rem; }
dl.glossary dd { margin-left: 1.2rem; }
.note { border-left: 4px solid #E69F00; background: #fff7e0; padding: 0.5rem 0.8rem;
        margin: 0.8rem 0; }
code { font-size: 0.88em; background: var(--band); padding: 0 0.2rem; }
footer { color: var(--muted); font-size: 0.85rem; margin-top: 3rem; }
@media print { nav.toc { display: none; } header.top { color: #000; background: #fff; } }
"""


def esc(value: Any) -> str:
    """Text escaped for HTML."""
    return html.escape("" if value is None else str(value), quote=True)


def table(
    headers: Sequence[str] | None,
    rows: Iterable[Sequence[Any]],
    *,
    numeric: Sequence[int] = (),
    caption: str = "",
    row_classes: Sequence[str] | None = None,
    raw: bool = False,
) -> str:
    """An HTML table; cells are escaped unless ``raw`` (then they are trusted HTML).

    ``headers=None`` makes a key-value table without a header row.
    """
    num = set(numeric)
    right = ' class="num"'
    out = ['<div class="table-wrap"><table>']
    if caption:
        out.append(f"<caption>{esc(caption)}</caption>")
    if headers is not None:
        out.append("<thead><tr>")
        for i, h in enumerate(headers):
            out.append(f"<th{right if i in num else ''}>{esc(h)}</th>")
        out.append("</tr></thead>")
    out.append("<tbody>")
    for k, row in enumerate(rows):
        cls = row_classes[k] if row_classes is not None and k < len(row_classes) else ""
        out.append(f'<tr class="{esc(cls)}">' if cls else "<tr>")
        for i, cell in enumerate(row):
            text = str(cell) if raw else esc(cell)
            out.append(f"<td{right if i in num else ''}>{text}</td>")
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def figure(png: bytes, title: str, caption: str, anchor: str) -> str:
    """A PNG embedded as a data URI, with its title and caption."""
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure id="fig-{esc(anchor)}"><h3>{esc(title)}</h3>'
        f'<img src="data:image/png;base64,{data}" alt="{esc(title)}">'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )


def section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>{body}</section>'


def page(title: str, subtitle: str, sections: Sequence[tuple[str, str, str]], footer: str) -> str:
    """The whole document: header, table of contents, the sections, a footer."""
    toc = "".join(f'<li><a href="#{esc(a)}">{esc(t)}</a></li>' for a, t, _ in sections)
    body = "".join(section(a, t, b) for a, t, b in sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f'<header class="top"><h1>{esc(title)}</h1><p>{esc(subtitle)}</p></header>'
        f'<nav class="toc"><ul>{toc}</ul></nav>'
        f"<main>{body}<footer>{footer}</footer></main></body></html>\n"
    )


def write_page(text: str, target: Path) -> Path:
    """Write an HTML page atomically: a hidden temporary sibling renamed into place, so a
    reader never sees half a report (the temporary file is removed on any error)."""
    tmp = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex[:12]}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    except OSError as exc:  # name the page, not the temporary file
        tmp.unlink(missing_ok=True)
        raise OSError(exc.errno, os_reason(exc), str(target)) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    add_written(target.parent, [target])  # a results folder's mark lists it as ours
    return target
