"""Scenario schema and loading."""

from mensi_sim.scenario.loader import load_scenario, scenario_from_dict, scenario_hash
from mensi_sim.scenario.schema import (
    POLICY_STRUCTURES,
    RESEARCH_GRAPHS,
    WEEKS_PER_YEAR,
    Course,
    IncentiveScheme,
    Scenario,
)

__all__ = [
    "POLICY_STRUCTURES",
    "RESEARCH_GRAPHS",
    "WEEKS_PER_YEAR",
    "Course",
    "IncentiveScheme",
    "Scenario",
    "load_scenario",
    "scenario_from_dict",
    "scenario_hash",
]
