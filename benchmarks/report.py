"""results.md and results.csv from the measurements of ``benchmarks.run``."""

from __future__ import annotations

import csv
import os
import platform
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.phases import REST
from mensi_sim.experiments.manifest import git_state, package_versions

GOALS = {
    "pilot_ms": 40.0,  # one pilot run (156 weeks) after set-up, ms
    "replications_s": 30.0,  # 1,000 pilot replications, s
    "eu_s": 60.0,  # 250,000 schools, one school year including set-up, s
    "eu_mb": 4096.0,  # 250,000 schools, peak resident memory, MB
    "speedup": 50.0,  # 10,000 schools, times faster per step than the tuned Mesa reference
    "floor_ratio": 1.5,  # a step against the floor kernel of the same rules, at most
    "setup_over_year": 0.25,  # set-up of 1,000,000 schools against a year's steps, at most
    "metrics_share": 0.10,  # the per-step metrics' share of a step (250,000 and more)
    "sweep_overhead_s": 2.0,  # fixed overhead of a small sweep from the command line, s
    "replications_speedup": 1.8,  # 1,000 pilot replications, default executor / serial
}

# How each network builder scales (read from the code, mensi_sim/networks); none
# computes all-pairs distances, so set-up at 250,000 schools is near-linear.
BUILDERS = [
    ("none", "n isolated nodes", "O(n)"),
    (
        "top_down / hybrid",
        "per region: k-d tree of the region's schools, each mentor's 2k + 8 nearest "
        "(doubled only if exhausted), greedy over those candidates",
        "O(n log n)",
    ),
    (
        "bottom_up",
        "per country: k-d tree query of each seeker's 50 nearest volunteers; vectorised "
        "deferred acceptance (at most 50 rounds)",
        "O(n log n)",
    ),
    ("virtual", "per scope: top capacities (sort) and a random permutation", "O(n log n)"),
    (
        "community of practice",
        "random 4-regular graph on participants (networkx up to "
        "10,000, vectorised stub pairing above)",
        "O(m)",
    ),
    (
        "peer ties",
        "pairs within a cluster by offset (loop up to the largest cluster size)",
        "O(n x cluster size)",
    ),
    ("proximity", "k-d tree query of the nearest max_ties + 1 within the radius", "O(n log n)"),
    (
        "research graphs",
        "edge arrays (numpy) or seeded networkx generators: ring lattice, "
        "Watts-Strogatz, random regular, Barabasi-Albert, G(n, p) (fast_gnp_random_graph), star",
        "O(n + ties)",
    ),
    ("complete", "all pairs by definition; refused above 50 million ties", "O(n^2)"),
    ("opening up (weekly)", "k-d tree of eligible mentors, nearest for each joiner", "O(j log m)"),
]


# Changes made for speed (issue 5), each found with pyinstrument and measured A/B on
# this machine (CPU time, best of interleaved blocks; the machine was shared).
CHANGES = [
    "metrics.gini: the rank-weighted sum above 10,000 schools is numpy's pairwise sum "
    "instead of np.dot. OpenBLAS ran that dot product on 2 threads whose spinning took a "
    "core from the step: 91 -> 44 ms per step at 250,000 schools, 35 -> 16 ms at 100,000 "
    "(and the superlinear scaling exponent came from it). It also made the last bits of "
    "capacity_gini depend on the BLAS thread count (at 30,000 schools they differed "
    "between OPENBLAS_NUM_THREADS=1, as in Dask workers, and 2); now they do not, and "
    "results up to 10,000 schools are bit-identical to before.",
    "metrics.step_metrics: shares and means from count_nonzero / add.reduce (the same "
    "values bit for bit): 28 -> 15 microseconds per step at 120 schools.",
    "networks.structures: np.setdiff1d in the per-region loops of top_down and virtual "
    "replaced by a sorted-mask difference (identical output): 38 -> 5 microseconds per "
    "region, about 0.8 ms of the pilot's set-up.",
    "MentoringModel.timeseries: one DataFrame construction instead of three "
    "DataFrame.insert calls: 1.0 -> 0.5 ms per run.",
    "Together, one pilot run_once: 18.7 -> 14.4 ms CPU (set-up 5.4 -> 4.0, 52 steps 9.4 -> 7.6).",
]

