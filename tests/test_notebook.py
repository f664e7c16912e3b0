"""mensi_sim in notebooks (issue 12): Scenario and Results show a compact table
(``_repr_html_``) and a short ``repr``; ``headline()`` has the numbers and the formatted
values; ``simulate(..., progress=True)`` draws a bar in a terminal and in Jupyter; and
examples/quickstart.ipynb runs end to end in a real kernel (nbclient)."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import nbclient
import nbformat
import pytest
from support import REPO, TINY_SCENARIO, write_scenario

from mensi_sim import load_scenario, simulate
from mensi_sim.formats import fmt
from mensi_sim.outcomes import format_of

NOTEBOOK = REPO / "examples" / "quickstart.ipynb"


def test_scenario_shows_a_short_repr_and_a_compact_table() -> None:
    sc = load_scenario("mensi_pilot")
    assert repr(sc) == "Scenario('mensi_pilot': top_down, 120 schools, 156 weeks)"
    html = sc._repr_html_()
    assert len(html) < 2_000
    for text in (
        "top_down (compulsory participation)",
        "120 in 6 countries, 24 regions",
        "156 (programme in weeks 0 to 51; 36 term weeks a year)",
        "mentor_course",
    ):
        assert text in html, text
    odd = sc.model_copy(update={"name": "<b>x</b>"})
    assert "<b>x</b>" not in odd._repr_html_() and "&lt;b&gt;x&lt;/b&gt;" in odd._repr_html_()


def test_headline_has_numbers_and_formatted_values(tmp_path: Path) -> None:
    sc = load_scenario(write_scenario(tmp_path, TINY_SCENARIO))
    res = simulate(sc, replications=3, seed=2)
    head = res.headline()
    row = head[head["outcome"] == "final_adoption_share"].iloc[0]
    # the label says the week it is read at: the horizon, the run's last week (6)
    assert row["label"] == f"{format_of('final_adoption_share').label}, week 6"
    assert row["formatted"] == (
        f"{fmt(row['mean'], 'pct')} [{fmt(row['ci_low'], 'pct')}, {fmt(row['ci_high'], 'pct')}]"
    )
    assert row["ci_low"] < row["mean"] < row["ci_high"]
    html = res._repr_html_()
    assert "tiny: 3 replicates x 6 weeks, 30 schools (top_down), seed 2" in html
    assert row["formatted"] in html and "mean [95% CI over replicates]" in html
    assert repr(res) == "Results(scenario 'tiny': 1 scenario(s), 3 runs, 0 failed)"

    one = simulate(sc, replications=1, seed=2).headline()
    assert one["ci_low"].isna().all() and one["ci_high"].isna().all()  # no interval from one
    first = one[one["outcome"] == "final_adoption_share"].iloc[0]
    assert first["formatted"] == fmt(first["mean"], "pct")
    assert "one replicate: no confidence interval" in simulate(sc, 1)._repr_html_()


def test_progress_true_draws_a_bar_in_a_terminal(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, TINY_SCENARIO)
    code = (
        "from mensi_sim import load_scenario, simulate\n"
        f"simulate(load_scenario({str(path)!r}), replications=4, progress=True)\n"
    )
    leader, follower = pty.openpty()  # stderr is a terminal, as in a shell
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm"}
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=follower, stderr=follower, env=env, close_fds=True
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    assert process.wait(timeout=120) == 0
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode(errors="replace"))
    assert "tiny" in text and "4/4 replicates" in text, text


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    work = tmp_path_factory.mktemp("notebook")  # no scenarios/ here: names are shipped ones
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(work)}}
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    return nb


def _outputs(nb: nbformat.NotebookNode, starts: str) -> list:
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(starts)]
    return cell.outputs


def _html(outputs: list) -> str:
    return "".join(o.get("data", {}).get("text/html", "") for o in outputs)


def test_the_notebook_runs_end_to_end(executed: nbformat.NotebookNode) -> None:
    assert not [o for c in executed.cells for o in c.get("outputs", []) if o.output_type == "error"]
    scenario = _html(_outputs(executed, "%matplotlib inline"))
    assert "120 in 6 countries" in scenario
    results = _html(_outputs(executed, "res = simulate("))
    assert "mensi_pilot: 3 replicates x 20 weeks, 120 schools (top_down), seed 1" in results
    assert re.search(r"\d+\.\d% \[\d+\.\d%, \d+\.\d%\]", results)  # mean [CI] of adoption
    assert "formatted" in _html(_outputs(executed, "head = res.headline()"))
    assert "; in /" in _html(_outputs(executed, "folder ="))  # loaded back from its folder
    assert "image/png" in _outputs(executed, "fig = res.plot()")[0]["data"]
    sweep_html = _html(_outputs(executed, "structures = sweep("))
    assert "structures: 5 scenarios, 10 runs x 4 weeks" in sweep_html
    assert "network.structure" in _html(_outputs(executed, "structures.runs"))
    assert "adoption_share" in _html(_outputs(executed, "import mesa"))


def test_the_notebook_shows_progress_bars(executed: nbformat.NotebookNode) -> None:
    # rich draws the bar in an ipywidgets Output; its last state is in the widget state
    state = json.dumps(executed.metadata["widgets"]).replace('\\"', '"')
    done = re.findall(r"(\d+/\d+)</span> (replicates|runs)", state)
    assert ("3/3", "replicates") in done and ("10/10", "runs") in done
