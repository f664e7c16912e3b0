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
    "pilot_ms": 20.0,  # one pilot run after set-up, ms
    "replications_s": 30.0,  # 1,000 pilot replications, s
    "eu_s": 60.0,  # 250,000 schools, one school year including set-up, s
    "eu_mb": 4096.0,  # 250,000 schools, peak resident memory, MB
    "speedup": 50.0,  # 10,000 schools, times faster per step than the Mesa reference
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
            "One pilot run (120 schools, 52 weeks) after set-up",
            f"< {GOALS['pilot_ms']:.0f} ms",
            pilot["run_median_ms"],
            "ms",
            GOALS["pilot_ms"],
            note,
        )
    )
    rep = results["replications"]
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
        same = ref["ref_synchronous_step_ms"] / ref["real_same_step_ms"]
        full = ref["ref_synchronous_step_ms"] / ref["real_full_step_ms"]
        note = (
            f"same network, start and rules (learning + Bass adoption): Mesa "
            f"{_fmt(ref['ref_synchronous_step_ms'])} ms vs mensi_sim "
            f"{_fmt(ref['real_same_step_ms'], 2)} ms per step; against the full mensi_sim "
            f"step (all seven rules, 20 metrics) {_fmt(full)}x"
        )
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
    return out


def _target(
    name: str,
    goal: str,
    value: float,
    unit: str,
    limit: float,
    note: str,
    higher_is_better: bool = False,
) -> dict[str, Any]:
    met = value >= limit if higher_is_better else value < limit
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


def write_markdown(results: dict[str, Any], path: Path) -> Path:
    """Write results.md."""
    versions = package_versions()
    git = git_state()
    lines = [
        "# mensi_sim benchmarks",
        "",
        f"Generated by `{results['command']}` on {results['started']}"
        + (" — **QUICK RUN** (fewer sizes and replications)" if results["quick"] else "")
        + f"; {results['elapsed_s']:.0f} s in all.",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}; "
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
    lines += [
        "",
        "## Plain Mesa reference, side by side",
        "",
        "`benchmarks/mesa_reference.py`: the same learning and Bass adoption rules written "
        "as the Mesa tutorials teach (FixedAgents on a `mesa.discrete_space.Network` built "
        "with `layout=None`; each agent loops over its neighbours in `step`; "
        "`agents.shuffle_do('step')`, then `agents.do('advance')` for the synchronous "
        "update; a DataCollector). Both run the top_down size-sweep network with "
        "proximity ties from the same start; 'same rules' is mensi_sim with engagement "
        "and the course off, 'full' is the default step (all rules, costs, 20 metrics). "
        "tests/test_mesa_reference.py checks that the two give the same statistics.",
        "",
        "| schools | ties | mensi_sim full (ms/step) | mensi_sim same rules (ms/step) "
        "| Mesa synchronous (ms/step) | Mesa asynchronous (ms/step) | speed-up, same rules "
        "| speed-up vs full | set-up: mensi_sim / Mesa (s) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["reference"]:
        sync = r["ref_synchronous_step_ms"]
        asyn = r.get("ref_asynchronous_step_ms")
        lines.append(
            f"| {r['n']:,d} | {r['ties']:,d} | {_fmt(r['real_full_step_ms'], 2)} | "
            f"{_fmt(r['real_same_step_ms'], 2)} | {_fmt(sync, 2)} | "
            f"{_fmt(asyn, 2) if asyn else 'not run'} | "
            f"{sync / r['real_same_step_ms']:,.0f}x | {sync / r['real_full_step_ms']:,.0f}x | "
            f"{_fmt(r['real_same_setup_s'], 3)} / {_fmt(r['ref_synchronous_setup_s'], 3)} |"
        )
    rep = results["replications"]
    lines += [
        "",
        "## Replications",
        "",
        f"{rep['replications']:,d} replications of scenarios/mensi_pilot.toml took "
        f"{_fmt(rep['seconds'])} s with {rep['executor']} ({rep['workers']} CPUs), "
        "including process start-up and returning every run's time series and summary.",
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
        *[f"- {c}" for c in CHANGES],
        "",
        "## Method",
        "",
        "- Times are wall-clock (`time.perf_counter`); set-up is `MentoringModel(scenario, "
        "rng)` (population, networks, Mesa agents, derived matrices); a step is "
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
    rep = results["replications"]
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
            if key.endswith(("_ms", "_s")):
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
