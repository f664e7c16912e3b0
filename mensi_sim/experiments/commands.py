"""The ``sweep``, ``compare`` and ``sensitivity`` commands of ``mensi-sim``.

``register(app)`` adds them to a typer app (mensi_sim.cli calls it).
``python -m mensi_sim.experiments.commands ...`` runs the real ``mensi-sim`` app with
them registered. Errors a user can cause end as one line ``error: ...`` on stderr
with exit code 2; failed runs end the sweep with exit code 1 after every other run
is done and written.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from mensi_sim.cli_support import (
    EXIT_FAILED,
    DpiOption,
    SizeOption,
    figure_options,
    fmt,
    stdout_console,
)
from mensi_sim.cli_support import command_line as _command_line
from mensi_sim.cli_support import default_out as _default_out
from mensi_sim.cli_support import fail as _fail
from mensi_sim.cli_support import stderr_console as _stderr
from mensi_sim.cli_support import user_errors as _user_errors

MAX_TABLE_ROWS = 40

LABELS = {
    "final_adoption_share": ("adoption", "pct"),
    "weeks_to_half_adoption": ("weeks to 50%", "num1"),
    "capacity_gain": ("capacity gain", "num3"),
    "final_equity_gap": ("equity gap", "num3"),
    "total_cost": ("total cost", "eur"),
    "cost_per_adopting_school": ("cost/adopter", "eur"),
    "adopters_final": ("adopters", "num1"),
}


def _stdout():  # noqa: ANN202
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


def _kind(outcome: str) -> str:
    if outcome in LABELS:
        return LABELS[outcome][1]
    if outcome.startswith("cost") or outcome.endswith("cost"):
        return "eur"
    if outcome.endswith("share"):
        return "pct"
    if outcome in ("dropouts", "meetings_total", "members_final", "new_adopters"):
        return "num1"
    return "num3"


def _label(outcome: str) -> str:
    return LABELS.get(outcome, (outcome, ""))[0]


def _table(*columns: str) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, header_style="bold")
    for i, c in enumerate(columns):
        table.add_column(c, justify="left" if i == 0 else "right")
    return table


def summary_table(result: Any) -> Table:
    """Mean [95% CI] of the outcomes of interest per scenario."""
    outcomes = list(result.experiment.spec.outcomes)
    head = result.headline()
    runs = result.runs
    table = _table("scenario", "runs", *(_label(o) for o in outcomes))
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
            k = _kind(o)
            cells.append(
                f"{fmt(row['mean'], k)} [{fmt(row['ci_low'], k)}, {fmt(row['ci_high'], k)}]"
            )
        table.add_row(name, *cells)
    if len(names) > MAX_TABLE_ROWS:
        table.add_row(f"... {len(names) - MAX_TABLE_ROWS} more", *[""] * (len(outcomes) + 1))
    return table


@contextlib.contextmanager
def progress_bar(err: Console, description: str) -> Iterator[Any]:
    """A rich progress bar on stderr (runs done, failures, elapsed, time left)."""
    columns = (
        TextColumn("{task.description}", style="bold", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("runs, {task.fields[failed]} failed,"),
        TimeElapsedColumn(),
        TextColumn("elapsed,"),
        TimeRemainingColumn(),
        TextColumn("left"),
    )
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task(description, total=None, failed=0)

        def report(done: int, total: int, failed: int) -> None:
            bar.update(task, completed=done, total=total, failed=failed)

        yield report


def _sweep(
    ctx: typer.Context,
    experiment: Path,
    executor: str | None,
    workers: int | None,
    resume: bool,
    out: Path | None,
    replications: int | None,
    steps: int | None,
    precision: float | None,
    outcome: str | None,
    max_replications: int | None,
    batch: int | None,
) -> tuple[Any, float]:
    from mensi_sim.experiments.runner import run_experiment
    from mensi_sim.experiments.spec import OUTCOME_NAMES, check_executor, load_experiment

    exp = load_experiment(experiment)
    if steps is not None:
        exp = exp.with_changes(steps=steps)
    if executor is not None:
        try:
            check_executor(executor)
        except ValueError as exc:
            raise _fail(f"--executor: {exc}") from None
    if outcome is not None and outcome not in OUTCOME_NAMES:
        raise _fail(f"--outcome: unknown outcome {outcome!r} (allowed: {', '.join(OUTCOME_NAMES)})")
    if precision is not None and not precision > 0:
        raise _fail(f"--precision: must be > 0, got {precision}")
    out_dir = out if out is not None else _default_out(exp.name)
    started = time.perf_counter()
    with progress_bar(_stderr(), f"sweep {exp.name}") as report:
        result = run_experiment(
            exp,
            executor=executor,
            out=out_dir,
            resume=resume,
            workers=workers,
            batch=batch,
            replications=replications,
            precision=precision,
            outcome=outcome,
            max_replications=max_replications,
            progress=report,
            command_line=_command_line(ctx),
        )
    return result, time.perf_counter() - started


def _report_failures(result: Any) -> None:
    failed = result.failures
    if failed.empty:
        return
    names = [f"{s}/{r}" for s, r in zip(failed["scenario"], failed["replicate"], strict=True)]
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    last = str(failed["error"].iloc[0]).strip().splitlines()[-1]
    raise _fail(
        f"{len(failed)} of {len(result.runs)} runs failed: {shown} (first error: {last}; "
        f"tracebacks in {result.out / 'runs.parquet'})",
        EXIT_FAILED,
    )


def _print_sweep(console: Console, result: Any, elapsed: float) -> None:
    exp = result.experiment
    runs = result.runs
    console.print(
        f"{exp.name}: {len(exp.points)} scenarios, {len(runs)} runs x {exp.steps} weeks, "
        f"root seed {exp.spec.root_seed}, executor {result.manifest['executor']}, {elapsed:.1f} s",
        soft_wrap=True,
    )
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
        t = _table("scenario", "replications", "half-width", "reached")
        for name, s in list(result.adaptive.items())[:MAX_TABLE_ROWS]:
            t.add_row(
                name, str(s.replications), f"{s.half_width:.4g}", "yes" if s.reached else "no"
            )
        console.print(t)
    console.print(f"results: {result.out}", soft_wrap=True)


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
    figure = figure_options(dpi, size)
    console = _stdout()
    with _user_errors():
        result, elapsed = _sweep(
            ctx,
            experiment,
            executor,
            workers,
            resume,
            out,
            replications,
            steps,
            precision,
            outcome,
            max_replications,
            batch_size,
        )
    _print_sweep(console, result, elapsed)
    _write_plots(result.out, console, figure)
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
    dpi: DpiOption = None,
    size: SizeOption = None,
) -> None:
    """Paired differences against a baseline, ICERs, dominance and the frontier."""
    figure = figure_options(dpi, size)
    from mensi_sim.experiments import compare as cmp
    from mensi_sim.experiments.runstore import atomic_parquet
    from mensi_sim.results import read_results

    console = _stdout()
    with _user_errors():
        data = read_results(results)
    summary, manifest = data["summary"], data["manifest"]
    if budget is not None and not budget > 0:
        raise _fail(f"--budget: must be > 0, got {budget}")
    if summary.empty:
        raise _fail(f"{results}: no successful runs to compare")
    names = list(dict.fromkeys(summary["scenario"]))
    if baseline is None:
        baseline = manifest.get("baseline") or cmp.default_baseline(names)
    if baseline not in names:
        raise _fail(f"--baseline: no scenario {baseline!r} in {results} ({', '.join(names[:8])})")
    if len(names) < 2:
        raise _fail(f"{results}: one scenario only; nothing to compare")
    table = cmp.comparison_table(summary, baseline)
    pc = cmp.paired_comparison(summary, baseline)
    atomic_parquet(table, Path(results) / "comparison.parquet")

    console.print(
        f"paired differences against {baseline!r} (same replicate, 95% paired-t CI; "
        "* = CI excludes 0)",
        soft_wrap=True,
    )
    t = _table("scenario", "pairs", *(_label(o) for o in cmp.COMPARE_OUTCOMES))
    for name in names:
        if name == baseline:
            continue
        rows = pc[pc["scenario"] == name].set_index("outcome")
        cells = [str(int(rows["n_pairs"].iloc[0]))]
        for o in cmp.COMPARE_OUTCOMES:
            r = rows.loc[o]
            k = "dpct" if _kind(o) == "pct" else _kind(o)
            star = "*" if r["significant"] else ""
            cells.append(
                f"{fmt(r['difference'], k)}{star} [{fmt(r['ci_low'], k)}, {fmt(r['ci_high'], k)}]"
            )
        t.add_row(name, *cells)
    console.print(t)
    console.print(
        "cost-effectiveness (adopting schools at the end; ICER = extra EUR per "
        "additional adopting school, Fieller 95% CI), ordered by cost",
        soft_wrap=True,
    )
    t = _table("scenario", "mean cost", "Δ adopters [CI]", "ICER [CI]", "vs baseline", "frontier")
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
        groups = _groups(manifest)
        ab = cmp.at_budget(summary, groups, float(amount), baseline)
        atomic_parquet(ab, Path(results) / "budget.parquet")
        console.print(
            f"at a budget of {fmt(amount, 'eur')} per run (mix of the two sizes "
            "whose mean costs bracket it; difference from the baseline, paired)",
            soft_wrap=True,
        )
        t = _table("group", "sizes mixed", "spent", "adopters Δ [CI]", "adoption Δ [CI]")
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
    console.print(f"written: {Path(results) / 'comparison.parquet'}", soft_wrap=True)
    _write_plots(Path(results), console, figure)


def _groups(manifest: dict) -> dict[str, str]:
    """Group of each scenario for the budget table (the manifest's ``group``, else structure)."""
    return {
        e["name"]: str(e.get("group") if e.get("group") is not None else e.get("structure"))
        for e in manifest.get("scenarios", [])
    }


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
    from mensi_sim.experiments.runstore import atomic_parquet
    from mensi_sim.experiments.sensitivity import experiment_sensitivity
    from mensi_sim.experiments.spec import load_experiment

    console = _stdout()
    with _user_errors():
        exp = load_experiment(experiment)
        if not any(s.method in ("morris", "sobol") for s in exp.spec.factors.samples):
            raise _fail(f"{experiment}: factors.samples: no morris or sobol sample to analyse")
        result, elapsed = _sweep(
            ctx,
            experiment,
            executor,
            workers,
            resume,
            out,
            replications,
            steps,
            None,
            None,
            None,
            None,
        )
    exp = result.experiment
    table, notes = experiment_sensitivity(exp, result.summary)
    if not table.empty:
        atomic_parquet(table, result.out / "sensitivity.parquet")
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
        t = _table("parameter", *cols)
        for name, row in wide.iterrows():
            cells = []
            for c in cols:
                cf = conf.loc[name, c]
                cells.append(f"{row[c]:.4g}" + ("" if pd.isna(cf) else f" ± {cf:.2g}"))
            t.add_row(str(name), *cells)
        console.print(t)
    for note in notes:
        typer.echo(f"warning: {note}", err=True)
    console.print(f"results: {result.out}", soft_wrap=True)
    _write_plots(result.out, console, figure)
    _report_failures(result)


def register(app: typer.Typer) -> None:
    """Add the ``sweep``, ``compare`` and ``sensitivity`` commands to a typer app."""
    app.command("sweep")(sweep)
    app.command("compare")(compare)
    app.command("sensitivity")(sensitivity)


def _registered(app: typer.Typer) -> bool:
    return any(
        (c.name or getattr(c.callback, "__name__", "")) == "sweep" for c in app.registered_commands
    )


def main() -> None:
    """Entry point of ``python -m mensi_sim.experiments.commands``: the mensi-sim app."""
    from mensi_sim.cli import app

    if not _registered(app):
        register(app)
    app(prog_name="mensi-sim")


if __name__ == "__main__":
    main()
