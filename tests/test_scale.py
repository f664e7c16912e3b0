"""The 250,000-school path: structure, invariants and memory (nothing here is timed).

Timings are the benchmark's business (``python -m benchmarks.run``, results in
benchmarks/results.md); these tests check that the EU-scale world builds, steps and
fits in memory, and that no network builder grows quadratically.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import tracemalloc

import networkx as nx
import pytest
from support import REPO

from mensi_sim import MentoringModel, Scenario, load_scenario
from mensi_sim.networks import build_network
from mensi_sim.population import generate_population
from mensi_sim.seeds import run_streams

EU_SCALE = REPO / "scenarios" / "eu_scale.toml"
EU_MEMBERS = {
    "AT",
    "BE",
    "BG",
    "HR",
    "CY",
    "CZ",
    "DK",
    "EE",
    "FI",
    "FR",
    "DE",
    "EL",
    "HU",
    "IE",
    "IT",
    "LV",
    "LT",
    "LU",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SK",
    "SI",
    "ES",
    "SE",
}
MEMORY_LIMIT_MB = 4096

# Runs in a fresh process: builds the EU-scale world, steps it two weeks and reports
# what the test checks, including the peak resident memory of that process alone.
STEP_TWO_WEEKS = r"""
import json, resource, sys
import numpy as np
from mesa.discrete_space import DiscreteSpace
from mensi_sim import MentoringModel, load_scenario
from mensi_sim.codes import (KIND_COMMUNITY, KIND_MENTORING, KIND_NAMES, KIND_PROXIMITY,
                             ROLE_MENTEE, ROLE_MENTOR, ROLE_NONE)
from mensi_sim.population import split_counts

sc = load_scenario(sys.argv[1])
model = MentoringModel(sc, rng=0)
model.run_for(2)
st, pop, n = model.state, model.population, model.state.n
src, dst, kind = model.tie_src, model.tie_dst, model.tie_kind
mentoring, community, proximity = (kind == KIND_MENTORING, kind == KIND_COMMUNITY,
                                   kind == KIND_PROXIMITY)
