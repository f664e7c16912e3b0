"""Which figures a results directory supports, and writing them.

``plan_figures`` looks at what a results directory holds and lists the figures
that fit it: time series for any run or sweep; the cost-effectiveness plane and
paired differences when there are several scenarios (from ``comparison.parquet``
if ``mensi-sim compare`` wrote it, else computed from the summary); Morris and
Sobol charts when ``sensitivity.parquet`` exists; the network pictures when the
run can be re-created from the manifest. ``write_plots`` saves them (PNG and SVG);
``write_basic_plots`` saves the quick ones (no re-run), for ``run`` and ``sweep``.
The report embeds the same figures.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from mensi_sim.errors import ResultsError
from mensi_sim.plotting.common import MAX_SCENARIOS, figure_size, save_figure

COMPARISON_NAME = "comparison.parquet"
SENSITIVITY_NAME = "sensitivity.parquet"
DEFAULT_FORMATS = ("png", "svg")


@dataclass
class ResultsBundle:
    """Everything a results directory holds that a figure or the report may use.

    Attributes:
        path: The results directory.
        timeseries, summary, runs: The three tables (``read_results``).
        manifest: ``manifest.json``.
        comparison: ``comparison.parquet``, or computed from the summary when there are
            several named scenarios (None otherwise).
        comparison_source: ``"file"``, ``"computed"`` or ``""``.
        sensitivity: ``sensitivity.parquet`` or None.
        notes: Why something could not be used (one line each).
    """

    path: Path
    timeseries: pd.DataFrame
    summary: pd.DataFrame
    runs: pd.DataFrame
    manifest: dict[str, Any]
    comparison: pd.DataFrame | None = None
    comparison_source: str = ""
    sensitivity: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def is_sweep(self) -> bool:
        return self.manifest.get("kind") == "experiment"

    @property
    def is_sample_design(self) -> bool:
        """A sweep over sampled parameter points (Morris, Sobol, LHS)."""
        return any(e.get("sample") for e in self.manifest.get("scenarios", []))

    @property
    def scenarios(self) -> list[str]:
        frame = self.summary if not self.summary.empty else self.runs
        if frame.empty or "scenario" not in frame.columns:
            return []
        return list(dict.fromkeys(frame["scenario"].astype(str)))

    @property
    def baseline(self) -> str | None:
        if self.comparison is not None and "baseline" in self.comparison.columns:
            return str(self.comparison["baseline"].iloc[0])
        names = self.scenarios
        if not names:
            return None
        wanted = self.manifest.get("baseline")
        if wanted in names:
            return str(wanted)
        from mensi_sim.experiments.compare import default_baseline

        return default_baseline(names)


def _read_optional(path: Path, notes: list[str]) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is only skipped, with a note
        notes.append(f"{path.name}: cannot read ({' '.join(str(exc).split())}); skipped")
        return None


def load_results(results_dir: str | Path) -> ResultsBundle:
    """Read a results directory with its optional comparison and sensitivity tables.

    Raises:
        ResultsError: Not a results directory (see ``read_results``).
    """
    from mensi_sim.results import read_results

    d = Path(results_dir)
    data = read_results(d)
    notes: list[str] = []
    bundle = ResultsBundle(
        path=d,
        timeseries=data["timeseries"],
        summary=data["summary"],
        runs=data["runs"],
        manifest=data["manifest"],
        sensitivity=_read_optional(d / SENSITIVITY_NAME, notes),
        notes=notes,
    )
    comparison = _read_optional(d / COMPARISON_NAME, notes)
    if comparison is not None and not comparison.empty:
        bundle.comparison, bundle.comparison_source = comparison, "file"
    elif len(bundle.scenarios) > 1 and not bundle.is_sample_design:
        bundle.comparison = _computed_comparison(bundle)
        bundle.comparison_source = "computed" if bundle.comparison is not None else ""
    return bundle


def _computed_comparison(bundle: ResultsBundle) -> pd.DataFrame | None:
    """comparison_table of the summary against the baseline, or None (with a note)."""
    from mensi_sim.experiments.compare import comparison_table

    summary = bundle.summary
    baseline = bundle.baseline
    if baseline is None or summary["replicate"].nunique() < 2:
        bundle.notes.append("comparison: fewer than 2 replicates; no paired intervals")
        return None
    try:
        return comparison_table(summary, baseline)
    except (KeyError, ValueError, ZeroDivisionError) as exc:
        bundle.notes.append(f"comparison: cannot compute ({' '.join(str(exc).split())})")
        return None


@dataclass(frozen=True)
class FigureSpec:
    """A figure a results directory supports: file stem, title, caption and how to draw it."""

    name: str
    title: str
    caption: str
    make: Callable[[], Figure]
    group: str  # outcomes, comparison, network, sensitivity
    basic: bool = True  # drawn by run/sweep (no re-run of the model needed)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "x"


def plan_figures(
    bundle: ResultsBundle,
    *,
    network: bool = True,
    network_scenario: str | None = None,
    weeks: Sequence[int] | None = None,
    replicate: int = 0,
) -> list[FigureSpec]:
    """The figures that fit the results, in report order; reasons for the others go to notes.

    Args:
        bundle: ``load_results(...)``.
        network: Include the network pictures (they re-run one replicate).
        network_scenario: Scenario to picture (default: see ``default_replay_name``).
        weeks: Weeks of the small-multiples strip (default: five, evenly spread).
        replicate: Replicate to re-create for the network pictures.
    """
    from mensi_sim.plotting import comparison as cmp
    from mensi_sim.plotting import sensitivity as sens
    from mensi_sim.plotting import timeseries as tsp

    specs: list[FigureSpec] = []
    ts = bundle.timeseries
    baseline = bundle.baseline
    ensemble = bundle.is_sample_design
    n_names = len(bundle.scenarios)
    many = f" Showing {MAX_SCENARIOS} of {n_names} scenarios." if n_names > MAX_SCENARIOS else ""
    band = (
        "Lines are means over replicates, shaded bands 95% confidence intervals."
        if not ensemble
        else "The line is the median over sampled parameter points (each the mean of its "
        "replicates), the band holds 90% of the points."
    )
    if ts.empty or "step" not in ts.columns:
        bundle.notes.append("timeseries.parquet is empty: no curves over weeks")
    else:
        kw = {"baseline": baseline, "ensemble": ensemble}
        if not ensemble and n_names <= MAX_SCENARIOS:
            specs.append(
                FigureSpec(
                    "adoption_cost",
                    "Adoption and cost at a glance",
                    "Left: share of all schools that have adopted the practice, by week. Right: "
                    "cumulative cost by category (EUR, mean over replicates). " + band,
                    lambda: tsp.plot_adoption_and_cost(ts),
                    "outcomes",
                )
            )
        specs += [
            FigureSpec(
                "adoption",
                "Adoption over the school year",
                "Share of schools that have mainstreamed the innovative digital practice, by "
                "week: all schools (left), and inside and outside the mentoring network "
                "(right). " + band + many,
                lambda: tsp.plot_adoption_curves(ts, **kw),
                "outcomes",
            ),
            FigureSpec(
                "capacity_equity",
                "Capacity and the equity gap",
                "Mean capacity for digital innovation on the 0-1 scale (SELFIE-style score "
                "1 + 4c on the right axis), and the gap between the mean capacity of other "
                "schools and of schools with many disadvantaged students. " + band + many,
                lambda: tsp.plot_capacity_equity(ts, **kw),
                "outcomes",
            ),
            FigureSpec(
                "cost_over_time",
                "Cost over time by category",
                "Cumulative cost by category (EUR, mean over replicates), stacked: travel, "
                "staff time, online platform, coordination, training and incentives."
                + (
                    " Median and 90% band of the total cost over sampled points."
                    if ensemble
                    else many
                ),
                lambda: tsp.plot_cost_over_time(ts, **kw),
                "outcomes",
            ),
        ]
    table = bundle.comparison
    if table is not None and len(table) > 1:
        source = (
            "from comparison.parquet"
            if bundle.comparison_source == "file"
            else "computed from the summary"
        )
        specs += [
            FigureSpec(
                "cost_effectiveness",
                "Cost-effectiveness plane",
                "Each scheme's extra cost against its extra adopting schools, both as mean "
                "paired differences from the baseline (same seeds per replicate) with 95% "
                "confidence intervals. The line joins the cost-effectiveness frontier; crosses "
                f"mark dominated schemes ({source}).",
                lambda: cmp.plot_cost_effectiveness(table),
                "comparison",
            ),
            FigureSpec(
                "paired_differences",
                "Differences from the baseline",
                "Mean paired difference of each outcome from the baseline with its 95% "
                "confidence interval; a filled dot means the interval excludes zero.",
                lambda: cmp.plot_paired_differences(table),
                "comparison",
            ),
        ]
    if bundle.sensitivity is not None and not bundle.sensitivity.empty:
        sv = bundle.sensitivity
        for (method, outcome), _ in sv.groupby(["method", "outcome"], sort=False):
            if method == "morris":
                specs.append(
                    FigureSpec(
                        f"morris_{_slug(outcome)}",
                        f"Morris screening: {outcome}",
                        "mu*: mean absolute change of the outcome when the parameter moves across "
                        "its range (importance); sigma: spread of those changes (non-linearity or "
                        "interactions). Error bars: 95% bootstrap intervals.",
                        lambda o=outcome: sens.plot_morris(sv, o),
                        "sensitivity",
                    )
                )
            elif method == "sobol":
                specs.append(
                    FigureSpec(
                        f"sobol_{_slug(outcome)}",
                        f"Sobol indices: {outcome}",
                        "Share of the outcome's variance due to each parameter alone (S1) and "
                        "with its interactions (ST). Error bars: 95% bootstrap intervals.",
                        lambda o=outcome: sens.plot_sobol(sv, o),
                        "sensitivity",
                    )
                )
    if network:
        specs += _network_specs(bundle, network_scenario, weeks, replicate)
    return specs


def _network_specs(
    bundle: ResultsBundle, name: str | None, weeks: Sequence[int] | None, replicate: int
) -> list[FigureSpec]:
    from mensi_sim.plotting import network as net
    from mensi_sim.plotting.replay import replay_source
    from mensi_sim.seeds import replicate_seed

    try:
        source = replay_source(bundle.manifest, name)
    except ResultsError as exc:
        bundle.notes.append(f"network pictures skipped: {exc}")
        return []
    steps = source.scenario.time.steps
    wanted = list(weeks) if weeks else net.default_weeks(steps)
    cache: dict[str, list] = {}

    def shots() -> list:
        if "shots" not in cache:
            seed = replicate_seed(source.root_seed, replicate)
            cache["shots"] = net.replay_snapshots(
                source.scenario, seed, sorted({*wanted, steps}), label=source.name
            )
        return cache["shots"]

    def final():
        return net.plot_network(shots()[-1], colour_by="capacity")

    def strip():
        return net.plot_network_strip([s for s in shots() if s.week in set(wanted)])

    who = f"Scenario {source.name}, replicate {replicate} re-run from the manifest's seed."
    return [
        FigureSpec(
            "network",
            f"The network at the end: {source.name}",
            "Schools at their location (km); stars are mentor schools, circles mentees, "
            "small circles schools outside the network. Colour: capacity; a black ring: the "
            "school has adopted. Ties coloured by kind, dashed when online. " + who,
            final,
            "network",
            basic=False,
        ),
        FigureSpec(
            "network_weeks",
            f"The network over the run: {source.name}",
            "The same network at several weeks; vermillion schools have adopted. " + who,
            strip,
            "network",
            basic=False,
        ),
    ]


def write_plots(
    results_dir: str | Path,
    *,
    formats: Sequence[str] = DEFAULT_FORMATS,
    out_dir: str | Path | None = None,
    network: bool = True,
    network_scenario: str | None = None,
    weeks: Sequence[int] | None = None,
    basic_only: bool = False,
    progress: Callable[[str], None] | None = None,
    dpi: float | None = None,
    size: tuple[float, float] | None = None,
) -> tuple[list[Path], list[str]]:
    """Draw every figure that fits a results directory and save it in each format.

    Args:
        results_dir: A results directory of ``run``, ``sweep``, ``compare`` or
            ``sensitivity``.
        formats: File formats (``png``, ``svg``, ``pdf``, ...).
        out_dir: Where to write (default: the results directory).
        network, network_scenario, weeks: See ``plan_figures``.
        basic_only: Only the figures that need no re-run of the model.
        progress: Called with each figure's name before it is drawn.
        dpi: Dots per inch of raster files (default 100).
        size: (width, height) in inches of every figure (default: each figure's own).

    Returns:
        (paths written, notes on what was skipped and why).

    Raises:
        ResultsError: Not a results directory.
    """
    bundle = load_results(results_dir)
    out = Path(out_dir) if out_dir is not None else Path(results_dir)
    out.mkdir(parents=True, exist_ok=True)
    specs = plan_figures(
        bundle, network=network and not basic_only, network_scenario=network_scenario, weeks=weeks
    )
    written: list[Path] = []
    for spec in specs:
        if basic_only and not spec.basic:
            continue
        if progress is not None:
            progress(spec.name)
        try:
            with figure_size(size):
                fig = spec.make()
        except (ValueError, ResultsError) as exc:
            bundle.notes.append(f"{spec.name}: skipped ({' '.join(str(exc).split())})")
            continue
        written += save_figure(fig, out / spec.name, formats, dpi=dpi)
    return written, bundle.notes


def write_basic_plots(
    results_dir: str | Path,
    formats: Sequence[str] = DEFAULT_FORMATS,
    *,
    dpi: float | None = None,
    size: tuple[float, float] | None = None,
) -> list[Path]:
    """The figures ``run`` and ``sweep`` write by default (no re-run of the model).

    Adoption, capacity and equity, cost over time; the cost-effectiveness plane and
    paired differences when there are several scenarios; Morris/Sobol charts when
    ``sensitivity.parquet`` exists. Each file is written atomically into the
    results directory; ``dpi`` and ``size`` as in ``write_plots``.

    Returns:
        The paths written.
    """
    written, _ = write_plots(results_dir, formats=formats, basic_only=True, dpi=dpi, size=size)
    return written
