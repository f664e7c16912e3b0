"""How big an experiment will be, known before its design is expanded or a run is started.

``design_points`` counts the design points of an experiment file from its factors
alone (a grid's product, a sample's size), so ``check_design`` can refuse a design that
cannot be held (``factors.grid`` with 10^8 combinations, an LHS of a million points)
before a single point is built. ``check_runs`` refuses a sweep or ``run`` whose result
tables would not fit in memory (``--replications`` 10^23). Each refusal gives the
estimate and the limit (``mensi_sim.resources``).

Measured: expanding an LHS of 16,000 points of a 30-school scenario took 238 MB
(15 KB a point) and 6.6 s; a time-series row is about 200 bytes in pandas and is held about three
times over while the tables of a sweep are consolidated and sorted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mensi_sim.errors import ScenarioError
from mensi_sim.resources import too_big
from mensi_sim.scenario.schema import Scenario

if TYPE_CHECKING:
    from mensi_sim.experiments.spec import ExperimentSpec

BYTES_PER_DESIGN_POINT = 16_000
#: at most this many design points, whatever the memory: building them alone would take
#: minutes (0.4 ms a point, measured), and running them days
MAX_DESIGN_POINTS = 500_000
BYTES_PER_ROW = 600  # a time-series row, about three copies while consolidated
BYTES_PER_RUN = 2_000  # a run's summary row, run record and task


def design_points(spec: ExperimentSpec) -> int:
    """The number of design points the factors of an experiment make."""
    from mensi_sim.experiments.design import flatten_overrides

    f = spec.factors
    if f.samples:
        d = len(flatten_overrides(f.ranges))
        total = 0
        for s in f.samples:
            if s.method == "lhs":
                total += s.n
            elif s.method == "sobol":
                total += s.n * ((2 * d + 2) if s.second_order else (d + 2))
            else:  # morris: trajectories of d + 1 points
                total += s.n * (d + 1)
        return total
    sizes = [len(v) for v in flatten_overrides(f.grid).values()]
    return math.prod(sizes) * max(1, len(f.scenarios))


def check_design(spec: ExperimentSpec, where: str) -> None:
    """ScenarioError when the design would have more points than can be held."""
    n = design_points(spec)
    if n > MAX_DESIGN_POINTS:
        raise ScenarioError(
            f"{where}: factors: the design has {n:,} points, more than {MAX_DESIGN_POINTS:,}; "
            "use a smaller grid or sample"
        )
    problem = too_big(
        f"factors: a design of {n:,} points", n * BYTES_PER_DESIGN_POINT, "use a smaller design"
    )
    if problem is not None:
        raise ScenarioError(f"{where}: {problem}")


def runs_problem(scenarios: Sequence[Scenario], replications: int) -> str | None:
    """Why ``replications`` runs of each scenario would not fit in memory, or None."""
    steps = max(s.time.steps for s in scenarios)
    n_runs = len(scenarios) * replications
    return too_big(
        f"{n_runs:,} runs ({len(scenarios):,} scenarios x {replications:,} replicates) "
        f"of {steps} weeks",
        n_runs * ((steps + 1) * BYTES_PER_ROW + BYTES_PER_RUN),
        "use fewer replicates or scenarios",
    )
