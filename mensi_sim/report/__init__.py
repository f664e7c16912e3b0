"""``report.html``: one self-contained page describing a results directory.

    from mensi_sim.report import write_report
    write_report("results/structures")        # -> results/structures/report.html

The page holds what was run (scenarios, the roster the schools came from and what was
drawn, assumptions with their sources, provenance from the manifest), the headline
outcomes and paired comparisons with 95% intervals, the cost-effectiveness ranking, the
outcomes by country with the cross-country comparison, the sensitivity indices and
every figure that fits the results. Images are embedded as ``data:`` URIs and
the style sheet is inline: the file opens anywhere, offline, and can be mailed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from mensi_sim.errors import ResultsError
from mensi_sim.files import nearest_existing
from mensi_sim.plotting.collect import as_results, plan_figures
from mensi_sim.report import comparisons, groups, sections
from mensi_sim.report.html import esc, page, write_page
from mensi_sim.results import Results

REPORT_NAME = "report.html"
SECTIONS = (
    ("summary", "In brief"),
    ("what-was-run", "What was run"),
    ("assumptions", "Assumptions"),
    ("results", "Results"),
    ("figures", "Figures"),
    ("comparison", "Comparison with the baseline"),
    ("cost-effectiveness", "Cost-effectiveness ranking"),
    ("by-country", "By country"),
    ("exchange", "Cross-country comparison"),
    ("uncertainty", "Decision under uncertainty"),
    ("sensitivity", "Sensitivity"),
    ("provenance", "Provenance"),
    ("reading", "How to read this report"),
)


def build_report(
    results: Results | str | Path,
    *,
    network: bool = True,
    network_scenario: str | None = None,
    weeks: Sequence[int] | None = None,
    progress: Callable[[str], None] | None = None,
) -> str:
    """The report of a results directory as one HTML document (a string).

    Args:
        results: A results directory (``run``, ``sweep``, ``compare``, ``sensitivity``)
            or its ``Results``.
        network: Include the network pictures (re-runs one replicate).
        network_scenario: Scenario to picture (default: the first scheme that is not the
            baseline).
        weeks: Weeks of the network strip (default: five, evenly spread).
        progress: Called with the name of each section as it is built.

    Raises:
        ResultsError: Not a results directory.
    """
    res = as_results(results)
    specs = plan_figures(res, network=network, network_scenario=network_scenario, weeks=weeks)

    def group(*names: str) -> str:
        if progress is not None:
            progress("figures: " + ", ".join(names))
        return comparisons.figures_html([s for s in specs if s.group in names], res)

    body: dict[str, str] = {}
    body["figures"] = group("outcomes", "network") or "<p class='muted'>No figure fits.</p>"
    body["comparison"] = comparisons.comparison(res, "" if res.is_psa else group("comparison"))
    body["uncertainty"] = comparisons.uncertainty(res, group("comparison") if res.is_psa else "")
    body["sensitivity"] = comparisons.sensitivity(res, group("sensitivity"))
    body["by-country"] = groups.by_country(res, group("groups"))
    body["exchange"] = groups.exchange(res)
    body["summary"] = sections.in_brief(res)
    body["what-was-run"] = sections.what_was_run(res) + groups.roster_paragraph(res)
    body["assumptions"] = sections.assumptions(res)
    body["results"] = sections.results(res)
    body["cost-effectiveness"] = comparisons.cost_effectiveness(res)
    body["provenance"] = sections.provenance(res)
    body["reading"] = comparisons.reading_notes(res)  # last: it lists what was left out
    m = res.manifest
    title = (
        f"mensi_sim report: {m.get('experiment')}"
        if res.is_sweep
        else f"mensi_sim report: {m.get('scenario')}"
    )
    subtitle = (
        "School-to-school mentoring networks: spread, equity and cost of digital "
        "innovation practice (agent-based simulation)"
    )
    made = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    footer = (
        f"Made by mensi_sim {esc((m.get('versions') or {}).get('mensi_sim', ''))} on "
        f"{made} from {esc(res.path if res.path is not None else 'memory')}."
    )
    return page(title, subtitle, [(a, t, body[a]) for a, t in SECTIONS], footer)


def write_report(
    results: Results | str | Path,
    out: str | Path | None = None,
    **options,
) -> Path:
    """Write ``report.html`` (default: into the results directory), atomically.

    The page is written to a hidden temporary sibling and renamed into place, so a
    reader never sees half a report. ``options`` go to ``build_report``.

    Returns:
        The path written.
    """
    res = as_results(results)
    if out is None and res.path is None:
        raise ResultsError("write_report: the results are not in a folder; give out")
    target = Path(out) if out is not None else Path(res.path) / REPORT_NAME
    if target.is_dir():  # --out . or another folder: the report goes into it
        target = target / REPORT_NAME
    check_writable(target)
    text = build_report(res, **options)
    target.parent.mkdir(parents=True, exist_ok=True)
    return write_page(text, target)


def check_writable(target: Path) -> None:
    """ResultsError naming the folder when the report cannot be written there."""
    folder = nearest_existing(target.parent)
    if not folder.is_dir():
        raise ResultsError(f"{target}: cannot write: {folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ResultsError(f"{target}: cannot write: the folder {folder} is not writable")


__all__ = ["REPORT_NAME", "SECTIONS", "build_report", "write_report"]
