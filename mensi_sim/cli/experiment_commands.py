"""The ``sweep``, ``compare`` and ``sensitivity`` commands of ``mensi-sim``.

``register(app)`` adds them to a typer app (``mensi_sim.cli`` calls it). Errors a
user can cause end as one line ``error: ...`` on stderr with exit code 2; failed
runs end the sweep with exit code 1 after every other run is done and written.
The command's options become one ``SweepOptions`` and go to ``mensi_sim.sweep``.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from mensi_sim.cli.common import (
    EXIT_FAILED,
    DpiOption,
    SizeOption,
    command_line,
    default_out,
    fail,
    figure_options,
    fmt,
    progress_bar,
    simple_table,
    stderr_console,
    stdout_console,
    user_errors,
)
from mensi_sim.outcomes import format_of
from mensi_sim.results import Results
from mensi_sim.scenario.roster import roster_line

if TYPE_CHECKING:
    from mensi_sim.experiments.spec import Experiment
    from mensi_sim.simulate import SweepOptions

MAX_TABLE_ROWS = 40


def _stdout() -> Console:
    """Console on stdout; wide when not a terminal so tables keep one line per row."""
    return stdout_console(width=200)


# options shared by ``sweep`` and ``sensitivity``
OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out",
        "-o",
        help="Results directory (default: results/<name>-<time>).",
        show_default=False,
    ),
]
StepsOption = Annotated[int | None, typer.Option(min=1, help="Weeks, overriding the file.")]


def _write_plots(results: Path, console: Console, figure: dict[str, Any]) -> None:
    """The basic figures that fit the results directory (PNG and SVG), listed in one line;
    ``figure`` holds the dpi and size (``figure_options``)."""
    from mensi_sim.plotting import write_basic_plots

    paths = write_basic_plots(Path(results), **figure)
    if paths:
        names = sorted({p.stem for p in paths})
        console.print(f"plots: {', '.join(names)} (png, svg)", soft_wrap=True)


def summary_table(result: Results) -> Table:
    """Mean [95% CI] of the outcomes of interest per scenario."""
    outcomes = list(result.outcomes)
    head = result.headline()
    runs = result.runs
    table = simple_table("scenario", "runs", *(format_of(o).heading for o in outcomes))
    names = [p.name for p in result.experiment.points]
    for name in names[:MAX_TABLE_ROWS]:
        r = runs[runs["scenario"] == name] if not runs.empty else runs
        bad = int((r["status"] != "ok").sum()) if len(r) else 0
        cells = [f"{len(r) - bad}" + (f" ({bad} failed)" if bad else "")]
        for o in outcomes:
            row = head[(head["scenario"] == name) & (head["outcome"] == o)]
            if row.empty:
                cells.append("n/a")
                continue
            row = row.iloc[0]
            k = format_of(o).kind
            cells.append(
                f"{fmt(row['mean'], k)} [{fmt(row['ci_low'], k)}, {fmt(row['ci_high'], k)}]"
            )
        table.add_row(name, *cells)
    if len(names) > MAX_TABLE_ROWS:
        table.add_row(f"... {len(names) - MAX_TABLE_ROWS} more", *[""] * (len(outcomes) + 1))
    return table


def _sweep(
    ctx: typer.Context,
    experiment: Path | Experiment,
    steps: int | None,
    options: SweepOptions,
) -> tuple[Results, float]:
    """Check the options, run the sweep with a progress bar; its Results and the time taken."""
    from mensi_sim.experiments.spec import (
        OUTCOME_NAMES,
        Experiment,
        check_executor,
        load_experiment,
    )
    from mensi_sim.simulate import sweep

    exp = experiment if isinstance(experiment, Experiment) else load_experiment(experiment)
    if steps is not None:
        exp = exp.with_changes(steps=steps)
    if isinstance(options.executor, str):
        try:
            check_executor(options.executor)
        except ValueError as exc:
            raise fail(f"--executor: {exc}") from None
    outcome = options.outcome
    if outcome is not None and outcome not in OUTCOME_NAMES:
        raise fail(f"--outcome: unknown outcome {outcome!r} (allowed: {', '.join(OUTCOME_NAMES)})")
    if options.precision is not None and not options.precision > 0:
        raise fail(f"--precision: must be > 0, got {options.precision}")
    if options.out is None:
        options = dataclasses.replace(options, out=default_out(exp.name))
    started = time.perf_counter()
    fields = ", {task.fields[failed]} failed,"
    with progress_bar(stderr_console(), f"sweep {exp.name}", "runs", fields) as report:
        result = sweep(exp, options, progress=report, command_line=command_line(ctx))
    return result, time.perf_counter() - started


def _report_failures(result: Results) -> None:
    failed = result.failures
    if failed.empty:
        return
    names = [f"{s}/{r}" for s, r in zip(failed["scenario"], failed["replicate"], strict=True)]
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    last = str(failed["error"].iloc[0]).strip().splitlines()[-1]
    raise fail(
        f"{len(failed)} of {len(result.runs)} runs failed: {shown} (first error: {last}; "
        f"tracebacks in {result.path / 'runs.parquet'})",
        EXIT_FAILED,
    )


def _print_sweep(console: Console, result: Results, elapsed: float) -> None:
    exp = result.experiment
    runs = result.runs
    console.print(
        f"{exp.name}: {len(exp.points)} scenarios, {len(runs)} runs x {exp.steps} weeks, "
        f"root seed {exp.spec.root_seed}, executor {result.manifest['executor']}, {elapsed:.1f} s",
        soft_wrap=True,
    )
    for record in result.manifest.get("rosters") or []:
        console.print(roster_line(record), soft_wrap=True, markup=False)
    console.print(summary_table(result))
    summary = result.summary
    if "weeks_to_half_adoption" in exp.spec.outcomes and "half_adoption_reached" in summary:
        reached = int(summary["half_adoption_reached"].sum())
        console.print(
            f"weeks to 50% adoption are censored at {exp.steps}: reached in {reached} of "
            f"{len(summary)} runs"
        )
    if result.adaptive:
        a = result.manifest["adaptive"]
        console.print(
            f"adaptive replications: 95% CI half-width of {a['outcome']} <= {a['precision']:g} "
            f"(cap {a['max_replications']})"
        )
        t = simple_table("scenario", "replications", "half-width", "reached")
        for name, s in list(result.adaptive.items())[:MAX_TABLE_ROWS]:
            t.add_row(
                name, str(s.replications), f"{s.half_width:.4g}", "yes" if s.reached else "no"
            )
        console.print(t)
    console.print(f"results: {result.path}", soft_wrap=True)


def sweep(
    ctx: typer.Context,
    experiment: Annotated[Path, typer.Argument(help="Experiment file (TOML).", show_default=False)],
    executor: Annotated[
        str | None,
        typer.Option(
            "--executor",
            "-e",
            help="serial, local (process pool), dask (local Dask cluster) or a Dask scheduler "
            "address tcp://host:port (default: the file's, else local).",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (default: the machine's cores).")
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume", help="Continue a sweep in --out: redo only missing or failed runs."
        ),
    ] = False,
    out: OutOption = None,
    replications: Annotated[
        int | None,
        typer.Option(
            "--replications", "-r", min=1, help="Replicates per scenario (default: the file's)."
        ),
    ] = None,
    steps: StepsOption = None,
    precision: Annotated[
        float | None,
        typer.Option(
            help="Adaptive replications: add replicates until "
            "the 95% CI half-width of --outcome is below this for every scenario.",
        ),
    ] = None,
    outcome: Annotated[
        str | None, typer.Option(help="Outcome of --precision (default final_adoption_share).")
    ] = None,
    max_replications: Annotated[
        int | None, typer.Option(min=2, help="Cap of --precision (default 1000).")
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option(min=1, help="Runs per task (default: automatic, at most 16).")
    ] = None,
    dpi: DpiOption = None,
    size: SizeOption = None,
) -> None:
    """Run an experiment: every scenario x replicate, resumable; print a summary table."""
    from mensi_sim.simulate import SweepOptions

    options = SweepOptions(
        executor=executor,
        workers=workers,
        batch=batch_size,
        replications=replications,
        precision=precision,
        outcome=outcome,
        max_replications=max_replications,
        out=out,
        resume=resume,
    )
    figure = figure_options(dpi, size)
    console = _stdout()
    with user_errors():
        result, elapsed = _sweep(ctx, experiment, steps, options)
    _print_sweep(console, result, elapsed)
    _write_plots(result.path, console, figure)
    _report_failures(result)


def _ci(row: pd.Series, prefix: str, kind: str) -> str:
    return (
        f"{fmt(row[prefix], kind)} [{fmt(row[prefix + '_ci_low'], kind)}, "
        f"{fmt(row[prefix + '_ci_high'], kind)}]"
    )


def compare(
    results: Annotated[
        Path, typer.Argument(help="Results directory of a sweep.", show_default=False)
    ],
    baseline: Annotated[
        str | None,
        typer.Option(
            "--baseline",
            "-b",
            help="Scenario to compare against (default: the "
            "experiment's, else one named none/baseline, else the first).",
            show_default=False,
        ),
    ] = None,
    budget: Annotated[
        float | None,
        typer.Option(
            help="Also show what each group achieves at this "
            "budget, EUR (default: the experiment's [budget]).",
            show_default=False,
        ),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            help="Also compare within each country, region or disadvantage band "
            "(country, region, disadvantage); writes group_comparison.parquet.",
            show_default=False,
        ),
    ] = None,
    dpi: DpiOption = None,
    size: SizeOption = None,
) -> None:
    """Paired differences against a baseline, ICERs, dominance and the frontier."""
    figure = figure_options(dpi, size)
    from mensi_sim.analysis import COMPARE_OUTCOMES, at_budget, comparison_table
    from mensi_sim.cli.group_views import check_by, print_group_comparison
    from mensi_sim.errors import ResultsError

    check_by(by)

    console = _stdout()
    with user_errors():
        res = Results.load(results)
    summary, manifest = res.summary, res.manifest
    if budget is not None and not budget > 0:
        raise fail(f"--budget: must be > 0, got {budget}")
    if summary.empty:
        raise fail(f"{results}: no successful runs to compare")
    try:
        baseline = res.baseline_for(baseline)
    except ResultsError as exc:
        raise fail(f"--baseline: {exc}") from None
    names = res.scenarios
    if len(names) < 2:
        raise fail(f"{results}: one scenario only; nothing to compare")
    table = comparison_table(summary, baseline)
    with user_errors():
        res.write_table("comparison", table)

    console.print(
        f"paired differences against {baseline!r} (same replicate, 95% paired-t CI; "
        "* = CI excludes 0)",
        soft_wrap=True,
    )
    t = simple_table("scenario", "pairs", *(format_of(o).heading for o in COMPARE_OUTCOMES))
    by_name = table.set_index("scenario")
    for name in names:
        if name == baseline:
            continue
        r = by_name.loc[name]
        cells = [str(int(r["n_pairs"]))]
        for o in COMPARE_OUTCOMES:
            kind = format_of(o).kind
            k = "dpct" if kind == "pct" else kind
            star = "*" if r[f"{o}_significant"] else ""
            cells.append(
                f"{fmt(r[f'{o}_difference'], k)}{star} "
                f"[{fmt(r[f'{o}_ci_low'], k)}, {fmt(r[f'{o}_ci_high'], k)}]"
            )
        t.add_row(name, *cells)
    console.print(t)
    console.print(
        "cost-effectiveness (adopting schools at the end; ICER = extra EUR per "
        "additional adopting school, Fieller 95% CI), ordered by cost",
        soft_wrap=True,
    )
    t = simple_table(
        "scenario", "mean cost", "Δ adopters [CI]", "ICER [CI]", "vs baseline", "frontier"
    )
    for _, r in table.iterrows():
        if r["scenario"] == baseline:
            icer, dom = "-", "baseline"
        else:
            icer = (
                f"{fmt(r['icer'], 'eur')} [{fmt(r['icer_ci_low'], 'eur')}, "
                f"{fmt(r['icer_ci_high'], 'eur')}]"
            )
            if r["icer_note"].startswith("no difference"):
                icer = "undefined (no difference in adopters)"
            elif not r["icer_note"].startswith("Fieller"):
                icer = f"{fmt(r['icer'], 'eur')} (CI unbounded: Δ adopters CI includes 0)"
            dom = r["dominance"] + (" (significant)" if r["dominance_significant"] else "")
        front = r["frontier"]
        if front.startswith("dominated by") and r["frontier_dominance_significant"]:
            front += " (significant)"
        t.add_row(
            r["scenario"],
            fmt(r["mean_cost"], "eur"),
            _ci(r, "delta_effect", "num1"),
            icer,
            dom,
            front,
        )
    console.print(t)
    budget_spec = manifest.get("budget") or {}
    amount = budget if budget is not None else budget_spec.get("amount")
    if amount:
        ab = at_budget(summary, res.groups, float(amount), baseline)
        with user_errors():
            res.write_table("budget", ab)
        console.print(
            f"at a budget of {fmt(amount, 'eur')} per run (mix of the two sizes "
            "whose mean costs bracket it; difference from the baseline, paired)",
            soft_wrap=True,
        )
        t = simple_table("group", "sizes mixed", "spent", "adopters Δ [CI]", "adoption Δ [CI]")
        for group, part in ab.groupby("group", sort=False):
            first = part.iloc[0]
            mix = (
                first["lower"]
                if first["lower"] == first["upper"]
                else f"{first['lower']} + {first['weight']:.2f} x {first['upper']}"
            )
            rows = part.set_index("outcome")
            a, s = rows.loc["adopters_final"], rows.loc["final_adoption_share"]
            t.add_row(
                str(group),
                mix,
                fmt(first["spent"], "eur"),
                f"{fmt(a['difference'], 'num1')} [{fmt(a['ci_low'], 'num1')}, "
                f"{fmt(a['ci_high'], 'num1')}]",
                f"{fmt(s['difference'], 'dpct')} [{fmt(s['ci_low'], 'dpct')}, "
                f"{fmt(s['ci_high'], 'dpct')}]",
            )
        console.print(t)
    if by is not None:
        written = print_group_comparison(res, by, baseline, console)
        console.print(f"written: {written}", soft_wrap=True)
    console.print(f"written: {Path(results) / 'comparison.parquet'}", soft_wrap=True)
    _write_plots(Path(results), console, figure)


def sensitivity(
    ctx: typer.Context,
    experiment: Annotated[
        Path,
        typer.Argument(
            help="Experiment file with [[factors.samples]] (morris and/or sobol).",
            show_default=False,
        ),
    ],
    executor: Annotated[
        str | None,
        typer.Option(
            "--executor",
            "-e",
            help="serial, local, dask or tcp://host:port (default: the file's).",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the sweep in --out.")] = False,
    out: OutOption = None,
    replications: Annotated[
        int | None,
        typer.Option(
            "--replications", "-r", min=1, help="Replicates per sample point (default: the file's)."
        ),
    ] = None,
    steps: StepsOption = None,
    dpi: DpiOption = None,
    size: SizeOption = None,
) -> None:
    """Morris (mu*, sigma) and Sobol (S1, ST) indices on replicate means, with bootstrap CIs."""
    figure = figure_options(dpi, size)
    from mensi_sim.analysis import experiment_sensitivity
    from mensi_sim.experiments.spec import load_experiment
    from mensi_sim.simulate import SweepOptions

    options = SweepOptions(
        executor=executor, workers=workers, replications=replications, out=out, resume=resume
    )
    console = _stdout()
    with user_errors():
        exp = load_experiment(experiment)
        if not any(s.method in ("morris", "sobol") for s in exp.spec.factors.samples):
            raise fail(f"{experiment}: factors.samples: no morris or sobol sample to analyse")
        result, elapsed = _sweep(ctx, exp, steps, options)
    exp = result.experiment
    table, notes = experiment_sensitivity(exp, result.summary)
    if not table.empty:
        result.write_table("sensitivity", table)
    reps = len(result.runs) // max(1, len(exp.points))
    console.print(
        f"{exp.name}: {len(exp.points)} sample points x {reps} replications, {exp.steps} weeks, "
        f"{elapsed:.1f} s; indices on replicate means, ± = half-width of SALib's 95% bootstrap CI",
        soft_wrap=True,
    )
    for (method, outcome), part in table.groupby(["method", "outcome"], sort=False):
        wide = part.pivot(index="parameter", columns="index", values="value")
        conf = part.pivot(index="parameter", columns="index", values="conf")
        wide = wide.reindex(list(dict.fromkeys(part["parameter"])))
        share = part["noise_share"].iloc[0]
        console.print(
            f"{method} - {outcome} (replicate noise {fmt(share, 'pct')} of the variance "
            "of the means)",
            soft_wrap=True,
        )
        cols = ["mu_star", "sigma"] if method == "morris" else ["S1", "ST"]
        t = simple_table("parameter", *cols)
        for name, row in wide.iterrows():
            cells = []
            for c in cols:
                cf = conf.loc[name, c]
                cells.append(f"{row[c]:.4g}" + ("" if pd.isna(cf) else f" ± {cf:.2g}"))
            t.add_row(str(name), *cells)
        console.print(t)
    for note in notes:
        typer.echo(f"warning: {note}", err=True)
    console.print(f"results: {result.path}", soft_wrap=True)
    _write_plots(result.path, console, figure)
    _report_failures(result)


def register(app: typer.Typer) -> None:
    """Add the ``sweep``, ``compare`` and ``sensitivity`` commands to a typer app."""
    app.command("sweep")(sweep)
    app.command("compare")(compare)
    app.command("sensitivity")(sensitivity)
