"""The ``sweep``, ``compare`` and ``sensitivity`` commands of ``mensi-sim``.

``register(app)`` adds them to a typer app (``mensi_sim.cli`` calls it). Errors a
user can cause end as one line ``error: ...`` on stderr with exit code 2; failed
runs end the sweep with exit code 1 after every other run is done and written.
The command's options become one ``SweepOptions`` and go to ``mensi_sim.sweep``.
"""

from __future__ import annotations

import dataclasses
import math
import shlex
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mensi_sim.cli.common import (
    EXIT_FAILED,
    DpiOption,
    ExecutorOption,
    SizeOption,
    WorkersOption,
    at_the_horizon,
    command_line,
    default_out,
    error_line,
    fail,
    figure_options,
    fmt,
    progress_bar,
    simple_table,
    stderr_console,
    stdout_console,
    user_errors,
)
from mensi_sim.cli.guard import Interrupted
from mensi_sim.outcomes import CENSORED_FLAG, CENSORED_OUTCOME, format_of
from mensi_sim.plausibility import notes_by_scenario
from mensi_sim.results import Results
from mensi_sim.results.display import censoring_note
from mensi_sim.scenario.roster import roster_line

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mensi_sim.experiments.spec import Experiment
    from mensi_sim.simulate import SweepOptions

MAX_TABLE_ROWS = 40


def _heading(outcome: str) -> str:
    """An outcome's column heading in words: its ``format_of`` heading, or for an outcome
    without one (``cost_incentives``) its cost category's label ("incentives cost") or its
    name with spaces."""
    from mensi_sim.outcomes import COST_LABELS, cost_label

    heading = format_of(outcome).heading
    if heading != outcome:
        return heading
    category = outcome.removeprefix("cost_")
    if outcome.startswith("cost_") and category in COST_LABELS:
        return f"{cost_label(category).lower()} cost"
    return outcome.replace("_", " ")


def _shipped_experiments() -> str:
    """The names of the shipped experiments (the experiments folder), for the help."""
    from mensi_sim import shipped

    return ", ".join(shipped.names("experiments")) or "none found"


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


PlotsOption = Annotated[
    bool,
    typer.Option(
        "--plots/--no-plots",
        help="Also write the basic figures (PNG and SVG; implied by --dpi or --size). "
        "Without it the sweep draws nothing: `mensi-sim plot DIR` writes them any time.",
    ),
]


def _wants_plots(plots: bool, dpi: float | None, size: str | None) -> bool:
    """Plots were asked for: ``--plots``, or a figure option that only plots use."""
    return plots or dpi is not None or size is not None


def _write_plots(results: Path | Results, console: Console, figure: dict[str, Any]) -> None:
    """The basic figures that fit the results (PNG and SVG), written into its directory and
    listed in one line; ``figure`` holds the dpi and size (``figure_options``). matplotlib
    is imported here, when a figure is written."""
    from mensi_sim.plotting import write_basic_plots

    paths = write_basic_plots(results, **figure)
    if paths:
        names = sorted({p.stem for p in paths})
        console.print(f"plots: {', '.join(names)} (png, svg)", soft_wrap=True)


def psa_summary_table(result: Results) -> Table:
    """A PSA: per option, the mean of each outcome over the draws and the range holding 95%
    of the draws (each draw the mean of its replicates): parameter uncertainty."""
    outcomes = list(result.outcomes)
    s = result.summary.merge(result.psa_design(), on="scenario")
    per_draw = s.groupby(["option", "draw"], sort=False)[outcomes].mean().reset_index()
    table = simple_table("option", "draws", *(_heading(o) for o in outcomes))
    for option, part in per_draw.groupby("option", sort=False):
        cells = [str(len(part))]
        for o in outcomes:
            k = format_of(o).kind
            v = part[o].to_numpy(float)
            lo, hi = np.percentile(v, [2.5, 97.5])
            cells.append(f"{fmt(v.mean(), k)} [{fmt(lo, k)}, {fmt(hi, k)}]")
        table.add_row(str(option), *cells)
    return table


