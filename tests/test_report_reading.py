"""The report reads well (issue 12): no interval wraps inside its cell, a column that is
censored in every run is left out with a note, week 0 across structures is explained, and
a sensitivity report says which parameters matter before it lists sample points (folded)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from support import REPO, TINY_SCENARIO, sensitivity_experiment, write_scenario
from viz_support import sweep25_results

from mensi_sim import sweep
from mensi_sim.experiments import load_experiment
from mensi_sim.report import build_report, write_report
from mensi_sim.report.common import parameters_that_matter

STRUCTURES = """\
name = "starts"
replications = 3
root_seed = 4
steps = {steps}
executor = "serial"
baseline = "none"

[base]
scenario = "tiny.toml"
overrides = {base}

[[factors.policies]]
name = "none"
overrides = {{ "network.structure" = "none" }}

[[factors.policies]]
name = "top_down"
overrides = {{ "network.structure" = "top_down" }}
{extra}"""


def _sweep(folder: Path, steps: int = 4, base: str = "{}", extra: str = "") -> Path:
    folder.mkdir(parents=True)
    write_scenario(folder, TINY_SCENARIO)
    path = folder / "exp.toml"
    path.write_text(STRUCTURES.format(steps=steps, base=base, extra=extra), encoding="utf-8")
    return sweep(load_experiment(path), executor="serial", out=folder / "out").path


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_a_fully_censored_column_is_left_out_with_a_note(tmp_path: Path) -> None:
    html = build_report(_sweep(tmp_path / "a"), network=False)  # 4 weeks: nobody gets to 50%
    assert "Weeks to 50% adoption is left out: no run brought half the schools" in html
    assert '<th class="num">Weeks to 50% adoption</th>' not in html
    assert '<th class="num">Weeks to 50%</th>' not in html  # nor among the differences
    # half the schools adopted from the start: every run reaches 50%, the column stays
    early = _sweep(tmp_path / "b", base='{ "adoption.initial_share" = 0.6 }')
    html = build_report(early, network=False)
    assert "is left out" not in html
    assert '<th class="num">Weeks to 50% adoption</th>' in html


def test_week_0_is_explained(tmp_path: Path) -> None:
    text = _text(build_report(_sweep(tmp_path / "a"), network=False))
    assert "Every scenario starts from the same schools" in text
    assert "adoption share, mean capacity, equity gap, Gini of capacity are equal" in text
    members = re.search(r"network members at week 0: none (\d+), top_down (\d+)", text)
    assert members and members[1] == "0" and int(members[2]) > 0
    # a policy that changes the schools themselves starts from another world, and says so
    other = '\n[[factors.policies]]\nname = "more_adopters"\noverrides = { "adoption.initial_share" = 0.5 }\n'  # noqa: E501
    text = _text(build_report(_sweep(tmp_path / "b", extra=other), network=False))
    assert "The scenarios do not all start alike: adoption share (by up to" in text


def test_intervals_never_wrap_in_their_cells(tmp_path_factory, browser) -> None:
    report = write_report(
        sweep25_results(tmp_path_factory), tmp_path_factory.mktemp("r") / "r.html", network=False
    )
    page = browser(viewport={"width": 800, "height": 900}).new_page()
    page.goto(report.as_uri())
    # the line boxes of each cell's text (a cell's own height is its row's)
    lines = page.eval_on_selector_all(
        "td.num",
        """els => els.filter(e => /\\[/.test(e.innerText)).map(e => {
            const r = document.createRange();
            r.selectNodeContents(e);
            const tops = new Set([...r.getClientRects()].map(b => Math.round(b.top)));
            return [e.innerText, tops.size, e.innerText.split("\\n").length];
        })""",
    )
    assert len(lines) > 50  # the headline and the differences of 25 scenarios
    # as many line boxes as the cell has lines (a value, and its difference from the
    # baseline below it): none wraps
    assert all(n == k for _, n, k in lines), [x for x in lines if x[1] != x[2]]


def test_a_sensitivity_report_says_what_matters_before_the_points(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from mensi_sim.cli import app

    exp = tmp_path / "sens.toml"
    text = sensitivity_experiment(REPO / "scenarios" / "mensi_pilot.toml")
    # N = 16 (not the helper's 4): the dummy parameter every sample carries must be beaten by
    # a real index before the brief names it, and N = 4 cannot tell learning.rate from it
    exp.write_text(text.replace("steps = 3", "steps = 40").replace("n = 4", "n = 16"), "utf-8")
    done = CliRunner().invoke(app, ["sensitivity", str(exp), "--out", str(tmp_path / "out")])
    assert done.exit_code == 0, done.output
    html = build_report(tmp_path / "out", network=False)
    brief = html.index("Which uncertain parameters matter")
    points = len(load_experiment(exp).points)  # 12 Morris + 80 Sobol points (3 parameters)
    folded = html.index(f"<details><summary>The {points} sample points</summary>")
    assert brief < folded < html.index("morris-0000")
    assert "Uncertainties" in html and brief < html.index("<caption>Uncertainties</caption>")
    # sample points are not approaches: no cross-country comparison of each with the first
    assert "No cross-country comparison: a sample design compares parameter values" in html
    said = _text(html[brief : html.index('id="what-was-run"')])
    # over 40 weeks the learning rate drives the capacity gain (learning moves capacity)
    assert re.search(
        r"Capacity gain \(0-1 scale\) \(Sobol total-order index ST\): learning\.rate", said
    )


def test_parameters_that_matter_by_the_main_index() -> None:
    rows = [
        ("sobol", "capacity_gain", "learning.rate", "ST", 0.8),
        ("sobol", "capacity_gain", "adoption.p", "ST", 0.05),
        ("sobol", "capacity_gain", "learning.gamma", "ST", 0.2),
        ("sobol", "capacity_gain", "learning.rate", "S1", 0.7),
        ("morris", "capacity_gain", "learning.rate", "mu_star", 9.0),
        ("morris", "total_cost", "adoption.p", "mu_star", 0.0),
        ("morris", "total_cost", "learning.rate", "mu_star", 3.0),
    ]
    sv = pd.DataFrame(rows, columns=["method", "outcome", "parameter", "index", "value"])
    gain, cost = parameters_that_matter(sv)
    assert gain["index"].startswith("Sobol") and [p for p, _ in gain["matter"]] == [
        "learning.rate",
        "learning.gamma",
    ]
    assert gain["little"] == ["adoption.p"]  # 0.05 < 10% of 0.8
    assert cost["index"] == "Morris mu*" and cost["little"] == ["adoption.p"]
    # with a dummy parameter in the analysis: above the dummy's index is what matters
    sv["above_dummy"] = [True, True, False, True, True, False, True]
    gain, _ = parameters_that_matter(sv)
    assert [p for p, _ in gain["matter"]] == ["learning.rate", "adoption.p"]
    assert gain["little"] == ["learning.gamma"] and "dummy" in gain["rule"]
