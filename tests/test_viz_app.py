"""The interactive app: the model behind it, the ``viz`` command, and the page in a browser.

The browser test starts ``mensi-sim viz`` on a free local port (a real server
process, stopped at the end, also on failure) and drives the page in headless
Chromium (Debian's /usr/bin/chromium through Playwright): the page loads, a step
is taken with SolaraViz's Step button, and the step counter, the status line and
both pictures change; a control is changed and Reset rebuilds the model with it.
Without Chromium the test fails and says to run ``make browser``.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import TINY_SCENARIO, write_scenario
from typer.testing import CliRunner
from viz_support import mensi_app

from mensi_sim.viz.browser import CHROMIUM, MISSING, free_port, stop, wait_until_up
from mensi_sim.viz.model import INCENTIVES, VizModel


# ---- the model ---------------------------------------------------------------------------
def test_viz_model_is_built_from_the_controls() -> None:
    m = VizModel(
        structure="virtual",
        incentive="funding",
        learning_rate=0.3,
        q_per_year=0.52,
        n_schools=240,
        weeks=3,
        seed=5,
    )
    sc = m.spec
    assert m.problem == ""
    assert (sc.network.structure, sc.population.n_schools, sc.time.steps) == ("virtual", 240, 3)
    assert sc.learning.rate == 0.3 and sc.adoption.q == pytest.approx(0.01)
    assert [i.type for i in sc.incentives] == ["funding"]
    assert len(m.agents) == 240
    while m.running:
        m.step()
    assert m.week == 3 and m.steps == 3 and "Week 3 of 3" in m.status()


def test_viz_model_falls_back_and_says_why() -> None:
    m = VizModel(learning_rate=5.0)
    assert "Cannot build that scenario" in m.problem and "learning.rate" in m.problem
    assert m.spec.name == "mensi_pilot"


def test_tie_sample_is_computed_once_per_tie_set() -> None:
    m = VizModel(n_schools=600)
    first = m.drawn_ties()
    assert m.drawn_ties() is first


def test_controls_are_valid_solaraviz_parameters() -> None:
    from mesa.visualization.solara_viz import _check_model_params

    from mensi_sim.viz import app

    _check_model_params(VizModel.__init__, app.model_params)  # raises on a bad name
    assert set(app.model_params["incentive"]["values"]) >= set(INCENTIVES)
    assert app.model_params["structure"]["value"] == "top_down"


# ---- the command -------------------------------------------------------------------------
def test_viz_command_rejects_bad_input_in_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    app = mensi_app()
    bad = tmp_path / "bad.toml"
    bad.write_text("[netwrok]\n")
    done = runner.invoke(app, ["viz", str(bad)])
    assert done.exit_code == 2 and done.output.startswith("error: ")
    assert "netwrok" in done.output and len(done.output.strip().splitlines()) == 1
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = runner.invoke(app, ["viz", "--port", str(port)])
    assert done.exit_code == 2 and "is in use" in done.output


# ---- the page in a browser ---------------------------------------------------------------
@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    """``mensi-sim viz tiny.toml --port P`` running; yields (url, log path)."""
    if not CHROMIUM.is_file():
        pytest.fail(MISSING)
    folder = tmp_path_factory.mktemp("viz")
    scenario = write_scenario(folder, TINY_SCENARIO)  # 30 schools, 6 weeks
    port = free_port()
    log = folder / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mensi_sim.viz_commands",
                "viz",
                str(scenario),
                "--port",
                str(port),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        try:
            wait_until_up(url, process, timeout=150)
        except RuntimeError as exc:
            pytest.fail(f"{exc}\n{log.read_text(errors='replace')[-3000:]}")
        yield url, log
    finally:
        stop(process)


def _image(page, index: int) -> bytes:  # noqa: ANN001
    return page.locator("img").nth(index).screenshot()


def _until_changed(page, index: int, before: bytes, timeout: float = 20.0) -> bytes:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    now = _image(page, index)
    while now == before and time.monotonic() < deadline:
        page.wait_for_timeout(250)
        now = _image(page, index)
    return now


def test_step_and_reset_through_the_page(served) -> None:
    from playwright.sync_api import expect, sync_playwright

    from mensi_sim.viz.browser import chromium

    url, log = served
    outside: list[str] = []
    with sync_playwright() as pw, chromium(pw, viewport={"width": 1500, "height": 1000}) as ctx:
        page = ctx.new_page()
        page.on(
            "request",
            lambda r: (
                outside.append(r.url) if not r.url.startswith((url, "data:", "blob:")) else None
            ),
        )
        page.goto(url)
        step = page.get_by_role("button", name="Step")
        step.wait_for(timeout=90_000)
        expect(page.get_by_text("Time: 0.0")).to_be_visible()
        expect(page.get_by_text("Week 0 of 6", exact=False)).to_be_visible()
        expect(page.get_by_text("of 30 schools", exact=False)).to_be_visible()  # the tiny file
        expect(page.locator("img")).to_have_count(2, timeout=30_000)
        network0, charts0 = _image(page, 0), _image(page, 1)

        step.click()
        expect(page.get_by_text("Time: 1.0")).to_be_visible(timeout=30_000)
        expect(page.get_by_text("Week 1 of 6", exact=False)).to_be_visible(timeout=30_000)
        assert _until_changed(page, 0, network0) != network0, "network picture did not change"
        assert _until_changed(page, 1, charts0) != charts0, "charts did not change"

        # a control, then Reset: the model is rebuilt with the new structure, at week 0
        page.locator(".v-select").filter(has_text="Cluster structure").click()
        page.get_by_role("option", name="virtual", exact=True).click()
        page.get_by_role("button", name="Reset").click()
        expect(page.get_by_text("virtual / none")).to_be_visible(timeout=30_000)
        expect(page.get_by_text("Week 0 of 6", exact=False)).to_be_visible()
    assert outside == [], f"requests left the app server: {outside[:5]}"
    text = log.read_text(errors="replace")
    assert "mensi-sim viz: tiny (" in text and f"at {url} (Ctrl+C to stop)" in text
    assert "Traceback" not in text
