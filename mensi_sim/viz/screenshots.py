"""Screenshots of the report and the app for the documentation (docs/images).

    python -m mensi_sim.cli.screenshots RESULTS [--out docs/images] [--steps 20]

Writes ``report.png`` (the top of RESULTS' report.html, built if missing) and
``app.png`` (the app after some weeks), both taken with the same headless
Chromium the tests use (``mensi_sim.viz.browser``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path


def report_png(results: Path, target: Path, height: int = 1500) -> Path:
    """The first ``height`` pixels of the report, 1280 wide."""
    from playwright.sync_api import sync_playwright

    from mensi_sim.report import REPORT_NAME, write_report
    from mensi_sim.viz.browser import chromium

    page_path = results / REPORT_NAME
    if not page_path.is_file():
        page_path = write_report(results, Path(tempfile.mkdtemp()) / REPORT_NAME)
    with sync_playwright() as pw, chromium(pw, viewport={"width": 1280, "height": height}) as ctx:
        page = ctx.new_page()
        page.goto(page_path.resolve().as_uri())
        page.wait_for_load_state("load")
        page.screenshot(path=str(target))
    return target


def app_png(target: Path, steps: int = 20, scenario: Path | None = None) -> Path:
    """The app after ``steps`` clicks on Step, 1500 x 1000."""
    from playwright.sync_api import expect, sync_playwright

    from mensi_sim.viz.browser import chromium, serve_app

    with (
        serve_app(scenario) as url,
        sync_playwright() as pw,
        chromium(pw, viewport={"width": 1500, "height": 1000}) as ctx,
    ):
        page = ctx.new_page()
        page.goto(url)
        step = page.get_by_role("button", name="Step")
        step.wait_for(timeout=90_000)
        for week in range(1, steps + 1):
            step.click()
            expect(page.get_by_text(f"Time: {week}.0")).to_be_visible(timeout=30_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(target))
    return target
