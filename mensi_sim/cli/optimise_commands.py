"""The ``optimise`` command of ``mensi-sim``: search a design file, print the front.

``register(app)`` adds it to a typer app (``mensi_sim.cli`` calls it). The options become
one ``OptimiseOptions`` and go to ``mensi_sim.analysis.optimise``; the command prints the
replicate decision, the out-of-sample front with each design in words and the verdict,
and writes the tables, the figure and ``report.html`` into the results folder.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from mensi_sim.cli.common import (
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

FIGURE_NAME = "optimisation"


def _ci(row, column: str, kind: str) -> str:  # noqa: ANN001 - a pandas row
    return (
        f"{fmt(row[column + '_mean'], kind)} [{fmt(row[column + '_ci_low'], kind)}, "
        f"{fmt(row[column + '_ci_high'], kind)}]"
    )


def optimise(
    ctx: typer.Context,
    design: Annotated[Path, typer.Argument(help="Design file (TOML).", show_default=False)],
    executor: Annotated[
        str | None,
        typer.Option(
            "--executor",
            "-e",
            help="serial, local (process pool), dask (local Dask cluster) or tcp://host:port "
            "(default: the file's, else local).",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes.")] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Results folder (default: results/<name>-<time>).",
            show_default=False,
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume", help="Continue an optimisation in --out (runs only what is missing)."
        ),
    ] = False,
    population: Annotated[int | None, typer.Option(min=4, help="Designs per generation.")] = None,
    generations: Annotated[int | None, typer.Option(min=1, help="Generations.")] = None,
    replications: Annotated[
        int | None, typer.Option("--replications", "-r", min=4, help="First replicates per design.")
    ] = None,
    holdout_replications: Annotated[
        int | None, typer.Option(min=2, help="Fresh replicates of the front (out of sample).")
    ] = None,
    batch_size: Annotated[int | None, typer.Option(min=1, help="Runs per task.")] = None,
    dpi: DpiOption = None,
    size: SizeOption = None,
) -> None:
    """Optimise a programme's design: the Pareto front of a design file's objectives."""
    from mensi_sim.analysis.optimise import OptimiseOptions
    from mensi_sim.analysis.optimise import optimise as run_optimise
    from mensi_sim.analysis.optimise_spec import load_design
    from mensi_sim.experiments.spec import check_executor

    figure = figure_options(dpi, size)
    if executor is not None:
        try:
            check_executor(executor)
        except ValueError as exc:
            raise fail(f"--executor: {exc}") from None
    console = stdout_console(width=200)
    with user_errors():
        d = load_design(design)
        target = out or default_out(d.name)
        options = OptimiseOptions(
            executor=executor,
            workers=workers,
            batch=batch_size,
            out=target,
            resume=resume,
            population=population,
            generations=generations,
            replications=replications,
            holdout_replications=holdout_replications,
        )
        started = time.perf_counter()
        with progress_bar(stderr_console(), f"optimise {d.name}", "runs") as report:
            result = run_optimise(
                d,
                options,
                progress=lambda phase, done, total: report(done, total),
                command_line=command_line(ctx),
            )
        elapsed = time.perf_counter() - started
    _print(console, result, elapsed)
    _write_outputs(console, result, figure)


def _same_as_spend(front, outcome: str) -> bool:  # noqa: ANN001 - a pandas frame
    """True when an objective's mean equals the spend per year in every row (the budget's
    own cost of a one-year programme): its column would repeat spend/year."""
    import numpy as np

    column = f"{outcome}_mean"
    return column in front and bool(
        np.allclose(front[column].to_numpy(float), front["spend_per_year_mean"].to_numpy(float))
    )


def _beaten(beats: str, shipped: set[str]) -> str:
    """The shipped programmes a design beats on adoption, or "all" when it beats them all."""
    beaten = [b for b in beats.split(",") if b]
    if shipped and set(beaten) >= shipped:
        return "all"
    return ", ".join(beaten) or "-"


def _print(console, result, elapsed: float) -> None:  # noqa: ANN001
    m, spec = result.manifest, result.design.spec
    budget = (
        ""
        if result.budget is None
        else f", budget EUR {result.budget:,.0f} a year ({spec.constraints.budget_kind})"
    )
    console.print(
        f"{result.design.name}: {m['algorithm']} (pymoo), {m['n_candidates']} designs x "
        f"{m['replications']} common replicates, front on {m['holdout_replications']} fresh "
        f"replicates{budget}; {m['n_runs_this_call']} runs in {elapsed:.1f} s, executor "
        f"{m['executor']}",
        soft_wrap=True,
    )
    console.print(
        "replicates: "
        + "; ".join(
            f"{s['stage']} {s['replications']} (front stability {s['stability']:.2f})"
            for s in m["stability"]
        ),
        soft_wrap=True,
    )
    objectives = [o for o in spec.objectives if not _same_as_spend(result.front, o)]
    t = simple_table(
        "design",
        "spend/year",
        *(format_of(o).heading for o in objectives),
        "ok",
        "beats on adoption",
    )
    front = result.front.sort_values(["kind", "final_adoption_share_mean"], ascending=[True, False])
    shipped = set(front.loc[front["kind"] == "shipped", "scenario"])
    for _, row in front.iterrows():
        flags = "".join(
            mark
            for mark, on in ((" (knee)", row["knee"]), (" (best in budget)", row["budget_best"]))
            if on
        )
        t.add_row(
            row["scenario"] + flags,
            _ci(row, "spend_per_year", "eur"),
            *(_ci(row, o, format_of(o).kind) for o in objectives),
            "yes" if row["feasible"] else "no",
            _beaten(str(row["beats"]), shipped) if row["kind"] == "design" else "shipped",
        )
    console.print(t)
    hidden = [o for o in spec.objectives if o not in objectives]
    if hidden:
        console.print(
            f"not shown: {', '.join(format_of(o).heading.lower() for o in hidden)}, equal to "
            "spend/year (a programme of one year)",
            soft_wrap=True,
        )
    chosen = result.chosen
    if chosen is not None:
        console.print(f"chosen: {chosen['scenario']}: {chosen['design']}", soft_wrap=True)
    console.print(f"verdict: {result.verdict}", soft_wrap=True)
    _print_robustness(console, result)


def _print_robustness(console, result) -> None:  # noqa: ANN001
    """The regret table across the [robustness] draws, and its verdict."""
    table = result.robustness
    if table.empty:
        return
    m = result.manifest
    console.print(
        f"robustness: {m['robustness_draws']} parameter draws "
        f"({', '.join(m['robustness_parameters'])}) x {m['robustness_replications']} "
        "replicates, paired by draw",
        soft_wrap=True,
    )
    # one table per measure, the design first: each fits a terminal without being cut
    for measure, rows in table.groupby("measure", sort=False):
        adoption = measure == "final_adoption_share"
        kind, gap = ("pct", "pp") if adoption else ("eur", "eur")
        what = (
            "adoption at the horizon"
            if adoption
            else f"net benefit at EUR {rows['wtp'].iloc[0]:,.0f} per adopting school"
        )
        console.print(f"regret on {what} (best option under each draw minus this one)")
        t = simple_table("design", "mean", "mean regret", "max regret", "P(best)", "")
        # two spaces between columns, not three: with euro amounts and both marks the
        # table is 85 columns wide otherwise, and would be cut in two at 80
        t.padding = (0, 1, 0, 0)
        for _, row in rows.iterrows():
            marks = [w for w, on in (("minimax", row["minimax"]), ("robust", row["robust"])) if on]
            t.add_row(
                row["design"] + ("" if row["kind"] == "design" else " (shipped)"),
                fmt(row["mean_value"], kind),
                fmt(row["mean_regret"], gap).lstrip("+"),
                fmt(row["max_regret"], gap).lstrip("+"),
                f"{row['p_best']:.0%}",
                ", ".join(marks),
            )
        console.print(t)
    console.print(f"robustness: {m['robustness']}", soft_wrap=True)


def _write_outputs(console, result, figure: dict) -> None:  # noqa: ANN001
    from mensi_sim.plotting.common import figure_bytes, figure_size, save_figure
    from mensi_sim.plotting.optimise import plot_optimisation
    from mensi_sim.report.optimise import write_optimisation_report

    out = result.out
    with figure_size(figure.get("size")):
        fig = plot_optimisation(
            result.front,
            result.candidates,
            result.budget,
            budget_kind=result.design.spec.constraints.budget_kind,
        )
    save_figure(fig, out / FIGURE_NAME, ("png", "svg"), dpi=figure.get("dpi"))
    report = write_optimisation_report(result, out, figure_bytes(fig))
    console.print(f"results: {out}", soft_wrap=True)
    console.print(f"figure: {out / (FIGURE_NAME + '.png')}; report: {report}", soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``optimise`` to the app."""
    app.command("optimise")(optimise)
