"""The ``run``, ``validate`` and ``scenarios`` commands of ``mensi-sim``.

``register(app)`` adds them to a typer app (``mensi_sim.cli`` calls it).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich import box
from rich.console import Console
from rich.table import Table

from mensi_sim.cli.common import (
    EXIT_FAILED,
    DpiOption,
    SizeOption,
    command_line,
    default_out,
    error_line,
    fail,
    figure_options,
    fmt,
    last_line,
    naming,
    one_line,
    progress_bar,
    stderr_console,
    stdout_console,
    user_errors,
)
from mensi_sim.cli.guard import Interrupted
from mensi_sim.errors import MensiError, ScenarioError
from mensi_sim.outcomes import CENSORED_FLAG, CENSORED_OUTCOME, format_of
from mensi_sim.plausibility import outside_documented_range
from mensi_sim.results import Results
from mensi_sim.results.display import censored_mean, censoring, censoring_note, reading_weeks
from mensi_sim.scenario import Scenario, load_scenario
from mensi_sim.scenario.loader import format_validation_error
from mensi_sim.scenario.roster import roster_line
from mensi_sim.seeds import MAX_SEED

SCENARIO_DIR = Path("scenarios")


def _with_steps(scenario: Scenario, steps: int) -> Scenario:
    """The scenario with ``time.steps`` replaced (validated like the file)."""
    try:
        return scenario.with_updates({"time.steps": steps})
    except ValidationError as err:
        raise ScenarioError(format_validation_error(err, f"--steps {steps}", Scenario)) from None


def _simulate(
    scenario: Scenario, replications: int, seed: int, command: list[str], err: Console
) -> Results:
    """simulate() with a progress bar on stderr when stderr is a terminal."""
    from mensi_sim.simulate import simulate  # looked up at each call (a test replaces it)

    with progress_bar(err, f"run {scenario.name}", "replicates", total=replications) as report:
        return simulate(
            scenario,
            replications=replications,
            seed=seed,
            progress=report if err.is_terminal else None,
            command_line=command,
        )


def _headline_table(result: Results) -> Table:
    """The headline outcomes (mean and 95% CI over replicates) as a rich table; with one
    replicate the mean alone (``NO_INTERVAL`` says why). A label that says the outcome is
    read at the horizon or at the programme's end gives the week (``ReadingWeeks``)."""
    head = result.headline()  # one row per (scenario, outcome)
    weeks = reading_weeks(result.timeseries)
    intervals = len(head) and int(head["n"].min()) >= 2
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, header_style="bold")
    table.add_column("outcome")  # at a narrow terminal a long label wraps, never a number
    table.add_column("mean", justify="right", no_wrap=True)
    if intervals:
        table.add_column("95% CI", justify="right", no_wrap=True)
    marks = censoring(result.summary).set_index("scenario")
    for _, row in head.drop_duplicates("outcome").iterrows():
        style = format_of(row["outcome"])
        mean = fmt(row["mean"], style.kind)
        ci = f"{fmt(row['ci_low'], style.kind)} to {fmt(row['ci_high'], style.kind)}"
        if row["outcome"] == CENSORED_OUTCOME and row["scenario"] in marks.index:
            m = marks.loc[row["scenario"]]  # weeks to 50% where runs never got there
            mean = censored_mean(mean, int(m["reached"]), int(m["runs"]), m["horizon"])
            ci = ci if m["reached"] else "not reached"
        table.add_row(weeks.label(style.label), mean, *([ci] if intervals else []))
    return table


NO_INTERVAL = (
    "no confidence intervals: one replicate gives no spread to estimate them from "
    "(--replications 2 or more)"
)


