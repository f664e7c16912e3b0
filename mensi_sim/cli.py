"""The ``mensi-sim`` command line: run, validate and list scenarios.

This is the only module that prints. Errors a user can cause (``MensiError``,
``OSError``) and command-line usage errors end as one line ``error: <message>``
on stderr with exit code 2 (1 for ``validate`` failures); anything else is a bug
and keeps its traceback.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
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
from typer.core import TyperGroup

from mensi_sim.cli_support import EXIT_FAILED, DpiOption, SizeOption, figure_options
from mensi_sim.cli_support import command_line as _command_line
from mensi_sim.cli_support import default_out as _default_out
from mensi_sim.cli_support import fail as _fail
from mensi_sim.cli_support import fmt as _fmt
from mensi_sim.cli_support import one_line as _one_line
from mensi_sim.cli_support import stderr_console as _stderr
from mensi_sim.cli_support import stdout_console as _stdout
from mensi_sim.cli_support import user_errors as _user_errors
from mensi_sim.errors import MensiError, ScenarioError
from mensi_sim.experiments.commands import register as register_experiment_commands
from mensi_sim.scenario import Scenario, load_scenario
from mensi_sim.scenario.loader import format_validation_error
from mensi_sim.viz_commands import register as register_viz_commands

SCENARIO_DIR = Path("scenarios")

# (summary column, label with unit, format) of the headline outcomes, in table order
HEADLINE = (
    ("final_adoption_share", "Final adoption share", "pct"),
    ("weeks_to_half_adoption", "Weeks to 50% adoption", "num1"),
    ("capacity_gain", "Capacity gain (0-1 scale)", "num3"),
    ("final_equity_gap", "Equity gap, final (0-1 scale)", "num3"),
    ("total_cost", "Total cost", "eur"),
    ("cost_per_adopting_school", "Cost per adopting school", "eur"),
)


def _click_exception(name: str) -> type[Exception] | None:
    """A click exception class as the installed typer uses it (typer >= 0.22 vendors click)."""
    base = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
    return getattr(sys.modules[base.__module__], name, None)


_ClickException = _click_exception("ClickException")
_NoArgsIsHelpError = _click_exception("NoArgsIsHelpError")


def _last_line(text: object) -> str:
    """The last non-empty line of a text (of a traceback: the exception and its message)."""
    lines = [line for line in str(text).splitlines() if line.strip()]
    return _one_line(lines[-1]) if lines else ""


def _naming(path: Path, exc: Exception) -> str:
    """The error's message, starting with the file it concerns."""
    message = _one_line(exc)
    return message if message.startswith(str(path)) else f"{path}: {message}"


