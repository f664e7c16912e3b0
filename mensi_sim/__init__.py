"""mensi_sim: agent-based simulation of school-to-school mentoring networks.

The common case is one line::

    from mensi_sim import load_scenario, simulate
    result = simulate(load_scenario("scenarios/mensi_pilot.toml"), replications=20, seed=1)

``simulate`` and ``sweep`` return a ``Results``; ``Results.load(folder)`` reads one back.

Importing the package registers every built-in structure, adoption rule and incentive
type (``mensi_sim.registry``). ``MentoringModel`` is imported when first used, so that the
command line starts without loading Mesa (a sweep's own process never builds a model:
its workers do).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# the modules that fill the registries (cheap: their heavy imports happen where used)
import mensi_sim.dynamics.adoption
import mensi_sim.dynamics.incentives
import mensi_sim.networks  # noqa: F401
from mensi_sim.errors import MensiError, NetworkError, ResultsError, ScenarioError
from mensi_sim.results import Results
from mensi_sim.scenario import Scenario, load_scenario
from mensi_sim.simulate import SimulationResult, SweepOptions, simulate, sweep

if TYPE_CHECKING:
    from mensi_sim.model import MentoringModel

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """``MentoringModel``, imported on first use (PEP 562)."""
    if name == "MentoringModel":
        from mensi_sim.model import MentoringModel

        return MentoringModel
    raise AttributeError(f"module 'mensi_sim' has no attribute {name!r}")


__all__ = [
    "MensiError",
    "MentoringModel",
    "NetworkError",
    "Results",
    "ResultsError",
    "Scenario",
    "ScenarioError",
    "SimulationResult",
    "SweepOptions",
    "__version__",
    "load_scenario",
    "simulate",
    "sweep",
]