def summary_table(result: Results) -> Table:
    """Mean [95% CI] of the outcomes of interest per scenario (a PSA: per option, the mean
    and 95% range over the draws)."""
    if result.is_psa:
        return psa_summary_table(result)
    outcomes = list(result.outcomes)
    head = result.headline()
    runs = result.runs
    table = simple_table("scenario", "runs", *(_heading(o) for o in outcomes))
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
            cells.append(row["formatted"].iloc[0])  # mean [95% CI]; the mean alone from one run
        table.add_row(name, *cells)
    if len(names) > MAX_TABLE_ROWS:
        table.add_row(f"... {len(names) - MAX_TABLE_ROWS} more", *[""] * (len(outcomes) + 1))
    return table


#: what drawing a sweep's figures imports (scipy.special: the t quantile of the bands;
#: imported here, not again in each process that draws)
FIGURE_MODULES = (
    "mensi_sim.plotting",
    "mensi_sim.plotting.timeseries",
    "mensi_sim.plotting.comparison",
    "mensi_sim.plotting.sensitivity",
    "scipy.special",
    "textalloc",
)


def _sweep(
    ctx: typer.Context,
    experiment: Path | Experiment,
    steps: int | None,
    options: SweepOptions,
    *,
    meanwhile: bool = False,
) -> tuple[Results, float]:
    """Check the options, run the sweep with a progress bar; its Results and the time taken.

    ``meanwhile``: the figures will be drawn, so their modules (matplotlib, 0.4 s) are
    imported while a local pool computes the runs (``runner.import_meanwhile``)."""
    from mensi_sim.experiments.execution import ExecutorHandle, started_first
    from mensi_sim.experiments.runner import import_meanwhile
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
    if options.precision is not None and not 0 < options.precision < math.inf:
        raise fail(f"--precision: must be a finite number > 0, got {options.precision}")
    if options.out is None:
        options = dataclasses.replace(options, out=default_out(exp.name))
    started = time.perf_counter()
    fields = ", {task.fields[failed]} failed,"
    typed = command_line(ctx)
    executor = options.executor if options.executor is not None else exp.spec.executor
    try:
        # a local pool is made before the progress bar's thread starts: it forks its workers
        with started_first(executor, options.workers) as executor:
            options = dataclasses.replace(options, executor=executor)
            imports = (
                import_meanwhile(FIGURE_MODULES)
                if meanwhile and isinstance(executor, ExecutorHandle) and executor.forks_workers
                else None
            )
            with progress_bar(stderr_console(), f"sweep {exp.name}", "runs", fields) as report:
                result = sweep(exp, options, progress=report, command_line=typed)
            if imports is not None:  # before the figures fork their own workers
                imports.join()
    except (KeyboardInterrupt, Interrupted) as stop:
        raise Interrupted.saying(stop, _interrupted(Path(options.out), typed)) from None
    for note in result.notes:  # what a resume found (damaged batch folders redone)
        typer.echo(f"note: {error_line(note)}", err=True)
    return result, time.perf_counter() - started


def _interrupted(out: Path, typed: list[str]) -> str:
    """Ctrl-C or SIGTERM during a sweep: what is kept and the command that continues it
    (the guard prints it as the one line and exits 128 + the signal)."""
    from mensi_sim.experiments import runstore

    saved = len(runstore.winning_runs(runstore.read_runs(out))) if out.is_dir() else 0
    return (
        f"interrupted; {saved} runs are saved in {out}; continue with "
        f"`{shlex.join(resume_command(typed, out))}`"
    )