class _OneLineErrorGroup(TyperGroup):
    """Typer's group, except that usage errors are one line ``error: ...`` on stderr."""

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        argv = [str(a) for a in (sys.argv[1:] if args is None else args)]
        obj = extra.setdefault("obj", {})
        if isinstance(obj, dict):
            obj.setdefault("argv", argv)
        try:
            rv = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except _ClickException as exc:  # type: ignore[misc]
            if _NoArgsIsHelpError is not None and isinstance(exc, _NoArgsIsHelpError):
                # the help text (typer's rich help has printed itself already)
                if text := exc.format_message().strip():
                    typer.echo(text)
                sys.exit(0)
            ctx = getattr(exc, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            typer.echo(f"error: {_one_line(exc.format_message())}{hint}", err=True)
            sys.exit(exc.exit_code)
        except typer.Abort:
            typer.echo("error: aborted", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


app = typer.Typer(
    cls=_OneLineErrorGroup,
    name="mensi-sim",
    help="Agent-based simulation of school-to-school mentoring networks (MenSI).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _with_steps(scenario: Scenario, steps: int) -> Scenario:
    """The scenario with ``time.steps`` replaced (validated like the file)."""
    try:
        return scenario.with_updates({"time.steps": steps})
    except ValidationError as err:
        raise ScenarioError(format_validation_error(err, f"--steps {steps}", Scenario)) from None


def _simulate(scenario: Scenario, replications: int, seed: int, err: Console) -> Any:
    """simulate() with a progress bar on stderr when stderr is a terminal."""
    from mensi_sim.simulate import simulate

    if not err.is_terminal:
        return simulate(scenario, replications=replications, seed=seed)
    columns = (
        TextColumn("{task.description}", style="bold", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("replicates"),
        TimeElapsedColumn(),
        TextColumn("elapsed,"),
        TimeRemainingColumn(),
        TextColumn("left"),
    )
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task(f"run {scenario.name}", total=replications)

        def report(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        return simulate(scenario, replications=replications, seed=seed, progress=report)


def _headline_table(result: Any) -> Table:
    """The headline outcomes (mean and 95% CI over replicates) as a rich table."""
    head = result.headline()  # one row per (scenario, outcome)
    if "outcome" in head.columns:
        head = head.drop_duplicates("outcome").set_index("outcome")
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, header_style="bold")
    table.add_column("outcome", no_wrap=True)
    table.add_column("mean", justify="right", no_wrap=True)
    table.add_column("95% CI", justify="right", no_wrap=True)
    for column, label, kind in HEADLINE:
        if column not in head.index:
            continue
        row = head.loc[column]
        ci = f"{_fmt(row['ci_low'], kind)} to {_fmt(row['ci_high'], kind)}"
        table.add_row(label, _fmt(row["mean"], kind), ci)
    return table


@app.command()
def run(
    ctx: typer.Context,
    scenario: Annotated[Path, typer.Argument(help="Scenario file (TOML).", show_default=False)],
    replications: Annotated[
        int, typer.Option("--replications", "-r", min=1, help="Number of replicates.")
    ] = 10,
    seed: Annotated[
        int, typer.Option("--seed", "-s", min=0, help="Root seed; replicate i uses its i-th child.")
    ] = 0,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Results directory to create (default: results/NAME-YYYYmmdd-HHMMSS).",
            show_default=False,
        ),
    ] = None,
    steps: Annotated[
        int | None,
        typer.Option(min=1, help="Weeks to simulate, overriding time.steps of the scenario."),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing results directory.")
    ] = False,
    dpi: DpiOption = None,
    size: SizeOption = None,
) -> None:
    """Simulate a scenario and write its results directory and adoption/cost plot."""
    from functools import partial

    from mensi_sim.plotting import write_basic_plots
    from mensi_sim.results import build_manifest, write_results
    from mensi_sim.results.store import check_target

    plots = partial(write_basic_plots, **figure_options(dpi, size))
    console, err = _stdout(), _stderr()
    with _user_errors():
        sc = load_scenario(scenario)
        if steps is not None:
            sc = _with_steps(sc, steps)
        out_dir = out if out is not None else _default_out(sc.name)
        check_target(out_dir, overwrite)  # fail before the long part, not after it
        started = time.perf_counter()
        try:
            result = _simulate(sc, replications, seed, err)
        except MensiError as exc:
            raise _fail(_naming(scenario, exc)) from None
        elapsed = time.perf_counter() - started
        runs = result.runs
        failed = runs[runs["status"] != "ok"]
        if len(failed) == len(runs):
            first = _last_line(failed["error"].iloc[0]) if len(failed) else "no runs"
            raise _fail(f"{scenario}: all {len(runs)} replicates failed: {first}")
        manifest = build_manifest(
            sc,
            root_seed=seed,
            command_line=_command_line(ctx),
            executor="serial",
            replications=replications,
        )
        written = write_results(
            result, out_dir, manifest=manifest, overwrite=overwrite, add_files=plots
        )
    n_schools = int(runs["n_schools"].iloc[0]) if "n_schools" in runs else sc.population.n_schools
    console.print(
        f"{sc.name}: {replications} replicates x {sc.time.steps} weeks, "
        f"{n_schools:,} schools ({sc.network.structure}), seed {seed}, {elapsed:.1f} s"
    )
    console.print(_headline_table(result))
    summary = result.summary
    if "half_adoption_reached" in summary.columns:
        reached = int(summary["half_adoption_reached"].sum())
        console.print(
            f"weeks to 50% adoption are censored at {sc.time.steps}: "
            f"reached in {reached} of {len(summary)} replicates"
        )
    console.print(f"results: {written}", soft_wrap=True)
    files = sorted(p.name for p in written.iterdir())
    console.print(f"  {'  '.join(files)}", soft_wrap=True)
    if len(failed):
        typer.echo(
            f"warning: {len(failed)} of {len(runs)} replicates failed "
            f"(see runs.parquet): {_last_line(failed['error'].iloc[0])}",
            err=True,
        )
        raise typer.Exit(EXIT_FAILED)


def _check_world(scenario: Scenario) -> None:
    """Generate the schools and build the network once (seed 0); raise on an impossible setup."""
    from mensi_sim.seeds import replicate_seed, run_streams
    from mensi_sim.world import build_world

    streams = run_streams(replicate_seed(0, 0))
    build_world(scenario, streams.population, streams.network)


@app.command()
def validate(
    scenarios: Annotated[
        list[Path],
        typer.Argument(help="Scenario files (TOML) to check.", show_default=False),
    ],
    build: Annotated[
        bool,
        typer.Option(
            "--build/--no-build",
            help="Also generate the schools and build the network once (seed 0), which "
            "catches impossible structures such as more mentors than schools.",
        ),
    ] = True,
) -> None:
    """Check scenario files: one line per file, 'ok ...' or 'error: ...'; exit 1 if any failed."""
    console = _stdout()
    failures = 0
    for path in scenarios:
        try:
            sc = load_scenario(path)
            if build:
                _check_world(sc)
        except MensiError as exc:
            failures += 1
            typer.echo(f"error: {_naming(path, exc)}", err=True)
            continue
        console.print(
            f"ok {path} ({sc.name}: {sc.network.structure}, {sc.population.n_schools} schools, "
            f"{sc.time.steps} weeks)",
            soft_wrap=True,
        )
    if failures:
        raise typer.Exit(EXIT_FAILED)


def _scenario_dir(directory: Path | None) -> Path:
    """The folder to list: as given, else ./scenarios, else the one beside the package."""
    if directory is not None:
        return directory
    if SCENARIO_DIR.is_dir():
        return SCENARIO_DIR
    shipped = Path(__file__).resolve().parents[1] / "scenarios"
    return shipped if shipped.is_dir() else SCENARIO_DIR


@app.command("scenarios")
def list_scenarios(
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            "-d",
            help="Folder of scenario files (default: ./scenarios, else the shipped ones).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """List the scenario files in a folder with their structure and description."""
    console = _stdout()
    with _user_errors():
        folder = _scenario_dir(directory)
        if not folder.is_dir():
            raise ScenarioError(f"{folder}: no such folder")
        files = sorted(folder.glob("*.toml"))
    if not files:
        raise _fail(f"{folder}: no scenario files (*.toml)")
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, header_style="bold")
    table.add_column("file", no_wrap=True)
    table.add_column("structure", no_wrap=True)
    table.add_column("schools", justify="right", no_wrap=True)
    table.add_column("weeks", justify="right", no_wrap=True)
    table.add_column("description")
    bad = 0
    for path in files:
        try:
            sc = load_scenario(path)
        except ScenarioError as exc:
            bad += 1
            table.add_row(path.name, "-", "-", "-", f"invalid: {_one_line(exc)}")
            continue
        table.add_row(
            path.name,
            sc.network.structure,
            f"{sc.population.n_schools:,}",
            str(sc.time.steps),
            sc.description,
        )
    console.print(f"{len(files)} scenario files in {folder}", soft_wrap=True)
    console.print(table)
    if bad:
        raise typer.Exit(EXIT_FAILED)


register_experiment_commands(app)  # sweep, compare, sensitivity
register_viz_commands(app)  # plot, report, viz


def main() -> None:
    """Entry point of ``python -m mensi_sim.cli``."""
    app(prog_name="mensi-sim")


if __name__ == "__main__":
    main()
