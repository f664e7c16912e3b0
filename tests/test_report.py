"""report.html: every section, the comparison and ranking, and nothing loaded from outside.

The page is checked twice for self-containment: its HTML is parsed (no http(s)
source or link, no script, no external style), and it is opened in headless
Chromium (Debian's, via Playwright) with every request intercepted: none may
leave file:// (or the page's own data: images), and every image must decode.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner
from viz_support import mensi_app, run_results, sweep_results

from mensi_sim.errors import ResultsError
from mensi_sim.report import REPORT_NAME, SECTIONS, build_report, write_report

EXTERNAL = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)


class _Page(HTMLParser):
    """Collects tags, URL-valued attributes, section ids, image sources and style text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[str] = []
        self.ids: list[str] = []
        self.images: list[str] = []
        self.style = ""
        self._in_style = False
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        a = dict(attrs)
        for key in ("src", "href", "srcset", "action", "data", "poster", "background"):
            if a.get(key):
                self.urls.append(a[key])
        if a.get("style"):
            self.style += a["style"]
        if a.get("id"):
            self.ids.append(a["id"])
        if tag == "img":
            self.images.append(a.get("src") or "")
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.style += data
        else:
            self.text.append(data)


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sweep_results(tmp_path_factory)


@pytest.fixture(scope="module")
def sweep_report(sweep: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_report(sweep, tmp_path_factory.mktemp("report") / REPORT_NAME)


def test_report_has_every_section_with_its_content(sweep_report: Path) -> None:
    html = sweep_report.read_text(encoding="utf-8")
    page = _parse(html)
    assert [i for i in page.ids if i in dict(SECTIONS)] == [a for a, _ in SECTIONS]
    text = " ".join(" ".join(page.text).split())
    # what was run, assumptions with sources, provenance
    for name in ("none", "top_down", "virtual"):
        assert name in text
    assert "Key assumptions" in text and "Sultan, Farley & Lehmann 1990" in text
    assert "Root seed 11" in text and "Experiment hash" in text
    # the headline table and the comparison with intervals
    assert "Headline outcomes" in text and "Paired differences from none" in text
    assert re.search(r"[+-]\d+\.\d pp \[[+-]\d+\.\d pp, [+-]\d+\.\d pp\]", text)
    # the ranking: frontier schemes numbered in order of cost, each with its ICER
    assert "Cost-effectiveness ranking" in text and "frontier" in text
    assert re.search(r"Reading the frontier: from none to", text)
    # sensitivity tables of both methods, and the glossary
    assert "Morris: final_adoption_share" in text and "Sobol: final_adoption_share" in text
    assert "Cost-effectiveness frontier" in text and "ICER" in text
    # by country: one table per country, and the cross-country reading with its verdicts
    assert "IT: 15 schools (mean [95% CI] over replicates)" in text
    assert "PT: 15 schools" in text and "vs none:" in text
    assert "top_down: each country against none on its own schools" in text
    assert re.search(r"(higher|no detectable difference|lower)", text)
    # every figure that fits, embedded
    assert len(page.images) == 13
    assert all(src.startswith("data:image/png;base64,") for src in page.images)


def test_report_html_needs_nothing_from_outside(sweep_report: Path) -> None:
    page = _parse(sweep_report.read_text(encoding="utf-8"))
    assert not [u for u in page.urls if EXTERNAL.match(u)]
    assert all(u.startswith(("#", "data:")) for u in page.urls)
    assert "script" not in page.tags and "link" not in page.tags and "iframe" not in page.tags
    assert "@import" not in page.style and "url(" not in page.style


def test_report_opens_in_chromium_without_any_request_leaving_file(
    sweep_report: Path, browser
) -> None:
    seen: list[str] = []
    blocked: list[str] = []

    def route(r) -> None:  # noqa: ANN001 - playwright Route
        url = r.request.url
        seen.append(url)
        if url.startswith(("file://", "data:")):
            r.continue_()
        else:
            blocked.append(url)
            r.abort()

    page = browser(viewport={"width": 1280, "height": 900}).new_page()
    page.on("request", lambda req: seen.append(req.url))
    page.route("**/*", route)
    page.goto(sweep_report.as_uri())
    page.wait_for_load_state("load")
    widths = page.eval_on_selector_all(
        "img", "els => els.map(e => e.complete ? e.naturalWidth : 0)"
    )
    title = page.title()
    headings = page.eval_on_selector_all("section > h2", "els => els.map(e => e.innerText)")
    assert title.startswith("mensi_sim report: tiny_sweep")
    assert headings == [t for _, t in SECTIONS]
    assert len(widths) == 13 and all(w >= 1000 for w in widths)  # every image decoded
    assert blocked == []
    assert seen and all(u.startswith(("file://", "data:")) for u in seen)


def test_single_run_report_says_what_it_cannot_show(tmp_path_factory, tmp_path: Path) -> None:
    run = run_results(tmp_path_factory)
    text = build_report(run, network=False)
    assert "No comparison: the results hold a single scenario" in text
    assert "No cost-effectiveness ranking" in text
    assert "No sensitivity analysis" in text
    assert "the scenario <b>tiny</b>" in text
    assert text.count("<img ") == 5  # four over weeks, adoption by country


def test_report_is_written_atomically_and_replaced(sweep: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "r.html"
    target.parent.mkdir()
    target.write_text("old")
    path = write_report(sweep, target, network=False)
    assert path == target and target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in target.parent.iterdir()] == ["r.html"]
    with pytest.raises(ResultsError):
        write_report(tmp_path / "missing", tmp_path / "x.html")
    assert not (tmp_path / "x.html").exists()


def test_report_command(sweep: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    app = mensi_app()
    out = tmp_path / "page.html"
    done = runner.invoke(app, ["report", str(sweep), "--out", str(out), "--no-network"])
    assert done.exit_code == 0, done.output
    assert f"report: {out}" in done.output and out.is_file()
    done = runner.invoke(app, ["report", str(tmp_path / "nothing")])
    assert done.exit_code == 2
    assert done.output.strip().startswith("error: ") and len(done.output.strip().splitlines()) == 1