def run(
    ctx: typer.Context,
    scenario: Annotated[
        Path,
        typer.Argument(
            help="Scenario file (TOML), or the name of a shipped one (mensi-sim scenarios).",
            show_default=False,
        ),
    ],
    replications: Annotated[
        int, typer.Option("--replications", "-r", min=1, help="Number of replicates.")
    ] = 10,
    seed: Annotated[
        int,
        typer.Option(
            "--seed", "-s", min=0, max=MAX_SEED, help="Root seed; replicate i uses its i-th child."
        ),
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
    from mensi_sim.results import check_target

    plots = partial(write_basic_plots, **figure_options(dpi, size))
    console, err = stdout_console(), stderr_console()
    with user_errors():
        sc = load_scenario(scenario)
        if steps is not None:
            sc = _with_steps(sc, steps)
        out_dir = out if out is not None else default_out(sc.name)
        check_target(out_dir, overwrite)  # fail before the long part, not after it
        started = time.perf_counter()
        try:
            result = _simulate(sc, replications, seed, command_line(ctx), err)
        except MensiError as exc:
            raise fail(naming(scenario, exc)) from None
        except (KeyboardInterrupt, Interrupted) as stop:  # the replicates were in memory
            raise Interrupted.saying(stop, f"interrupted; nothing written to {out_dir}") from None
        elapsed = time.perf_counter() - started
        runs = result.runs
        failed = runs[runs["status"] != "ok"]
        if len(failed) == len(runs):
            first = last_line(failed["error"].iloc[0]) if len(failed) else "no runs"
            raise fail(f"{scenario}: all {len(runs)} replicates failed: {first}")
        written = result.save(out_dir, overwrite=overwrite, add_files=plots)
    n_schools = int(runs["n_schools"].iloc[0]) if "n_schools" in runs else sc.population.n_schools
    console.print(
        f"{sc.name}: {replications} replicate{'s' if replications != 1 else ''} x "
        f"{sc.time.steps} weeks, "
        f"{n_schools:,} schools ({sc.network.structure}), seed {seed}, {elapsed:.1f} s"
    )
    for record in result.manifest.get("rosters") or []:
        console.print(roster_line(record), soft_wrap=True, markup=False)
    console.print(_headline_table(result))
    if replications < 2:
        console.print(NO_INTERVAL, soft_wrap=True)
    summary = result.summary
    if CENSORED_FLAG in summary.columns:
        reached = int(summary[CENSORED_FLAG].sum())
        unit = "replicates" if len(summary) != 1 else "replicate"
        console.print(censoring_note(reached, len(summary), sc.time.steps, unit), soft_wrap=True)
    means = summary.mean(numeric_only=True).to_dict()
    for note in outside_documented_range(means):
        console.print(note, soft_wrap=True, markup=False)
    console.print(f"results: {written}", soft_wrap=True)
    files = sorted(p.name for p in written.iterdir() if not p.name.startswith("."))  # not the mark
    console.print(f"  {'  '.join(files)}", soft_wrap=True)
    if len(failed):
        typer.echo(
            f"warning: {len(failed)} of {len(runs)} replicates failed "
            f"(see runs.parquet): {last_line(failed['error'].iloc[0])}",
            err=True,
        )
        raise typer.Exit(EXIT_FAILED)


def _check_world(scenario: Scenario) -> None:
    """Generate the schools and build the network once (seed 0); raise on an impossible setup."""
    from mensi_sim.seeds import replicate_seed, run_streams
    from mensi_sim.world import build_world

    streams = run_streams(replicate_seed(0, 0))
    build_world(scenario, streams.population, streams.network)


def validate(
    scenarios: Annotated[
        list[Path],
        typer.Argument(
            help="Scenario or experiment files (TOML), or shipped names, to check.",
            show_default=False,
        ),
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
    """Check scenario and experiment files: 'ok ...' or 'error: ...' each; exit 1 if any failed.

    An experiment file (one with a ``[base]`` table or ``[factors]``) is checked as an
    experiment: its base scenario, factors and every scenario it makes."""
    console = stdout_console()
    failures = 0
    for path in scenarios:
        try:
            if _is_experiment_file(path):
                line = _validate_experiment(path, build)
            else:
                sc = load_scenario(path)
                if build:
                    _check_world(sc)
                line = (
                    f"ok {path} ({sc.name}: {sc.network.structure}, "
                    f"{sc.population.n_schools} schools, {sc.time.steps} weeks)"
                )
        except MensiError as exc:
            failures += 1
            typer.echo(f"error: {error_line(naming(path, exc))}", err=True)
            continue
        console.print(line, soft_wrap=True)
    if failures:
        raise typer.Exit(EXIT_FAILED)


def _is_experiment_file(path: Path) -> bool:
    """Whether a TOML file is an experiment (a ``[base]`` table or ``[factors]``), read with
    the scenario loader's guards (size, encoding, nesting: ``loader.read_toml``); a file
    that cannot be read is left to the scenario loader, which says why."""
    from mensi_sim.scenario.loader import read_toml

    try:
        data = read_toml(path)
    except MensiError:
        return False
    return "base" in data or "factors" in data


def _validate_experiment(path: Path, build: bool) -> str:
    """The ``ok`` line of an experiment file; with ``build``, its first scenario's schools
    and network are built once (seed 0), as for a scenario file."""
    from mensi_sim.experiments.spec import load_experiment

    exp = load_experiment(path)
    if build and exp.points:
        _check_world(exp.points[0].scenario)
    what = (
        f"{len(exp.points)} scenarios"
        if exp.spec.uncertainty is None
        else f"{len(exp.options)} options x {exp.spec.uncertainty.draws} draws"
    )
    reps = exp.spec.replications
    return (
        f"ok {path} (experiment {exp.name}: {what}, {reps} replicate{'s' if reps != 1 else ''}, "
        f"{exp.steps} weeks)"
    )


def _scenario_dir(directory: Path | None) -> Path:
    """The folder to list: as given, else ./scenarios, else the shipped scenarios."""
    from mensi_sim import shipped

    if directory is not None:
        return directory
    if SCENARIO_DIR.is_dir():
        return SCENARIO_DIR
    return shipped.folder("scenarios") or SCENARIO_DIR


def list_scenarios(
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            "-d",
            help="Folder of scenario files (default: ./scenarios, else the shipped ones, "
            "which run and sweep also take by name).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """List the scenario files in a folder with their structure and description."""
    console = stdout_console()
    with user_errors():
        folder = _scenario_dir(directory)
        if not folder.is_dir():
            raise ScenarioError(f"{folder}: no such folder")
        files = sorted(folder.glob("*.toml"))
    if not files:
        raise fail(f"{folder}: no scenario files (*.toml)")
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
            table.add_row(path.name, "-", "-", "-", f"invalid: {one_line(exc)}")
            continue
        table.add_row(
            path.name,
            "by country" if sc.network.structure_by_country else sc.network.structure,
            f"{sc.population.n_schools:,}",
            str(sc.time.steps),
            sc.description,
        )
    console.print(f"{len(files)} scenario files in {folder}", soft_wrap=True)
    console.print(table)
    if bad:
        raise typer.Exit(EXIT_FAILED)


def register(app: typer.Typer) -> None:
    """Add the ``run``, ``validate`` and ``scenarios`` commands to a typer app."""
    app.command("run")(run)
    app.command("validate")(validate)
    app.command("scenarios")(list_scenarios)