participant = st.role != ROLE_NONE
ts = model.timeseries()
metrics = ts.drop(columns=["step", "week_of_year", "in_term", "programme_running"]).to_numpy()
distance = np.hypot(pop.x[src] - pop.x[dst], pop.y[src] - pop.y[dst])
facts = {
    "n": n,
    "agents": len(model.agents),
    "countries": sorted(set(pop.country_codes[c] for c in np.unique(pop.country))),
    "country_counts_as_weights": bool(np.array_equal(
        np.bincount(pop.country), split_counts(n, np.array(sc.population.country_weights)))),
    "regions": pop.n_regions,
    "state_shapes_ok": all(getattr(st, f).shape == (n,) for f in (
        "capacity", "baseline", "adopted", "engagement", "active", "member", "role",
        "cluster", "weeks_below", "threshold")) and st.cost.shape[0] == n,
    "ties": int(src.size),
    "ties_by_kind": {KIND_NAMES[k]: int(c) for k, c in enumerate(np.bincount(kind, minlength=4))},
    "tie_ends_in_range": bool(((src >= 0) & (src < n) & (dst >= 0) & (dst < n)).all()),
    "self_ties": int((src == dst).sum()),
    "mentors": int((st.role == ROLE_MENTOR).sum()),
    "mentees": int((st.role == ROLE_MENTEE).sum()),
    "members": int(st.member.sum()),
    "one_mentor_per_mentee": bool(np.array_equal(
        np.bincount(dst[mentoring], minlength=n) == 1, st.role == ROLE_MENTEE)),
    "mentoring_from_mentors": bool((st.role[src[mentoring]] == ROLE_MENTOR).all()),
    "mentoring_within_region": bool(
        (pop.region[src[mentoring]] == pop.region[dst[mentoring]]).all()),
    "community_among_participants": bool((participant[src[community]]
                                          & participant[dst[community]]).all()),
    "proximity_within_radius": bool((distance[proximity] < sc.network.proximity_radius_km).all()),
    "capacity_in_range": bool(((st.capacity >= 0) & (st.capacity <= 1)).all()),
    "engagement_in_range": bool(((st.engagement >= 0) & (st.engagement <= 1)).all()),
    "timeseries_rows": len(ts),
    "metrics_finite": bool(np.isfinite(metrics).all()),
    "adoption_never_falls": bool((np.diff(ts["adoption_share"]) >= 0).all()),
    "cost_never_falls": bool((np.diff(ts["cost_total"]) >= 0).all()),
    "meetings_week_1": float(ts["meetings"].iloc[1]),
    "mesa_space": any(isinstance(v, DiscreteSpace) for v in vars(model).values()),
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}
print(json.dumps(facts))
"""


def test_eu_scale_scenario_is_the_eu_in_proportion():
    raw = tomllib.loads(EU_SCALE.read_text(encoding="utf-8"))["population"]
    sc = load_scenario(EU_SCALE)
    pop, net = sc.population, sc.network
    assert set(pop.countries) == EU_MEMBERS and len(pop.countries) == 27
    weights = dict(zip(pop.countries, raw["country_weights"], strict=True))
    # the counts DESIGN.md section 5 gives
    assert (weights["IT"], weights["HR"], weights["CZ"], weights["PT"], weights["HU"]) == (
        31_600,
        1_340,
        5_670,
        1_580,
        3_550,
    )
    assert weights["BE"] > 3_220  # Flanders alone is about 3,220
    assert 240_000 <= sum(weights.values()) <= 260_000
    assert pop.n_schools == 250_000 and sc.network.structure == "hybrid"
    hubs = len(pop.countries) * pop.regions_per_country * net.mentors_per_region
    assert 2_000 <= hubs * (1 + net.mentees_per_mentor) <= 10_000  # a few thousand schools
    # the smallest country still has room for its hubs in every region
    smallest = min(weights.values()) / sum(weights.values()) * pop.n_schools
    assert smallest / pop.regions_per_country >= net.mentors_per_region * (
        1 + net.mentees_per_mentor
    )


@pytest.mark.slow
def test_eu_scale_world_builds_steps_and_stays_within_memory():
    done = subprocess.run(
        [sys.executable, "-c", STEP_TWO_WEEKS, str(EU_SCALE)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    sc = load_scenario(EU_SCALE)
    n = sc.population.n_schools
    assert facts["n"] == facts["agents"] == n
    assert set(facts["countries"]) == EU_MEMBERS
    assert facts["country_counts_as_weights"]
    assert facts["regions"] == 27 * sc.population.regions_per_country
    assert facts["state_shapes_ok"]
    hubs = facts["regions"] * sc.network.mentors_per_region
    assert facts["mentors"] == hubs
    assert facts["mentees"] == hubs * sc.network.mentees_per_mentor
    assert facts["members"] == facts["mentors"] + facts["mentees"]
    kinds = facts["ties_by_kind"]
    assert kinds["mentoring"] == facts["mentees"]
    assert kinds["peer"] > 0 and kinds["community"] > 0
    assert n <= kinds["proximity"] <= n * sc.network.proximity_max_ties  # linear, not n^2
    assert facts["tie_ends_in_range"] and facts["self_ties"] == 0
    for fact in (
        "one_mentor_per_mentee",
        "mentoring_from_mentors",
        "mentoring_within_region",
        "community_among_participants",
        "proximity_within_radius",
        "capacity_in_range",
        "engagement_in_range",
        "metrics_finite",
        "adoption_never_falls",
        "cost_never_falls",
    ):
        assert facts[fact], fact
    assert facts["timeseries_rows"] == 3
    assert facts["meetings_week_1"] > 0
    assert not facts["mesa_space"]  # schools are agents, with no Mesa space to lay out
    assert facts["peak_rss_mb"] < MEMORY_LIMIT_MB, facts["peak_rss_mb"]


@pytest.mark.slow
def test_eu_scale_runs_one_year_from_the_command_line(tmp_path):
    out = tmp_path / "eu"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mensi_sim.cli",
            "run",
            str(EU_SCALE),
            "--replications",
            "1",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    import pandas as pd

    ts = pd.read_parquet(out / "timeseries.parquet")
    assert len(ts) == 53 and ts["adoption_share"].iloc[-1] >= ts["adoption_share"].iloc[0]
    assert (out / "manifest.json").exists()


def _peak_build_bytes(structure: str, n: int) -> int:
    """Peak traced memory (numpy and Python objects) of generating n schools and building
    their network, proximity ties included. One country of one region, so that a
    builder working region by region or country by country sees all n schools at once;
    a mentor (top_down, virtual) per 50 schools."""
    net = {
        "structure": structure,
        "proximity": True,
        "graph_p": 4 / n,
        "graph_degree": 4,
        "mentors_per_region": n // 50,
        "virtual_mentors_per_country": n // 50,
    }
    sc = Scenario.model_validate(
        {
            "population": {"n_schools": n, "countries": ["X"], "regions_per_country": 1},
            "network": net,
        }
    )
    streams = run_streams(0)
    tracemalloc.start()
    try:
        population = generate_population(sc.population, streams.population)
        build_network(sc, population, streams.network)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "structure",
    [
        "none",
        "top_down",
        "bottom_up",
        "virtual",
        "hybrid",
        "erdos_renyi",
        "watts_strogatz",
        "ring_lattice",
        "random_regular",
        "barabasi_albert",
        "star",
    ],
)
def test_network_building_memory_grows_linearly(structure):
    # 4 times the schools: linear builders need about 4 times the memory; one that held
    # all-pairs distances (or any n x n array) would need about 16 times.
    small, large = (_peak_build_bytes(structure, n) for n in (3_000, 12_000))
    assert large / small < 8, (small, large)


def test_the_model_lays_out_nothing(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("no spring layout may be computed")

    monkeypatch.setattr(nx, "spring_layout", refuse)
    sc = Scenario.model_validate(
        {"population": {"n_schools": 500}, "network": {"structure": "hybrid"}}
    )
    model = MentoringModel(sc, rng=0)
    model.run_for(2)
    assert len(model.agents) == 500


def _benchmark_child(kind: str, spec: dict) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--child", kind, json.dumps(spec)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_benchmark_harness_still_fits_the_model():
    # the benchmark wraps the model's rule functions by name (benchmarks/phases.py): a
    # renamed rule must fail here, not on the next full benchmark run
    result = _benchmark_child("size", {"n": 120, "structure": "top_down", "steps": 4})
    assert result["n"] == 120 and result["ties"] > 0 and result["steps"] == 4
    assert result["rss_peak_mb"] >= result["rss_baseline_mb"] > 0
    assert "population" in result["setup_phases"] and "learning" in result["step_phases"]
    assert "Mesa agents" not in result["setup_phases"]  # created when first asked for


@pytest.mark.benchmark
def test_quick_benchmark_writes_its_report(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=1800,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = (tmp_path / "results.md").read_text(encoding="utf-8")
    assert "## Targets" in report and "plain Mesa" in report
    assert len((tmp_path / "results.csv").read_text(encoding="utf-8").splitlines()) > 50
    # the report written again from results.json, without measuring, is the same report
    again = tmp_path / "again"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.run",
            "--render",
            str(tmp_path / "results.json"),
            "--out",
            str(again),
        ],
        cwd=REPO,
        check=True,
    )
    assert (again / "results.md").read_text(encoding="utf-8") == report


def test_gini_at_scale_does_not_depend_on_blas_threads():
    # OpenBLAS splits a dot product of more than 10,000 values over its threads, which
    # changes the last bits; Dask workers run with one BLAS thread, local processes with
    # one per core, and a run must give the same bits on either (DESIGN.md section 3)
    code = (
        "import numpy as np; from mensi_sim.metrics import gini; "
        "print(repr(gini(np.random.default_rng(0).random(250_000))))"
    )
    values = set()
    for threads in ("1", "2"):
        env = {**os.environ, "OPENBLAS_NUM_THREADS": threads}
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
        )
        values.add(done.stdout.strip())
    assert len(values) == 1, values
