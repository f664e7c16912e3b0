"""The regression cases: a few exact outcomes of the shipped scenarios at fixed seeds.

``python -m tests.regression.cases`` (or ``scripts/update-regression``) recomputes them
and rewrites ``baseline.json``: run it only when a change of the numbers is intended,
and say why in the commit. tests/test_regression.py fails on any other change.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from mensi_sim import load_scenario, simulate

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BASELINE = HERE / "baseline.json"

#: (scenario file, overrides that keep the case quick, replications, root seed)
CASES = {
    "mensi_pilot": ("mensi_pilot.toml", {}, 2, 0),
    "baseline_none": ("baseline_none.toml", {}, 2, 0),
    "bottom_up": ("bottom_up.toml", {}, 2, 0),
    "virtual": ("virtual.toml", {}, 2, 0),
    "hybrid": ("hybrid.toml", {}, 2, 0),
    "italy_national (3,000 schools, 70 weeks)": (
        "italy_national.toml",
        {"population.n_schools": 3000, "time.steps": 70, "opening.start_week": 40},
        1,
        0,
    ),
    "eu_scale (50,000 schools, 4 weeks)": (
        "eu_scale.toml",
        {"population.n_schools": 50000, "time.steps": 4},
        1,
        0,
    ),
}
#: the outcomes kept, per replicate
OUTCOMES = (
    "final_adoption_share",
    "end_adoption_share",
    "capacity_gain",
    "final_equity_gap",
    "total_cash",
    "total_staff_time",
    "staff_hours",
    "meetings_total",
    "members_final",
    "dropouts",
)


def compute() -> dict[str, dict[str, list[float]]]:
    """Every case's outcomes, replicate by replicate (floats as Python floats)."""
    out = {}
    for name, (file, overrides, reps, seed) in CASES.items():
        sc = load_scenario(REPO / "scenarios" / file)
        if overrides:
            sc = sc.with_updates(overrides)
        summary = simulate(sc, replications=reps, seed=seed).summary
        out[name] = {o: [float(v) for v in summary[o]] for o in OUTCOMES}
    return out


def main() -> int:
    BASELINE.write_text(json.dumps(compute(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {BASELINE.relative_to(REPO)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