def resume_command(typed: list[str], out: Path) -> list[str]:
    """The command as typed, made to continue in ``out``: --resume instead of
    --overwrite, and --out when it was the default."""
    command = [a for a in typed if a != "--overwrite"]
    if not any(a in ("--out", "-o") or a.startswith("--out=") for a in command):
        command += ["--out", str(out)]
    if "--resume" not in command:
        command.append("--resume")
    return command


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
    what = (
        f"{len(exp.options)} options x {exp.spec.uncertainty.draws} parameter draws"
        if exp.spec.uncertainty is not None
        else f"{len(exp.points)} scenarios"
    )
    console.print(
        f"{exp.name}: {what}, {len(runs)} runs x {exp.steps} weeks, "
        f"root seed {exp.spec.root_seed}, executor {result.manifest['executor']}, {elapsed:.1f} s",
        soft_wrap=True,
    )
    for record in result.manifest.get("rosters") or []:
        console.print(roster_line(record), soft_wrap=True, markup=False)
    console.print(summary_table(result))
    if len(runs) and int(runs.groupby("scenario").size().min()) < 2:
        from mensi_sim.cli.scenario_commands import NO_INTERVAL

        console.print(NO_INTERVAL, soft_wrap=True)
    summary = result.summary
    if CENSORED_OUTCOME in exp.spec.outcomes and CENSORED_FLAG in summary:
        reached = int(summary[CENSORED_FLAG].sum())
        console.print(censoring_note(reached, len(summary), exp.steps, "runs"), soft_wrap=True)
    if exp.spec.uncertainty is None and len(summary):  # a PSA's draws are not programmes
        _print_plausibility(console, summary)
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


#: the most notes of costs outside the documented range a sweep prints
MAX_RANGE_NOTES = 8


def _print_plausibility(console: Console, summary: pd.DataFrame) -> None:
    """A note per scenario whose mean cost per school and programme year is outside what
    real programmes show (``plausibility``), at most ``MAX_RANGE_NOTES``, then how many more."""
    means = summary.groupby("scenario", sort=False).mean(numeric_only=True)
    notes = notes_by_scenario((str(name), row.to_dict()) for name, row in means.iterrows())
    for note in notes[:MAX_RANGE_NOTES]:
        console.print(note, soft_wrap=True, markup=False)
    if len(notes) > MAX_RANGE_NOTES:
        console.print(
            f"... and {len(notes) - MAX_RANGE_NOTES} more outside the documented range "
            "(docs/ASSUMPTIONS.md 8.5; the means by scenario are in summary.parquet)",
            soft_wrap=True,
        )


def sweep(
    ctx: typer.Context,
    experiment: Annotated[
        Path,
        typer.Argument(
            help="Experiment file (TOML), or the name of a shipped one "
            f"({_shipped_experiments()}).",
            show_default=False,
        ),
    ],
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
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing results directory --out.")
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
    plots: PlotsOption = False,
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
        overwrite=overwrite,
    )
    figure = figure_options(dpi, size)
    console = stdout_console()
    drawing = _wants_plots(plots, dpi, size)
    with user_errors():
        result, elapsed = _sweep(ctx, experiment, steps, options, meanwhile=drawing)
    _print_sweep(console, result, elapsed)
    if drawing:
        _write_plots(result, console, figure)
    _report_failures(result)


def _ci(row: pd.Series, prefix: str, kind: str) -> str:
    return (
        f"{fmt(row[prefix], kind)} [{fmt(row[prefix + '_ci_low'], kind)}, "
        f"{fmt(row[prefix + '_ci_high'], kind)}]"
    )


def _verdict_text(p: float, verdict: str, replicates: int | None = None) -> str:
    from mensi_sim.analysis.verdicts import firmness

    if p != p:
        return verdict
    return f"{verdict} (P {p:.2f}, {firmness(p, replicates)})"


def _status_text(r: pd.Series, replicates: int | None) -> str:
    """A scheme's frontier status with its probability. P counts the kind of status
    (dominated by any scheme, ``verdicts.status_kind``); a scheme dominated significantly by
    none is "dominated (P ...)", and the scheme that dominates it on the means is named
    after it as not significant, so the probability is not read as that pair's."""
    front = str(r["frontier"])
    if front.startswith("dominated by ") and not r["frontier_dominance_significant"]:
        other = front.removeprefix("dominated by ")
        return (
            f"{_verdict_text(r['p_status'], 'dominated', replicates)}; by {other} on the "
            "means, not significant"
        )
    if front.startswith("dominated by "):
        front += " (significant)"
    return _verdict_text(r["p_status"], front, replicates)


