"""The ``plot``, ``report`` and ``viz`` commands of ``mensi-sim``.

``register(app)`` adds them to a typer app (``mensi_sim.cli`` calls it). Errors a user
can cause (not a results directory, a bad scenario file, a port in use, the viz
extra missing) end as one line ``error: ...`` on stderr with exit code 2.
"""

from __future__ import annotations

import errno
import os
import socket
import sys
from pathlib import Path
from typing import Annotated

import typer

from mensi_sim.cli.common import DpiOption, SizeOption, fail, figure_options, user_errors

DEFAULT_PORT = 8765


def _weeks(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        weeks = sorted({int(w) for w in text.replace(" ", "").split(",") if w})
    except ValueError:
        raise fail(f"--weeks: {text!r} is not a comma-separated list of weeks") from None
    if not weeks or weeks[0] < 0:
        raise fail(f"--weeks: {text!r}: give weeks >= 0, e.g. 0,12,24,36")
    return weeks


ResultsArg = Annotated[
    Path,
    typer.Argument(
        help="Results directory (of run, sweep, compare or sensitivity).", show_default=False
    ),
]
NetworkOpt = Annotated[
    bool,
    typer.Option(
        "--network/--no-network",
        help="Draw the network pictures (re-runs replicate 0 of one scenario).",
    ),
]
ScenarioOpt = Annotated[
    str | None,
    typer.Option(
        "--scenario",
        help="Scenario whose network to draw (default: the first that is not the baseline).",
        show_default=False,
    ),
]
WeeksOpt = Annotated[
    str | None,
    typer.Option(
        "--weeks",
        help="Weeks of the network strip, e.g. 0,12,24,36 (default: five, evenly spread).",
        show_default=False,
    ),
]


def plot(
    results: ResultsArg,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Folder for the figures (default: RESULTS).", show_default=False
        ),
    ] = None,
    formats: Annotated[
        list[str] | None,
        typer.Option(
            "--format",
            "-f",
            help="File format, repeatable (default: png and svg).",
            show_default=False,
        ),
    ] = None,
    network: NetworkOpt = True,
    scenario: ScenarioOpt = None,
    weeks: WeeksOpt = None,
    dpi: DpiOption = None,
    size: SizeOption = None,
) -> None:
    """Draw every figure that fits a results directory (PNG and SVG)."""
    from mensi_sim.plotting.collect import DEFAULT_FORMATS, write_plots

    figure = figure_options(dpi, size)

    fmts = tuple(f.lstrip(".").lower() for f in (formats or DEFAULT_FORMATS))
    bad = [
        f
        for f in fmts
        if f not in ("png", "svg", "pdf", "jpg", "jpeg", "eps", "ps", "tif", "tiff", "webp")
    ]
    if bad:
        raise fail(f"--format: unsupported format {bad[0]!r} (use png, svg or pdf)")
    wanted = _weeks(weeks)
    err = sys.stderr.isatty()
    with user_errors():
        written, notes = write_plots(
            results,
            formats=fmts,
            out_dir=out,
            network=network,
            network_scenario=scenario,
            weeks=wanted,
            progress=(lambda name: typer.echo(f"drawing {name} ...", err=True)) if err else None,
            **figure,
        )
    folder = out if out is not None else results
    names = sorted({p.stem for p in written})
    typer.echo(f"{len(written)} files in {folder}: {', '.join(names)} ({', '.join(fmts)})")
    for note in notes:
        typer.echo(f"note: {note}", err=True)


def report(
    results: ResultsArg,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="File to write (default: RESULTS/report.html).", show_default=False
        ),
    ] = None,
    network: NetworkOpt = True,
    scenario: ScenarioOpt = None,
    weeks: WeeksOpt = None,
) -> None:
    """Write report.html: one self-contained page (no network access needed to open it)."""
    from mensi_sim.report import write_report

    wanted = _weeks(weeks)
    err = sys.stderr.isatty()
    with user_errors():
        path = write_report(
            results,
            out,
            network=network,
            network_scenario=scenario,
            weeks=wanted,
            progress=(lambda name: typer.echo(f"{name} ...", err=True)) if err else None,
        )
    size = path.stat().st_size
    typer.echo(f"report: {path} ({size / 1e6:.1f} MB); open it in any browser, offline")


def listen_problem(host: str, port: int) -> str | None:
    """Why the app cannot listen on ``host:port``, naming the option to change; or None."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        return f"--host: cannot listen on {host!r}: {reason}"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as s:
        try:
            s.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"--port: {host}:{port} is in use (--port 0 picks a free one)"
            if exc.errno == errno.EADDRNOTAVAIL:
                return f"--host: {host} is not an address of this machine"
            if exc.errno in (errno.EACCES, errno.EPERM):
                return f"--port: {port} needs more privileges here (use a port above 1023)"
            return f"--host {host} --port {port}: cannot listen: {exc.strerror or exc}"
    return None


def viz(
    scenario: Annotated[
        Path | None,
        typer.Argument(
            help="Scenario file or shipped name to start from (default: the shipped MenSI pilot).",
            show_default=False,
        ),
    ] = None,
    port: Annotated[
        int,
        typer.Option("--port", "-p", min=0, max=65535, help="Port to serve on (0: any free port)."),
    ] = DEFAULT_PORT,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    open_browser: Annotated[
        bool, typer.Option("--open/--no-open", help="Open the page in the default browser.")
    ] = False,
) -> None:
    """Start the interactive app (Mesa SolaraViz) in the browser; Ctrl+C stops it."""
    from mensi_sim.scenario import load_scenario

    env = dict(os.environ)
    name = "the MenSI pilot"
    if scenario is not None:
        with user_errors():
            sc = load_scenario(scenario)
        name = f"{sc.name} ({scenario})"
        from mensi_sim.viz.model import ENV_SCENARIO

        env[ENV_SCENARIO] = str(Path(sc.source_path).resolve())  # a shipped name: its file
    import importlib.util

    for module in ("solara", "altair"):  # what mesa[viz] adds
        if importlib.util.find_spec(module) is None:
            raise fail(
                f"the app needs the viz extra ({module} is missing): pip install 'mensi_sim[viz]'"
            )
    from mensi_sim.viz import assets
    from mensi_sim.viz.browser import free_port, solara_command

    problem = listen_problem(host, port)
    if problem is not None:
        raise fail(problem)
    if port == 0:
        port = free_port(host)
    if assets.missing():
        try:
            added = assets.install_assets()
            typer.echo(f"fetched Solara's browser assets: {', '.join(added)}", err=True)
        except RuntimeError as exc:  # online, Solara fetches them itself
            typer.echo(f"note: {exc}; Solara will fetch them from its CDN", err=True)
    command = solara_command(host, port)
    if open_browser:
        command = [c for c in command if c != "--no-open"] + ["--open"]
    url = f"http://{host}:{port}/"
    typer.echo(f"mensi-sim viz: {name} at {url} (Ctrl+C to stop)")
    sys.stdout.flush()
    sys.stderr.flush()
    # become the server: Ctrl+C and signals reach it directly, and no process is left over
    os.execve(command[0], command, env)


def register(app: typer.Typer) -> None:
    """Add the ``plot``, ``report`` and ``viz`` commands to a typer app."""
    app.command("plot")(plot)
    app.command("report")(report)
    app.command("viz")(viz)
