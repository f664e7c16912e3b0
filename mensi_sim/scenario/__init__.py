"""Scenario schema and loading."""

from mensi_sim.scenario.loader import load_scenario, scenario_from_dict, scenario_hash
from mensi_sim.scenario.schema import (
    WEEKS_PER_YEAR,
    Course,
    IncentiveScheme,
    Scenario,
    policy_structures,
    research_graphs,
)

__all__ = [
    "WEEKS_PER_YEAR",
    "Course",
    "IncentiveScheme",
    "Scenario",
    "load_scenario",
    "policy_structures",
    "research_graphs",
    "scenario_from_dict",
    "scenario_hash",
]
