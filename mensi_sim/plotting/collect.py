"""Which figures a results directory supports, and writing them.

``plan_figures`` looks at what a ``Results`` holds and lists the figures that fit
it: time series for any run or sweep; the cost-effectiveness plane and paired
differences when there are several scenarios (``Results.try_comparison``: the
stored ``comparison.parquet`` if ``mensi-sim compare`` wrote it, else computed once
from the summary); Morris and Sobol charts when ``sensitivity.parquet`` exists;
the network pictures when the run can be re-created from the manifest
(``Results.model``). ``write_plots`` saves them (PNG and SVG); ``write_basic_plots``
saves the quick ones (no re-run), for ``run`` and ``sweep``. The report embeds the
same figures.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from mensi_sim.errors import ResultsError
from mensi_sim.experiments.marker import add_written
from mensi_sim.plotting.common import MAX_SCENARIOS, figure_notes, figure_size, save_figure
from mensi_sim.results import Results

DEFAULT_FORMATS = ("png", "svg")


def as_results(results: Results | str | Path) -> Results:
    """A Results as given, or read from its folder (``Results.load``)."""
    return results if isinstance(results, Results) else Results.load(results)


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
    results: Results,
    *,
    network: bool = True,
    network_scenario: str | None = None,
    weeks: Sequence[int] | None = None,
    replicate: int = 0,
) -> list[FigureSpec]:
    """The figures that fit the results, in report order; reasons for the others go to notes.

    Args:
        results: The results (``Results.load(folder)``).
        network: Include the network pictures (they re-run one replicate).
        network_scenario: Scenario to picture (default: see ``default_replay_name``).
        weeks: Weeks of the small-multiples strip (default: five, evenly spread).
        replicate: Replicate to re-create for the network pictures.
    """
    from mensi_sim.plotting import comparison as cmp
    from mensi_sim.plotting import sensitivity as sens
    from mensi_sim.plotting import timeseries as tsp

    specs: list[FigureSpec] = []
    table = results.try_comparison()  # first: its note (if any) comes before the others
    ts = results.timeseries
    baseline = results.baseline
    ensemble = results.is_sample_design
    n_names = len(results.scenarios)
    many = f" Showing {MAX_SCENARIOS} of {n_names} scenarios." if n_names > MAX_SCENARIOS else ""
    band = (
        "Lines are means over replicates, shaded bands 95% confidence intervals."
        if not ensemble
        else "The line is the median over sampled parameter points (each the mean of its "
        "replicates), the band holds 90% of the points."
    )
    if results.is_psa:
        specs += _psa_specs(results)
    elif ts.empty or "step" not in ts.columns:
        results.notes.append("timeseries.parquet is empty: no curves over weeks")
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
    if table is not None and len(table) > 1:
        source = (
            "from comparison.parquet"
            if results.comparison_source == "file"
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
    specs += _group_specs(results, table)
    sv = results.tables.get("sensitivity")
    if sv is not None and not sv.empty:
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
        specs += _network_specs(results, network_scenario, weeks, replicate)
    return specs


def _group_specs(results: Results, table) -> list[FigureSpec]:  # noqa: ANN001 - or None
    """The small multiples by country, when the results hold several countries."""
    from mensi_sim.plotting import groups as grp

    gs = results.group_summary
    if results.is_sample_design or gs.empty or "by" not in gs.columns:
        return []
    countries = gs.loc[gs["by"] == "country", "group"].nunique()
    if countries < 2:
        return []
    specs = [
        FigureSpec(
            "by_country",
            "Adoption by country",
            "Share of each country's schools that have adopted the practice at the horizon: "
            "mean over replicates with its 95% interval, one panel per country on one scale.",
            lambda: grp.plot_group_outcome(gs, "country", "final_adoption_share"),
            "groups",
            basic=False,
        )
    ]
    if table is not None and len(table) > 1:
        specs += [
            FigureSpec(
                f"by_country_{name}",
                f"Difference from the baseline by country: {title}",
                f"Paired difference of {what} from the baseline within each country (its "
                "schools; the costs booked to them), with its 95% interval; a filled dot means "
                "the interval excludes zero.",
                lambda o=outcome: grp.plot_group_differences(
                    results.group_comparison("country"), o
                ),
                "groups",
                basic=False,
            )
            for name, outcome, title, what in (
                ("adoption", "final_adoption_share", "adoption", "the adoption share"),
                ("cost", "total_cost", "total cost", "the total cost (cash and staff time)"),
            )
        ]
    return specs


def _psa_specs(results: Results) -> list[FigureSpec]:
    """A PSA's figures: the acceptability curves with the frontier, and EVPPI (when
    ``mensi-sim compare`` has written ceac.parquet and evppi.parquet)."""
    from mensi_sim.plotting.uncertainty import plot_ceac

    curve, vi = results.tables.get("ceac"), results.tables.get("evppi")
    if curve is None or curve.empty:
        results.notes.append("a PSA: run mensi-sim compare for its acceptability curves")
        return []
    return [
        FigureSpec(
            "ceac",
            "Acceptability curves and the value of information",
            "Left: for each willingness to pay per additional adopting school, the share of "
            "parameter draws in which each option has the largest net benefit (thick: the "
            "option with the largest expected net benefit, the acceptability frontier; dotted: "
            "0.95, the probability needed to call an option better). Right: the expected value "
            "of resolving each group of uncertain parameters (EVPPI, per run of the scenario).",
            lambda: plot_ceac(curve, vi),
            "comparison",
        )
    ]


def _network_specs(
    results: Results, name: str | None, weeks: Sequence[int] | None, replicate: int
) -> list[FigureSpec]:
    from mensi_sim.plotting import network as net

    try:
        source = results.replay_source(name)
    except ResultsError as exc:
        results.notes.append(f"network pictures skipped: {exc}")
        return []
    steps = source.scenario.time.steps
    wanted = list(weeks) if weeks else net.default_weeks(steps)
    cache: dict[str, list] = {}

    def shots() -> list:
        if "shots" not in cache:
            cache["shots"] = net.replay_snapshots(
                results, sorted({*wanted, steps}), name=source.name, replicate=replicate
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
    results: Results | str | Path,
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
    workers: int | None = None,
) -> tuple[list[Path], list[str]]:
    """Draw every figure that fits a results directory and save it in each format.

    Args:
        results: A results directory of ``run``, ``sweep``, ``compare`` or
            ``sensitivity`` (or its ``Results``).
        formats: File formats (``png``, ``svg``, ``pdf``, ...).
        out_dir: Where to write (default: the results directory).
        network, network_scenario, weeks: See ``plan_figures``.
        basic_only: Only the figures that need no re-run of the model.
        progress: Called with each figure's name before it is drawn.
        dpi: Dots per inch of raster files (default 100).
        size: (width, height) in inches of every figure (default: each figure's own).
        workers: Figures drawn at once, each in a process forked from this one (default:
            the machine's cores; 1, or a process that may not fork, draws them here).

    Returns:
        (paths written, notes on what was skipped and why).

    Raises:
        ResultsError: Not a results directory.
    """
    res = as_results(results)
    if out_dir is None and res.path is None:
        raise ResultsError("write_plots: the results are not in a folder; give out_dir")
    out = Path(out_dir) if out_dir is not None else Path(res.path)
    out.mkdir(parents=True, exist_ok=True)
    specs = plan_figures(
        res, network=network and not basic_only, network_scenario=network_scenario, weeks=weeks
    )
    specs = [spec for spec in specs if spec.basic or not basic_only]
    drawn = _draw_all(specs, out, tuple(formats), dpi, size, progress, workers)
    written: list[Path] = []
    for paths, notes in drawn:
        written += paths
        res.notes += notes
    add_written(out, written)  # the figures are mensi_sim's in its results folder's mark
    return written, res.notes


#: what one figure gave: the files written, or none and why it was skipped, and the notes
#: the figure recorded on itself (``common.add_note``: drawn larger than asked, say)
Drawn = tuple[list[Path], list[str]]


def _draw(
    spec: FigureSpec,
    out: Path,
    formats: tuple[str, ...],
    dpi: float | None,
    size: tuple[float, float] | None,
) -> Drawn:
    """Draw one figure and save it in each format (a figure the data cannot give is skipped
    with a note)."""
    try:
        with figure_size(size):
            fig = spec.make()
    except (ValueError, ResultsError) as exc:
        return [], [f"{spec.name}: skipped ({' '.join(str(exc).split())})"]
    notes = [f"{spec.name}: {note}" for note in figure_notes(fig)]
    return save_figure(fig, out / spec.name, formats, dpi=dpi), notes


#: the figures a forked drawing worker draws, by their index: set just before the pool
#: forks, so that the workers inherit them (their closures over the loaded tables could
#: not be pickled, and the tables need not be read again)
_FORKED: list[FigureSpec] = []


def _draw_forked(index: int, *args: Any) -> Drawn:
    return _draw(_FORKED[index], *args)


def _draw_all(
    specs: list[FigureSpec],
    out: Path,
    formats: tuple[str, ...],
    dpi: float | None,
    size: tuple[float, float] | None,
    progress: Callable[[str], None] | None,
    workers: int | None,
) -> list[Drawn]:
    """Every figure drawn, in order: several at once in processes forked from this one
    where it may fork (``execution.start_method``; a sweep's four figures in about half
    the time on two cores), else one after the other. The network pictures share one
    re-run of the model, so they are drawn here, after the others."""
    from mensi_sim.experiments.execution import available_cores, forked_pool, start_method

    apart = [i for i, spec in enumerate(specs) if spec.group != "network"]
    n = min(len(apart), workers or available_cores())
    if n < 2 or start_method() != "fork":
        apart = []
    args = (out, formats, dpi, size)
    drawn: dict[int, Drawn] = {}
    if apart:
        _FORKED[:] = specs
        try:
            with forked_pool(n) as pool:
                futures = {}
                for i in apart:
                    if progress is not None:
                        progress(specs[i].name)
                    futures[i] = pool.submit(_draw_forked, i, *args)
                drawn = {i: future.result() for i, future in futures.items()}
        finally:
            _FORKED.clear()
    for i, spec in enumerate(specs):
        if i not in drawn:
            if progress is not None:
                progress(spec.name)
            drawn[i] = _draw(spec, *args)
    return [drawn[i] for i in range(len(specs))]


def write_basic_plots(
    results: Results | str | Path,
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
    written, _ = write_plots(results, formats=formats, basic_only=True, dpi=dpi, size=size)
    return written