def _uncensored_outcomes(
    summary: pd.DataFrame, outcomes: Sequence[str], steps: int | None
) -> tuple[list[str], str]:
    """The outcomes whose paired difference the table can show, and a note on the one left
    out: the weeks to 50% adoption is censored at the run length in a run that never gets
    there, and a difference of censored values (often 0 [0, 0]) would say what no run
    measured; it is shown only when every run reached 50% (comparison.parquet keeps it)."""
    if CENSORED_OUTCOME not in outcomes or CENSORED_FLAG not in summary:
        return list(outcomes), ""
    reached = int(summary[CENSORED_FLAG].sum())
    if reached == len(summary):
        return list(outcomes), ""
    at = f" at {steps} weeks" if steps else ""
    note = (
        f"weeks to 50% not compared: censored{at} in {len(summary) - reached} of "
        f"{len(summary)} runs (50% adoption reached in {reached})"
    )
    return [o for o in outcomes if o != CENSORED_OUTCOME], note


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
            + escape("budget, EUR (default: the experiment's [budget] amount)."),
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
    perspective: Annotated[
        str | None,
        typer.Option(
            help="Cost of ICERs and budgets: total (cash + staff time) or cash (what the "
            "programme pays). Default: the experiment's, else total.",
            show_default=False,
        ),
    ] = None,
    wtp: Annotated[
        float | None,
        typer.Option(
            help="PSA: willingness to pay per additional adopting school, EUR, for the net "
            + escape("benefit table (default: the experiment's [uncertainty] wtp)."),
            show_default=False,
        ),
    ] = None,
    dpi: DpiOption = None,
    size: SizeOption = None,
) -> None:
    """Paired differences against a baseline, ICERs, dominance and the frontier, with the
    probability of each verdict; a PSA's net benefit, acceptability and EVPI."""
    figure = figure_options(dpi, size)
    from mensi_sim.analysis import COMPARE_OUTCOMES, at_budget, comparison_table
    from mensi_sim.analysis.cost_effectiveness import PERSPECTIVES, icer_text, sizes_mixed
    from mensi_sim.analysis.verdicts import (
        MIN_FIRM_REPLICATES,
        VERDICT_PROBABILITY,
        budget_sentence,
        distinct_resamples,
        leading_options,
        parameter_caveat,
    )
    from mensi_sim.cli.group_views import check_by, print_group_comparison
    from mensi_sim.errors import ResultsError

    check_by(by)

    console = stdout_console()
    with user_errors():
        res = Results.load(results)
    summary, manifest = res.summary, res.manifest
    if budget is not None and not budget > 0:
        raise fail(f"--budget: must be > 0, got {budget}")
    if wtp is not None and not wtp >= 0:
        raise fail(f"--wtp: must be >= 0, got {wtp}")
    perspective = perspective or (manifest.get("budget") or {}).get("perspective") or "total"
    if perspective not in PERSPECTIVES:
        raise fail(
            f"--perspective: unknown perspective {perspective!r} "
            f"(allowed: {', '.join(PERSPECTIVES)})"
        )
    if summary.empty:
        raise fail(f"{results}: no successful runs to compare")
    try:  # a name that is no scenario: the first 12, how many more, "did you mean"
        resolved = res.baseline_for(baseline)
    except ResultsError as exc:
        raise fail(f"--baseline: {exc}") from None
    if res.is_psa:
        from mensi_sim.cli.psa_commands import compare_psa

        compare_psa(res, console, baseline=baseline, perspective=perspective, wtp=wtp)
        _write_plots(Path(results), console, figure)
        return
    baseline = resolved
    names = res.scenarios
    if len(names) < 2:
        raise fail(f"{results}: one scenario only; nothing to compare")
    try:
        table = comparison_table(summary, baseline, perspective=perspective)
    except ValueError as exc:
        raise fail(f"{results}: {exc}") from None
    budget_spec = manifest.get("budget") or {}
    amount = budget if budget is not None else budget_spec.get("amount")
    ab = (
        at_budget(summary, res.groups, float(amount), baseline, perspective=perspective)
        if amount
        else None
    )
    # both tables are computed before either is written: a failure leaves neither behind
    with user_errors():
        res.write_table("comparison", table)
        if ab is not None:
            res.write_table("budget", ab)

    console.print(
        f"paired differences against {baseline!r} (same replicate, 95% paired-t CI; "
        "* = Holm-adjusted p < 0.05 over the schemes compared, per outcome)",
        soft_wrap=True,
    )
    runs = res.runs
    steps = int(runs["steps"].iloc[0]) if "steps" in runs.columns and len(runs) else None
    shown, censored_note = _uncensored_outcomes(summary, COMPARE_OUTCOMES, steps)
    t = simple_table("scenario", "pairs", *(_heading(o) for o in shown))
    p_table = simple_table("scenario", *(_heading(o) for o in shown))
    by_name = table.set_index("scenario")
    for name in names:
        if name == baseline:
            continue
        r = by_name.loc[name]
        cells = [str(int(r["n_pairs"]))]
        p_cells = []
        for o in shown:
            kind = format_of(o).kind
            k = "dpct" if kind == "pct" else kind
            star = "*" if r[f"{o}_significant"] else ""
            cells.append(
                f"{fmt(r[f'{o}_difference'], k)}{star} "
                f"[{fmt(r[f'{o}_ci_low'], k)}, {fmt(r[f'{o}_ci_high'], k)}]"
            )
            p_cells.append(f"{r[f'{o}_p_value']:.2g} / {r[f'{o}_p_holm']:.2g}")
        t.add_row(name, *cells)
        p_table.add_row(name, *p_cells)
    console.print(t)
    if censored_note:
        console.print(censored_note, soft_wrap=True)
    if int(table["n_pairs"].min()) < 2:
        console.print(
            "no paired intervals: one replicate per scenario gives no spread of the "
            "differences (sweep with --replications 2 or more)",
            soft_wrap=True,
        )
    console.print("p-values, unadjusted / Holm-adjusted (the stars follow the adjusted)")
    console.print(p_table)
    reps = int(table["bootstrap_replicates"].iloc[0])
    few_resamples = (
        f"; {reps} replicates have only {distinct_resamples(reps):,} distinct resamples"
        if reps < MIN_FIRM_REPLICATES
        else ""
    )
    console.print(
        f"cost-effectiveness ({perspective} cost: {PERSPECTIVES[perspective]}; effect: schools "
        f"adopted {at_the_horizon(res)}; ICER = extra EUR per additional adopting school, "
        "Fieller 95% set), "
        f"ordered by cost; P = share of {reps}-replicate bootstrap resamples giving the "
        f"verdict (firm at >= {VERDICT_PROBABILITY:.2f} with at least {MIN_FIRM_REPLICATES} "
        f"replicates{few_resamples})",
        soft_wrap=True,
    )
    t = simple_table(
        "scenario",
        "mean cost",
        "Δ adopters [CI]",
        "ICER vs baseline [CI]",
        "vs baseline",
        "frontier",
        "frontier ICER",
        "P(frontier)",
    )
    for _, r in table.iterrows():
        if r["scenario"] == baseline:
            icer, dom = "-", "baseline"
        else:
            icer = icer_text(r)
            dom = r["dominance"] + (" (significant)" if r["dominance_significant"] else "")
        step = r["frontier_icer"]
        t.add_row(
            r["scenario"],
            fmt(r["mean_cost"], "eur"),
            _ci(r, "delta_effect", "num1"),
            icer,
            dom,
            _status_text(r, reps),
            fmt(step, "eur") if step == step else "-",
            f"{r['p_frontier']:.2f}",
        )
    console.print(t)
    lead = leading_options(summary, baseline, perspective=perspective)
    if lead is not None:
        console.print(f"verdict: {lead.sentence()}", soft_wrap=True)
    if ab is not None:
        console.print(
            f"at a budget of {fmt(amount, 'eur')} per run ({perspective} cost; mix of the two "
            "sizes whose mean costs bracket it; difference from the baseline, paired)",
            soft_wrap=True,
        )
        t = simple_table("group", "sizes mixed", "spent", "adopters Δ [CI]", "adoption Δ [CI]")
        for group, part in ab.groupby("group", sort=False):
            first = part.iloc[0]
            mix = sizes_mixed(first)
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
        at = budget_sentence(summary, ab)
        if at is not None:
            console.print(f"verdict: {at}", soft_wrap=True)
    if lead is not None or ab is not None:
        caveat = parameter_caveat(str(manifest.get("experiment", "")), manifest.get("source_path"))
        console.print(f"caveat: {caveat}", soft_wrap=True)
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
            help=escape(
                "Experiment file with [[factors.samples]] (morris and/or sobol) or an "
                "[uncertainty] table, or the name of a shipped one (sensitivity)."
            ),
            show_default=False,
        ),
    ],
    executor: ExecutorOption = None,
    workers: WorkersOption = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the sweep in --out.")] = False,
    out: OutOption = None,
    replications: Annotated[
        int | None,
        typer.Option(
            "--replications", "-r", min=1, help="Replicates per sample point (default: the file's)."
        ),
    ] = None,
    steps: StepsOption = None,
    plots: PlotsOption = False,
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
    console = stdout_console()
    with user_errors():
        exp = load_experiment(experiment)
        psa = exp.spec.uncertainty is not None
        if not psa and not any(s.method in ("morris", "sobol") for s in exp.spec.factors.samples):
            raise fail(
                f"{experiment}: factors.samples: no morris or sobol sample to analyse "
                "(or an [uncertainty] table: options on parameter draws)"
            )
        result, elapsed = _sweep(ctx, exp, steps, options)
    exp = result.experiment
    if psa:
        from mensi_sim.cli.psa_commands import sensitivity_psa

        console.print(
            f"{exp.name}: {len(exp.points)} points ({len(exp.options)} options x "
            f"{exp.spec.uncertainty.draws} draws), {exp.steps} weeks, {elapsed:.1f} s",
            soft_wrap=True,
        )
        for note in sensitivity_psa(result, console):
            typer.echo(f"warning: {note}", err=True)
        console.print(f"results: {result.path}", soft_wrap=True)
        _write_plots(result.path, console, figure)
        _report_failures(result)
        return
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
            f"{method} - {outcome} (point-specific replicate noise {fmt(share, 'pct')} of the "
            "variance of the means; * = above the dummy parameter, whose index is noise)",
            soft_wrap=True,
        )
        cols = ["mu_star", "sigma"] if method == "morris" else ["S1", "ST"]
        t = simple_table("parameter", *cols)
        for name, row in wide.iterrows():
            cells = []
            above = part[(part["parameter"] == name)]["above_dummy"]
            star = "*" if ("above_dummy" in part.columns and bool(above.all())) else ""
            for c in cols:
                cf = conf.loc[name, c]
                cells.append(f"{row[c]:.4g}" + ("" if pd.isna(cf) else f" ± {cf:.2g}"))
            t.add_row(str(name) + (star if name != "dummy" else " (no effect)"), *cells)
        console.print(t)
    for note in notes:
        typer.echo(f"warning: {note}", err=True)
    console.print(f"results: {result.path}", soft_wrap=True)
    if _wants_plots(plots, dpi, size):
        _write_plots(result, console, figure)
    _report_failures(result)


def register(app: typer.Typer) -> None:
    """Add the ``sweep``, ``compare`` and ``sensitivity`` commands to a typer app."""
    app.command("sweep")(sweep)
    app.command("compare")(compare)
    app.command("sensitivity")(sensitivity)
