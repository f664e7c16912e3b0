"""Small designs for the optimiser's tests: toy populations that run in milliseconds."""

from __future__ import annotations

from pathlib import Path

from mensi_sim.analysis.optimise_spec import Design, design_from_dict
from mensi_sim.scenario.schema import Scenario


def toy_base(n: int = 10, weeks: int = 40, **updates) -> Scenario:
    """n schools in one region of one country; no initial adopters; ``weeks`` weeks."""
    return Scenario().with_updates(
        {
            "population.n_schools": n,
            "population.countries": ["IT"],
            "population.regions_per_country": 1,
            "time.steps": weeks,
            "network.mentees_per_mentor": 4,
            "adoption.initial": "none",
            **updates,
        }
    )


def regions_base(weeks: int = 30) -> Scenario:
    """12 schools: 2 countries x 2 regions x 3 schools."""
    return Scenario().with_updates(
        {
            "population.n_schools": 12,
            "population.countries": ["HR", "PT"],
            "population.regions_per_country": 2,
            "time.steps": weeks,
            "network.mentees_per_mentor": 2,
        }
    )


REPO = Path(__file__).resolve().parents[2]


def tiny_design_head(name: str) -> str:
    """The start of a design file on the pilot scenario cut to 12 schools (2 countries x 2
    regions, 30 weeks) with a regions lever; a test appends its other tables."""
    scenario = (REPO / "scenarios" / "mensi_pilot.toml").as_posix()
    return f"""name = "{name}"
root_seed = 3
executor = "serial"
[base]
scenario = "{scenario}"
[base.overrides]
"population.n_schools" = 12
"population.countries" = ["HR", "PT"]
"population.regions_per_country" = 2
"time.steps" = 30
"network.mentees_per_mentor" = 2
[levers.where]
kind = "regions"
per = "country"
"""


def small_design(**changes) -> Design:
    """A regions + meetings + incentive design on ``regions_base`` with a tiny search."""
    spec = {
        "name": "small",
        "root_seed": 5,
        "levers": {
            "where": {"kind": "regions", "per": "country"},
            "online_rate": {"parameter": "contacts.rate_online", "range": [0.1, 0.9]},
            "incentive": {"kind": "incentive", "types": ["none", "funding"], "target": "mentors"},
        },
        "objectives": {"final_adoption_share": "max", "total_cash": "min"},
        "constraints": {"budget": "top_down"},
        "search": {"population": 6, "generations": 2, "replications": 4, "max_replications": 4},
        "holdout": {"replications": 4, "max_designs": 3},
    }
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(spec.get(key), dict):
            spec[key] = {**spec[key], **value}
        else:
            spec[key] = value
    return design_from_dict(spec, regions_base())
