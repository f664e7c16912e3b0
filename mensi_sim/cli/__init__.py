"""The ``mensi-sim`` command line: every command, one module per command group.

- ``scenario_commands``: ``run``, ``validate``, ``scenarios``;
- ``experiment_commands``: ``sweep``, ``compare``, ``sensitivity``;
- ``optimise_commands``: ``optimise``;
- ``view_commands``: ``plot``, ``report``, ``viz``;
- ``calibrate_commands``: ``calibrate``; ``psa_commands``: ``compare`` of a PSA;
- ``common``: one-line errors, consoles, progress bars, tables, the default folder.

This is the only floor of the package that prints. Errors a user can cause
(``MensiError``, ``OSError``) and command-line usage errors end as one line
``error: <message>`` on stderr with exit code 2 (1 for ``validate`` failures and
failed runs); anything else is a bug and keeps its traceback. ``python -m
mensi_sim.cli`` runs the same app as the ``mensi-sim`` entry point.
"""

from __future__ import annotations

import typer

from mensi_sim.cli import (
    calibrate_commands,
    experiment_commands,
    optimise_commands,
    scenario_commands,
    view_commands,
)
from mensi_sim.cli.common import OneLineErrorGroup

app = typer.Typer(
    cls=OneLineErrorGroup,
    name="mensi-sim",
    help="Agent-based simulation of school-to-school mentoring networks (MenSI).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
scenario_commands.register(app)  # run, validate, scenarios
experiment_commands.register(app)  # sweep, compare, sensitivity
optimise_commands.register(app)  # optimise
view_commands.register(app)  # plot, report, viz
calibrate_commands.register(app)  # calibrate


def main() -> None:
    """Entry point of ``python -m mensi_sim.cli``."""
    app(prog_name="mensi-sim")


__all__ = ["app", "main"]
