"""mensi_sim: agent-based simulation of school-to-school mentoring networks.

The common case is one line::

    from mensi_sim import load_scenario, simulate
    result = simulate(load_scenario("scenarios/mensi_pilot.toml"), replications=20, seed=1)

``simulate`` and ``sweep`` return a ``Results``; ``Results.load(folder)`` reads one back.
"""

from mensi_sim.errors import MensiError, NetworkError, ResultsError, ScenarioError
from mensi_sim.model import MentoringModel
from mensi_sim.results import Results
from mensi_sim.scenario import Scenario, load_scenario
from mensi_sim.simulate import SimulationResult, SweepOptions, simulate, sweep

__version__ = "0.1.0"

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