# Changes of issue 14 (closer to the floor); the before/after table above measures them
# together against the branch point. Every one keeps the dynamics bit for bit
# (tests/test_regression.py passes unchanged, tests/test_floor.py holds the floor equal).
CHANGES_14 = [
    "School agents created when model.agents is first read, not at set-up (half of a "
    "1M-school set-up); tests/test_model.py shows len(model.agents), attribute views, "
    "AgentSet verbs and a DataCollector agent reporter.",
    "Policy structures built straight into SchoolNetwork arrays (no networkx graph of "
    "every school); proximity neighbours asked in the k-d tree's order; the top_down "
    "greedy over Python lists; the community's tie check by sort and binary search.",
    "Meeting prices per tie and cluster fixed between tie changes; costs booked over the "
    "schools that paid with a running ledger of totals (no (n, 6) sum per week); "
    "learning's drift computed once.",
    "MetricsRecorder: the week's metrics in one pass (the capacity total serves the mean "
    "and the equity gap), work arrays kept from week to week. What remains of the "
    "metrics' share is the sort of every capacity for the Gini, which the floor pays too.",
    "The Gini's sort (metrics.sort_into, the floor the same) is np.sort where numpy's "
    "sort is vectorised on the CPU (metrics.SIMD_SORT, read from numpy's dispatch table: "
    "AVX2 or AVX-512 x86-simd-sort, Arm): 13 ms at a million capacities (AVX2). Without "
    "it the capacities are ordered by a 16-bit bucket each (numpy's radix sort of 16-bit "
    "keys), then sorted within the buckets by timsort, which finds them nearly sorted: "
    "45 ms against numpy's scalar quicksort's 99 ms (the same CPU with "
    "NPY_DISABLE_CPU_FEATURES), but 3.5 times slower than the vectorised sort, which it "
    "had been used beside on AVX2 machines. Either way np.sort's array, so the Gini keeps "
    "its bits. Keeping last week's order and sorting it again (the weekly changes are "
    "small) was slower: a week moves a capacity past thousands of others at 1M schools, "
    "and numpy's stable argsort, needed to carry the order on, costs more than the sort.",
    "GroupTracker.record: last week's adopters per cell updated by the schools whose "
    "adoption changed instead of counted afresh (4.1 -> about 0.4 ms at 1M schools).",
    "population.advanced_schools: the order by region, then key, as two stable sorts (by "
    "key, then by region as 16-bit integers, a radix sort) instead of np.lexsort: the "
    "same schools, 0.55 -> 0.30 s at a million schools.",
    "The Mesa yardstick interleaved in one process: rounds of a fresh model of each side "
    "(the order reversed every other round), CPU time, the median of the rounds' ratios "
    "with their range.",
    "The command line starts without Mesa, the model, networkx, scipy.spatial/sparse/"
    "stats or matplotlib (tests/test_cli_imports.py); sweep and sensitivity draw figures "
    "only when asked (--plots).",
]


def _fmt(value: float, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def _share(phases: dict[str, float], k: int) -> str:
    total = sum(phases.values()) or 1.0
    top = list(phases.items())[:k]
    return "; ".join(f"{name} {100 * s / total:.0f}%" for name, s in top)


def scaling_fit(rows: list[dict[str, Any]], min_n: int = 0) -> float:
    """Exponent b of time per step ~ (n + ties)^b, log-log least squares."""
    pts = [(r["n"] + r["ties"], r["step_ms"]) for r in rows if r["n"] >= min_n]
    if len(pts) < 2:
        return float("nan")
    x, y = np.log([p[0] for p in pts]), np.log([p[1] for p in pts])
    return float(np.polyfit(x, y, 1)[0])


def _sweep(results: dict[str, Any], structure: str) -> list[dict[str, Any]]:
    return [
        r
        for r in results["sizes"]
        if r["structure"] == structure and r["scenario"].startswith("bench_")
    ]


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target: goal, measured value, met or missed, and a note."""
    out = []
    pilot = results["pilot"]
    pilot_row = next(
        (r for r in results["sizes"] if r["n"] == 120 and r["structure"] == "top_down"), None
    )
    note = (
        f"median of {pilot['repeats']} runs; p90 {_fmt(pilot['run_p90_ms'])} ms, "
        f"CPU {_fmt(pilot['run_cpu_median_ms'])} ms; set-up {_fmt(pilot['setup_median_ms'])}"
        f" ms; run_once (set-up + run + DataFrames) {_fmt(pilot['run_once_median_ms'])} ms"
    )
    if pilot_row:
        note += f"; largest step costs: {_share(pilot_row['step_phases'], 3)}"
    out.append(
        _target(
            "One pilot run (120 schools, 156 weeks) after set-up",
            f"< {GOALS['pilot_ms']:.0f} ms",
            pilot["run_median_ms"],
            "ms",
            GOALS["pilot_ms"],
            note,
        )
    )
    rep = _first(results["replications"])
    seconds = rep["seconds"] * 1000 / rep["replications"]
    note = f"{rep['executor']}; {rep['runs_returned']} runs returned"
    if rep["replications"] != 1000:
        note = (
            f"PROJECTED from {rep['replications']} replications in "
            f"{_fmt(rep['seconds'])} s (--quick); " + note
        )
    out.append(
        _target(
            "1,000 pilot replications, default executor",
            f"< {GOALS['replications_s']:.0f} s",
            seconds,
            "s",
            GOALS["replications_s"],
            note,
        )
    )
    big = [r for r in results["sizes"] if r["n"] >= 200_000]
    if big:
        worst = max(big, key=lambda r: r["total_s"])
        note = "; ".join(
            f"{r['scenario']}: {_fmt(r['setup_s'])} s set-up + {_fmt(r['steps_s'])} s steps"
            for r in big
        )
        note += (
            f". Largest set-up cost ({worst['scenario']}): "
            f"{_share(worst['setup_phases'], 2)}; step: {_share(worst['step_phases'], 2)}"
        )
        out.append(
            _target(
                "250,000 schools, one school year including set-up",
                f"< {GOALS['eu_s']:.0f} s",
                worst["total_s"],
                "s",
                GOALS["eu_s"],
                note,
            )
        )
        heavy = max(big, key=lambda r: r["rss_peak_mb"])
        note = (
            f"peak RSS of the whole process ({heavy['scenario']}); "
            f"{_fmt(heavy['rss_baseline_mb'])} MB before the model was built"
        )
        out.append(
            _target(
                "250,000 schools, peak memory",
                "< 4 GB",
                heavy["rss_peak_mb"],
                "MB",
                GOALS["eu_mb"],
                note,
            )
        )
    else:
        out.append(
            {
                "target": "250,000 schools, one school year / memory",
                "goal": "< 60 s",
                "measured": "not run (--quick)",
                "status": "not measured",
                "note": "",
            }
        )
    ref = next((r for r in results["reference"] if r["n"] == 10_000), None)
    if ref:
        same = _speedup(ref, "synchronous")
        full = ref["ref_synchronous_step_ms"] / ref["real_full_step_ms"]
        note = (
            f"same network, start and rules (learning + Bass adoption): Mesa "
            f"{_fmt(ref['ref_synchronous_step_ms'])} ms vs mensi_sim "
            f"{_fmt(ref['real_same_step_ms'], 2)} ms per step; against the full mensi_sim "
            f"step (all seven rules, 20 metrics) {_fmt(full)}x"
        )
        if "ref_tuned_step_ms" in ref:
            tuned = _speedup(ref, "tuned")
            out.append(
                _target(
                    "10,000 schools: per step, times faster than the tuned plain-Mesa model",
                    f">= {GOALS['speedup']:.0f}x",
                    tuned,
                    "x",
                    GOALS["speedup"],
                    f"tuned Mesa {_fmt(ref['ref_tuned_step_ms'])} ms per step (each school's "
                    f"ties listed once, the same run as the tutorial one) vs mensi_sim "
                    f"{_fmt(ref['real_same_step_ms'], 2)} ms{_rounds_note(ref, 'tuned')}; "
                    f"against the tutorial-style one {_fmt(same)}x"
                    f"{_rounds_note(ref, 'synchronous')}",
                    higher_is_better=True,
                )
            )
        else:
            out.append(
                _target(
                    "10,000 schools: per step, times faster than plain Mesa",
                    f">= {GOALS['speedup']:.0f}x",
                    same,
                    "x",
                    GOALS["speedup"],
                    note,
                    higher_is_better=True,
                )
            )
    out += floor_targets(results)
    return out


def _speedup(ref: dict[str, Any], variant: str) -> float:
    """A reference's times over mensi_sim's (same rules): the median of the interleaved
    rounds' ratios, or the ratio of the two times of a run without rounds."""
    if f"speedup_{variant}_median" in ref:
        return ref[f"speedup_{variant}_median"]
    return ref[f"ref_{variant}_step_ms"] / ref["real_same_step_ms"]


def _rounds_note(ref: dict[str, Any], variant: str) -> str:
    """', median of 5 interleaved rounds (CPU), range 40-60x' when measured in rounds."""
    if f"speedup_{variant}_min" not in ref:
        return ""
    return (
        f" (median of {ref['rounds']} interleaved rounds, CPU time; range "
        f"{ref[f'speedup_{variant}_min']:.0f}-{ref[f'speedup_{variant}_max']:.0f}x)"
    )


def floor_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The targets of issue 14: the step against the floor, set-up against a year, the
    metrics' share, a small sweep's fixed overhead, replications against serial."""
    out = []
    floor = [r for r in results.get("floor", []) if r["scenario"].startswith("bench_")]
    for r in floor:
        out.append(
            _target(
                f"{r['n']:,d} schools: a step against the floor kernel (same rules, same draws)",
                f"<= {GOALS['floor_ratio']}x",
                r["ratio"],
                "x",
                GOALS["floor_ratio"],
                f"model {_fmt(r['model_step_ms'], 2)} ms vs floor {_fmt(r['floor_step_ms'], 2)} "
                f"ms per step (CPU, interleaved); identical results: "
                f"{'yes' if r['identical'] else 'NO'}",
                at_most=True,
            )
        )
    for r in results.get("floor", []):
        if r["n"] >= 1_000_000:
            out.append(
                _target(
                    f"set-up of {r['n']:,d} schools ({r['scenario']}) against a year's steps",
                    f"<= {GOALS['setup_over_year']}",
                    r["setup_over_year"],
                    "",
                    GOALS["setup_over_year"],
                    f"set-up {_fmt(r['setup_cpu_s'], 2)} s, 52 steps {_fmt(r['year_cpu_s'], 2)} "
                    "s (CPU)",
                    at_most=True,
                )
            )
    for r in floor:
        if r["n"] >= 250_000:
            out.append(
                _target(
                    f"{r['n']:,d} schools: per-step metrics' share of a step",
                    f"<= {100 * GOALS['metrics_share']:.0f}%",
                    100 * r["model_metrics_share"],
                    "%",
                    100 * GOALS["metrics_share"],
                    _gini_note(r),
                    at_most=True,
                )
            )
    for r in results.get("sweep", []):
        label = "with --plots" if r["args"] else "no figures (the default)"
        out.append(
            _target(
                f"{r['replications']}-run pilot sweep from the command line, {label}: fixed "
                "overhead",
                f"<= {GOALS['sweep_overhead_s']:.0f} s",
                r["fixed_overhead_s"],
                "s",
                GOALS["sweep_overhead_s"],
                f"wall {_fmt(r['wall_s'])} s, runs {_fmt(r['summed_run_s'])} s over "
                f"{r['workers']} workers; `mensi-sim --help` {_fmt(r['cli_start_s'], 2)} s; "
                f"{r['figures']} PNG figures",
                at_most=True,
            )
        )
    for rep in results.get("replications", []):
        if "speedup" in rep:
            out.append(
                _target(
                    f"{rep['replications']:,d} pilot replications: default executor against serial",
                    f">= {GOALS['replications_speedup']}x",
                    rep["speedup"],
                    "x",
                    GOALS["replications_speedup"],
                    f"{_fmt(rep['seconds'])} s vs {_fmt(rep['serial_seconds'])} s serial "
                    f"(wall; {rep['workers']} cores, load in the header)",
                    higher_is_better=True,
                )
            )
    return out


def _first(value: Any) -> dict[str, Any]:
    """A case's result, whether stored alone or as the first of a list."""
    return value[0] if isinstance(value, list) else value


def _gini_note(r: dict[str, Any]) -> str:
    """What the metrics' share is made of: the exact Gini (a sort of every capacity)."""
    note = (
        f"the floor's own metrics: {100 * r['floor_metrics_share']:.0f}% of its step (a sort "
        "of every capacity for the Gini)"
    )
    if "model_gini_share" in r:  # not measured before 2026-12-02
        gini = r["model_gini_share"]
        note += (
            f"; the exact Gini alone {100 * gini:.0f}% of the model's step, the other metrics "
            f"{100 * (r['model_metrics_share'] - gini):.0f}%"
        )
    return note


def _target(
    name: str,
    goal: str,
    value: float,
    unit: str,
    limit: float,
    note: str,
    higher_is_better: bool = False,
    at_most: bool = False,
) -> dict[str, Any]:
    if higher_is_better:
        met = value >= limit
    else:
        met = value <= limit if at_most else value < limit
    if met:
        margin = (value / limit) if higher_is_better else (limit / value)
        status = f"met ({margin:.1f}x margin)"
    else:
        over = (limit / value - 1) if higher_is_better else (value / limit - 1)
        status = f"MISSED by {100 * over:.0f}%"
    return {
        "target": name,
        "goal": goal,
        "measured": f"{_fmt(value)} {unit}",
        "status": status,
        "note": note,
        "value": value,
        "met": met,
    }


def cpu_description() -> str:
    """The CPU's model name and clock (Linux's /proc/cpuinfo) and whether numpy's sort is
    vectorised on it (``metrics.SIMD_SORT``): machines of one kind differ in both, and
    the absolute times differ with them (a pilot run 23 ms on one, 55 ms on another)."""
    from mensi_sim.metrics import SIMD_SORT

    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    flags = set(fields.get("flags", "").split())
    simd = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else None
    parts = [fields.get("model name") or platform.processor() or "unknown"]
    if fields.get("cpu MHz"):
        parts.append(f"{float(fields['cpu MHz']) / 1000:.1f} GHz")
    if simd:
        parts.append(simd)
    parts.append("numpy's sort vectorised" if SIMD_SORT else "numpy's sort not vectorised")
    return ", ".join(parts)


def write_markdown(results: dict[str, Any], path: Path) -> Path:
    """Write results.md (the versions, commit and machine are read once and kept in
    ``results``, so that a report rendered again from results.json shows the run's)."""
    versions = results.setdefault("versions", package_versions())
    git = results.setdefault("git", git_state())
    if "machine" not in results:  # a report rendered again keeps its run's machine
        results["machine"] = {
            "arch": platform.machine(),
            "cores": os.cpu_count(),
            "platform": platform.platform(),
            "cpu": cpu_description(),
        }
    machine = results["machine"]
    lines = [
        "# mensi_sim benchmarks",
        "",
        f"Generated by `{results['command']}` on {results['started']}"
        + (" — **QUICK RUN** (fewer sizes and replications)" if results["quick"] else "")
        + f"; {results['elapsed_s']:.0f} s in all.",
        "",
        f"Machine: {machine['arch']}, {machine['cores']} cores, {machine['platform']}"
        + (f"; CPU {machine['cpu']}" if machine.get("cpu") else "")
        + "; "
        f"load average {results['load_before'][0]:.1f} before and "
        f"{results['load_after'][0]:.1f} after (the machine is shared: wall times are noisy, "
        "ratios measured in the same run are what to compare).",
        "Versions: "
        + ", ".join(f"{k} {v}" for k, v in versions.items() if v)
        + f"; git commit {git.get('commit') or 'n/a'}"
        + (" with uncommitted changes" if git.get("dirty") else "")
        + ".",
        "",
        "## Targets",
        "",
        "| target | goal | measured | status | notes |",
        "|---|---|---|---|---|",
    ]
    for t in targets(results):
        lines.append(
            f"| {t['target']} | {t['goal']} | {t['measured']} | {t['status']} | {t['note']} |"
        )
    lines += [
        "",
        "## Size sweep: one school year (52 steps), proximity network on",
        "",
        "Each row is a fresh process. The pilot scenario scaled to n schools: 6 countries, "
        "about 1,000 schools per region (at least 4 regions per country), mentors chosen "
        "so that about 20 % of schools are mentors or mentees (at 120 schools: the pilot). "
        "`eu_scale` is scenarios/eu_scale.toml (27 countries, hybrid). Peak memory is the "
        "peak resident set of the process (Python, numpy, scipy, Mesa and networkx "
        "included); 'before model' is the same just before the model was built.",
        "",
        "| scenario | structure | schools | ties | members | set-up (s) | time per step (ms) "
        "| school-steps per s | set-up + year (s) | peak memory (MB) | before model (MB) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["sizes"]:
        scen = "eu_scale" if r["scenario"] == "eu_scale" else "size sweep"
        lines.append(
            f"| {scen} | {r['structure']} | {r['n']:,d} | {r['ties']:,d} | {r['members']:,d} "
            f"| {_fmt(r['setup_s'], 3)} | {_fmt(r['step_ms'], 2)} | "
            f"{r['school_steps_per_s']:,.0f} | {_fmt(r['total_s'], 2)} | "
            f"{_fmt(r['rss_peak_mb'])} | {_fmt(r['rss_baseline_mb'])} |"
        )
    lines += [
        "",
        "## Where the time goes",
        "",
        "Exclusive wall time per phase, from a second run of each case with timers around "
        "the network builders, Mesa agent creation, each rule and the metrics "
        f"(`benchmarks/phases.py`; '{REST}' is the step's own array code).",
        "",
        "| scenario | structure | schools | set-up: largest costs | step: largest costs |",
        "|---|---|---|---|---|",
    ]
    for r in results["sizes"]:
        lines.append(
            f"| {r['scenario']} | {r['structure']} | {r['n']:,d} | "
            f"{_share(r['setup_phases'], 3)} | {_share(r['step_phases'], 3)} |"
        )
    lines += [
        "",
        "## Scaling shape",
        "",
        "Fitted exponent b of time per step ~ (schools + ties)^b (log-log least squares; "
        "b = 1 is linear). Below about 10,000 schools a step is dominated by a fixed "
        "per-step cost (about 50 numpy calls), which flattens the fit over all sizes.",
        "",
        "| structure | b, all sizes | b, 10,000 schools and more |",
        "|---|---|---|",
    ]
    for structure in sorted(
        {r["structure"] for r in results["sizes"] if r["scenario"].startswith("bench_")}
    ):
        rows = _sweep(results, structure)
        lines.append(f"| {structure} | {scaling_fit(rows):.2f} | {scaling_fit(rows, 10_000):.2f} |")
    lines += floor_sections(results)
    lines += [
        "",
        "## Plain Mesa reference, side by side",
        "",
        "`benchmarks/mesa_reference.py`: the same learning and contact adoption rules written "
        "as the Mesa tutorials teach (FixedAgents on a `mesa.discrete_space.Network` built "
        "with `layout=None`; each agent looks up its neighbours in `step`; "
        "`agents.shuffle_do('step')`, then `agents.do('learn')` and `agents.do('advance')` "
        "for the synchronous update; a DataCollector), and the same model tuned as a user "
        "would once it works (`TunedReferenceModel`: each school's ties, the ties it draws "
        "for and its tie weight listed once; the same random numbers in the same order, so "
        "the same run). Both run the top_down size-sweep network with proximity ties from "
        "the same start; 'same rules' is mensi_sim with engagement, the course and advanced "
        "schools off, 'full' is the default step (all rules, costs, 20 metrics). "
        "The sides are interleaved in one process: in each of several rounds a fresh model "
        "of each runs the year one after the other (the order reversed every other round); "
        "times are CPU time per step, medians over the rounds, and each speed-up is the "
        "median of the rounds' ratios with their range in brackets (the asynchronous "
        "variant runs in the first round only). "
        "tests/test_mesa_reference.py checks that both give MentoringModel's statistics and "
        "that the tuned run is the tutorial run number for number.",
        "",
        "| schools | ties | mensi_sim full (ms/step) | mensi_sim same rules (ms/step) "
        "| Mesa tutorial (ms/step) | Mesa asynchronous (ms/step) | Mesa tuned (ms/step) "
        "| speed-up vs tutorial | speed-up vs tuned | set-up: mensi_sim / Mesa (s) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["reference"]:
        sync = r["ref_synchronous_step_ms"]
        asyn = r.get("ref_asynchronous_step_ms")
        tuned = r.get("ref_tuned_step_ms")
        same = r["real_same_step_ms"]
        lines.append(
            f"| {r['n']:,d} | {r['ties']:,d} | {_fmt(r['real_full_step_ms'], 2)} | "
            f"{_fmt(same, 2)} | {_fmt(sync, 2)} | "
            f"{_fmt(asyn, 2) if asyn else 'not run'} | "
            f"{_fmt(tuned, 2) if tuned else 'not run'} | {_spread_cell(r, 'synchronous')} | "
            f"{_spread_cell(r, 'tuned') if tuned else 'n/a'} | "
            f"{_fmt(r['real_same_setup_s'], 3)} / {_fmt(r['ref_synchronous_setup_s'], 3)} |"
        )
    rep = _first(results["replications"])
    serial = (
        f"; serially (the same batches, one after the other, in one process) "
        f"{_fmt(rep['serial_seconds'])} s: {rep['speedup']:.2f}x"
        if "serial_seconds" in rep
        else ""
    )
    lines += [
        "",
        "## Replications",
        "",
        f"{rep['replications']:,d} replications of scenarios/mensi_pilot.toml took "
        f"{_fmt(rep['seconds'])} s with {rep['executor']} ({rep['workers']} CPUs), "
        f"including process start-up and returning every run's time series and summary{serial}.",
        "",
        "## Network builders at scale",
        "",
        "No builder computes all-pairs distances; the only quadratic graph is the "
        "`complete` research graph, which is quadratic by definition and refused above "
        "50 million ties. The model does not use a Mesa space (no spring layout); the "
        "Mesa reference builds its Network with `layout=None`.",
        "",
        "| builder | algorithm | cost |",
        "|---|---|---|",
    ]
    lines += [f"| {b} | {a} | {c} |" for b, a, c in BUILDERS]
    lines += [
        "",
        "## Changes made for speed",
        "",
        "Issue 14 (closer to the floor):",
        "",
        *[f"- {c}" for c in CHANGES_14],
        "",
        "Issue 5 (each measured A/B at the time):",
        "",
        *[f"- {c}" for c in CHANGES],
        "",
        "## Method",
        "",
        "- Times are wall-clock (`time.perf_counter`) except against the floor and the "
        "plain Mesa references (CPU time, `time.process_time`, of each side); set-up is "
        "`MentoringModel(scenario, rng)` (population, networks, derived matrices; the Mesa "
        "agents are made when first asked for, which no benchmark does); a step is "
        "`model.step()` including the per-step metrics; time per step is the mean over "
        "the 52 weeks (36 term weeks with meetings, 16 without).",
        "- Peak memory is `resource.getrusage(RUSAGE_SELF).ru_maxrss` of the fresh process "
        "that ran the case (what `RUSAGE_CHILDREN` gives the parent for that one child).",
        "- The phase breakdown comes from a separate run, so its timers do not affect the "
        "timings above; `--profile` saves pyinstrument profiles of each case as well.",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _unit(key: str) -> str:
    """The unit of a measured key, from its name."""
    for suffix, unit in (("_ms", "ms"), ("_s", "s"), ("_mb", "MB"), ("_share", "share")):
        if key.endswith(suffix):
            return unit
    return ""


def floor_sections(results: dict[str, Any]) -> list[str]:
    """The sections of issue 14: against the floor, set-up against a year, long and big
    runs, small sweeps, and the before/after table when a baseline ran."""
    lines: list[str] = []
    floor = results.get("floor", [])
    if floor:
        lines += [
            "",
            "## Against the floor",
            "",
            "`benchmarks/floor.py` is the model's step as one lean numpy function: the same "
            "rules and the same random draws (it starts from the model's world and copies its "
            "random streams), flat arrays, every per-tie price of a meeting computed once per "
            "change of the ties, bookings over the schools that paid, no Mesa; the two run "
            "week by week one after the other in one process (CPU time of each), and must end "
            "with identical metrics (tests/test_floor.py holds them equal bit for bit at "
            "fixed seeds). Metrics: the share of each one's step spent recording the "
            "per-step metrics.",
            "",
            "| scenario | schools | ties | model (ms/step) | floor (ms/step) | ratio "
            "| metrics: model | metrics: floor | identical | set-up (s, CPU) | 52 steps (s, CPU) "
            "| set-up / year | peak memory (MB) |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in floor:
            lines.append(
                f"| {r['scenario']} | {r['n']:,d} | {r['ties']:,d} | "
                f"{_fmt(r['model_step_ms'], 2)} | {_fmt(r['floor_step_ms'], 2)} | "
                f"{r['ratio']:.2f} | {100 * r['model_metrics_share']:.0f}% | "
                f"{100 * r['floor_metrics_share']:.0f}% | "
                f"{'yes' if r['identical'] else 'no'} | {_fmt(r['setup_cpu_s'], 2)} | "
                f"{_fmt(r['year_cpu_s'], 2)} | {r['setup_over_year']:.2f} | "
                f"{_fmt(r['rss_peak_mb'])} |"
            )
    long = results.get("long", [])
    if long:
        lines += [
            "",
            "## Long and big runs",
            "",
            "`scenarios/eu_scale.toml` (27 countries, hybrid hubs with a community of "
            "practice, proximity ties) over ten school years, and scaled to two million "
            "schools for one year; one fresh process each, timed without phase timers.",
            "",
            "| run | schools | ties | weeks | set-up (s) | steps (s) | total (s) "
            "| total CPU (s) | time per step (ms) | peak memory (MB) |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in long:
            label = "ten years at EU scale" if r["steps"] > 52 else "a year of two million"
            if r["steps"] <= 52 and r["n"] < 2_000_000:
                label = "a year"
            lines.append(
                f"| {label} | {r['n']:,d} | {r['ties']:,d} | {r['steps']} | "
                f"{_fmt(r['setup_s'], 2)} | {_fmt(r['steps_s'], 2)} | {_fmt(r['total_s'], 2)} | "
                f"{_fmt(r['total_cpu_s'], 2)} | {_fmt(r['step_ms'], 2)} | "
                f"{_fmt(r['rss_peak_mb'])} |"
            )
    sweeps = results.get("sweep", [])
    if sweeps:
        lines += [
            "",
            "## Small sweeps",
            "",
            f"`mensi-sim sweep` of {sweeps[0]['replications']} pilot runs (156 weeks each) on "
            "the default executor, started as a user starts it (a fresh `python -m "
            "mensi_sim.cli` process). Fixed overhead: the wall time less the runs' own "
            "durations (from runs.parquet) shared over the workers: starting the command "
            "line, the worker pool, writing the tables and, with `--plots`, the figures.",
            "",
            "| sweep | wall (s) | runs, summed (s) | workers | fixed overhead (s) "
            "| `mensi-sim --help` (s) | figures |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in sweeps:
            lines.append(
                f"| {' '.join(r['args']) or 'default (no figures)'} | {_fmt(r['wall_s'], 2)} | "
                f"{_fmt(r['summed_run_s'], 2)} | {r['workers']} | "
                f"{_fmt(r['fixed_overhead_s'], 2)} | {_fmt(r['cli_start_s'], 2)} | "
                f"{r['figures']} |"
            )
    if results.get("baseline"):
        lines += before_after(results)
    return lines


def before_after(results: dict[str, Any]) -> list[str]:
    """The issue's figures on the baseline version and on this one, measured case by case
    one after the other in this run (the same load)."""
    base = results["baseline"]
    lines = [
        "",
        "## Before and after",
        "",
        f"The same cases on `{base['path']}` (commit {base.get('git') or 'n/a'}: before) and "
        "on this checkout (after), each pair run one after the other (the floor ratios in CPU "
        "time, the sweep and replications in wall time, which the load inflates). The floor "
        "follows this version; on the earlier one its cost totals (a ledger, not a sum over "
        "the schools) and its equity gap (total less the disadvantaged schools' sum) differ "
        "in the last bits, about 1e-14 relative.",
        "",
        "| figure | before | after | goal |",
        "|---|---|---|---|",
    ]
    pairs = list(zip(results.get("baseline_floor", []), results.get("floor", []), strict=False))
    for b, a in pairs:
        lines.append(
            f"| {a['scenario']} {a['n']:,d}: step against the floor | {b['ratio']:.2f}x "
            f"({_fmt(b['model_step_ms'], 2)} ms) | {a['ratio']:.2f}x "
            f"({_fmt(a['model_step_ms'], 2)} ms) | <= {GOALS['floor_ratio']}x |"
        )
    for b, a in pairs:
        if a["n"] >= 1_000_000:
            lines.append(
                f"| {a['scenario']} {a['n']:,d}: set-up / a year's steps (CPU) | "
                f"{b['setup_over_year']:.2f} ({_fmt(b['setup_cpu_s'], 1)} s / "
                f"{_fmt(b['year_cpu_s'], 1)} s) | {a['setup_over_year']:.2f} "
                f"({_fmt(a['setup_cpu_s'], 1)} s / {_fmt(a['year_cpu_s'], 1)} s) | "
                f"<= {GOALS['setup_over_year']} |"
            )
    for b, a in pairs:
        if a["n"] >= 250_000 and a["scenario"].startswith("bench_"):
            lines.append(
                f"| {a['n']:,d}: metrics' share of a step | "
                f"{100 * b['model_metrics_share']:.0f}% | {100 * a['model_metrics_share']:.0f}% "
                f"| <= {100 * GOALS['metrics_share']:.0f}% |"
            )
    for b in results.get("baseline_sweep", []):
        after = results.get("sweep", [])
        plain = next((r for r in after if not r["args"]), None)
        drawn = next((r for r in after if r["args"]), None)
        if plain and drawn:
            lines.append(
                f"| {b['replications']}-run pilot sweep: fixed overhead | "
                f"{_fmt(b['fixed_overhead_s'], 2)} s (figures always) | "
                f"{_fmt(plain['fixed_overhead_s'], 2)} s ({_fmt(drawn['fixed_overhead_s'], 2)} s "
                f"with --plots) | <= {GOALS['sweep_overhead_s']:.0f} s |"
            )
            lines.append(
                f"| `mensi-sim --help` | {_fmt(b['cli_start_s'], 2)} s | "
                f"{_fmt(plain['cli_start_s'], 2)} s | |"
            )
    for b, a in zip(
        results.get("baseline_replications", []), results.get("replications", []), strict=False
    ):
        if "speedup" in a:
            lines.append(
                f"| {a['replications']:,d} pilot replications: default executor / serial | "
                f"{b['speedup']:.2f}x ({_fmt(b['seconds'])} s) | {a['speedup']:.2f}x "
                f"({_fmt(a['seconds'])} s) | >= {GOALS['replications_speedup']}x |"
            )
    for b, a in zip(
        results.get("baseline_reference", []), results.get("reference", [])[-1:], strict=False
    ):
        if "ref_tuned_step_ms" in a:
            lines.append(
                f"| {a['n']:,d} schools: times faster than the tutorial / tuned Mesa | "
                f"{_speedup(b, 'synchronous'):.0f}x / {_speedup(b, 'tuned'):.0f}x | "
                f"{_speedup(a, 'synchronous'):.0f}x / {_speedup(a, 'tuned'):.0f}x | "
                f">= {GOALS['speedup']:.0f}x (tuned) |"
            )
    return lines


def _spread_cell(ref: dict[str, Any], variant: str) -> str:
    """'42x (38-47)': the median ratio and its range over the rounds."""
    value = f"{_speedup(ref, variant):,.0f}x"
    if f"speedup_{variant}_min" in ref:
        value += f" ({ref[f'speedup_{variant}_min']:,.0f}-{ref[f'speedup_{variant}_max']:,.0f})"
    return value


def write_csv(results: dict[str, Any], path: Path) -> Path:
    """Write results.csv: one row per figure (section, case, structure, n_schools, metric,
    value, unit)."""
    rows: list[tuple] = []
    units = {
        "setup_s": "s",
        "setup_cpu_s": "s",
        "steps_s": "s",
        "steps_cpu_s": "s",
        "step_ms": "ms",
        "step_median_ms": "ms",
        "term_step_median_ms": "ms",
        "total_s": "s",
        "school_steps_per_s": "1/s",
        "rss_baseline_mb": "MB",
        "rss_peak_mb": "MB",
        "ties": "ties",
        "members": "schools",
    }
    for r in results["sizes"]:
        for key, unit in units.items():
            rows.append(("size", r["scenario"], r["structure"], r["n"], key, r[key], unit))
        for part in ("setup_phases", "step_phases"):
            for phase, seconds in r[part].items():
                rows.append(
                    (
                        "phases",
                        r["scenario"],
                        r["structure"],
                        r["n"],
                        f"{part[:-7]}: {phase}",
                        seconds,
                        "s",
                    )
                )
    p = results["pilot"]
    for key, value in p.items():
        if key.endswith("_ms"):
            rows.append(("pilot", "mensi_pilot", "top_down", 120, key, value, "ms"))
    rep = _first(results["replications"])
    rows.append(
        (
            "replications",
            rep["executor"],
            "top_down",
            120,
            f"seconds for {rep['replications']} replications",
            rep["seconds"],
            "s",
        )
    )
    for r in results["reference"]:
        for key, value in r.items():
            if key.startswith("speedup_"):
                rows.append(
                    ("mesa_reference", "top_down + proximity", "top_down", r["n"], key, value, "x")
                )
            elif key.endswith(("_ms", "_s")):
                rows.append(
                    (
                        "mesa_reference",
                        "top_down + proximity",
                        "top_down",
                        r["n"],
                        key,
                        value,
                        "ms" if key.endswith("_ms") else "s",
                    )
                )
    for structure in ("top_down", "virtual"):
        sweep = _sweep(results, structure)
        if sweep:
            rows.append(
                ("scaling", "exponent, all sizes", structure, "", "b", scaling_fit(sweep), "")
            )
            rows.append(
                (
                    "scaling",
                    "exponent, >= 10,000",
                    structure,
                    "",
                    "b",
                    scaling_fit(sweep, 10_000),
                    "",
                )
            )
    for section in ("floor", "long", "sweep", "baseline_floor", "baseline_sweep"):
        for r in results.get(section, []):
            for key, value in r.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    rows.append(
                        (
                            section,
                            r.get("scenario", "pilot sweep"),
                            r.get("structure", ""),
                            r.get("n", 120),
                            key,
                            value,
                            _unit(key),
                        )
                    )
    for t in targets(results):
        if "value" in t:
            rows.append(
                (
                    "target",
                    t["target"],
                    "",
                    "",
                    "met" if t["met"] else "missed",
                    t["value"],
                    t["measured"].split()[-1],
                )
            )
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["section", "case", "structure", "n_schools", "metric", "value", "unit"])
        for row in rows:
            value = row[5]
            writer.writerow(
                [*row[:5], f"{value:.6g}" if isinstance(value, float) else value, row[6]]
            )
    return path
