"""The measurements, each run in a fresh Python process by ``benchmarks.run``.

Every function takes a JSON-able spec and returns a JSON-able dict. Running each in
its own process keeps sizes from contaminating each other: the peak resident memory
(``ru_maxrss`` of the process itself, which is what ``RUSAGE_CHILDREN`` reports to the
parent for that one child) belongs to one case only.
"""

from __future__ import annotations

import functools
import gc
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.phases import SETUP_PHASES, STEP_PHASES, PhaseTimer, timed_phases
from mensi_sim import MentoringModel, load_scenario, metrics
from mensi_sim.experiments.replicate import run_once
from mensi_sim.scenario.schema import Scenario
from mensi_sim.seeds import replicate_seed

REPO = Path(__file__).resolve().parents[1]
PILOT = REPO / "scenarios" / "mensi_pilot.toml"
EU_SCALE = REPO / "scenarios" / "eu_scale.toml"

#: the size sweep: about this many schools per region at large sizes ...
SCHOOLS_PER_REGION = 1000
#: ... and about this share of the schools in the mentoring network
COVERAGE = 0.2
COUNTRIES = 6  # the MenSI pilot's


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (MB; ru_maxrss is in KB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def size_scenario(n: int, structure: str, steps: int = 52) -> Scenario:
    """The pilot scenario scaled to ``n`` schools with the proximity network on.

    Six countries; about ``SCHOOLS_PER_REGION`` schools per region (at least 4 regions
    per country, as the pilot); mentors per region (top_down) or per country (virtual)
    chosen so that about ``COVERAGE`` of the schools are mentors or mentees (at 120
    schools this is the pilot itself: 24 hubs of 1 + 4 schools).
    """
    regions = int(np.clip(round(n / COUNTRIES / SCHOOLS_PER_REGION), 4, 1000))
    per_region = n / (COUNTRIES * regions)
    return load_scenario(PILOT).with_updates(
        {
            "name": f"bench_{structure}_{n}",
            "time.steps": steps,
            "population.n_schools": n,
            "population.regions_per_country": regions,
            "network.structure": structure,
            "network.proximity": True,
            "network.mentors_per_region": max(1, round(per_region * COVERAGE / 5)),
            "network.virtual_mentors_per_country": max(4, round(n / COUNTRIES * COVERAGE / 9)),
        }
    )


def like_for_like(scenario: Scenario) -> Scenario:
    """The scenario with only the rules the Mesa reference has: learning and the contact
    adoption rule (engagement fixed at 1, no course, no advanced schools; a random 20 %
    adopted at the start)."""
    return scenario.with_updates(
        {
            "engagement.enabled": False,
            "training.courses": [],
            "adoption.initial": "share",
            "population.advanced_share": 0.0,
        }
    )


def _timed_run(scenario: Scenario, seed: int, steps: int) -> dict[str, Any]:
    """Set up and run one model; wall and CPU times of set-up and of each step."""
    w0, c0 = time.perf_counter(), time.process_time()
    model = MentoringModel(scenario, rng=seed)
    w1, c1 = time.perf_counter(), time.process_time()
    per_step = []
    for _ in range(steps):
        t = time.perf_counter()
        model.step()
        per_step.append(time.perf_counter() - t)
    w2, c2 = time.perf_counter(), time.process_time()
    term = [s for i, s in enumerate(per_step) if i % 52 < scenario.time.term_weeks]
    return {
        "model": model,
        "setup_s": w1 - w0,
        "setup_cpu_s": c1 - c0,
        "steps_s": w2 - w1,
        "steps_cpu_s": c2 - c1,
        "step_ms": 1e3 * (w2 - w1) / steps,
        "step_median_ms": 1e3 * statistics.median(per_step),
        "term_step_median_ms": 1e3 * statistics.median(term) if term else float("nan"),
    }


def _profile(scenario: Scenario, seed: int, steps: int, out: Path) -> None:
    """pyinstrument profiles of set-up and steps (text), when pyinstrument is installed."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    prof = Profiler(interval=0.001)
    prof.start()
    model = MentoringModel(scenario, rng=seed)
    prof.stop()
    text = "SET-UP\n" + prof.output_text(unicode=False, color=False)
    prof = Profiler(interval=0.001)
    prof.start()
    model.run_for(steps)
    prof.stop()
    text += "\nSTEPS\n" + prof.output_text(unicode=False, color=False)
    out.write_text(text, encoding="utf-8")


def size_case(spec: dict[str, Any]) -> dict[str, Any]:
    """Set-up, time per step, school-steps per second, peak memory and phase breakdown of
    one size and structure (or of a scenario file when ``spec["scenario"]`` is given)."""
    steps, seed = spec.get("steps", 52), spec.get("seed", 1)
    if spec.get("scenario"):
        scenario = load_scenario(spec["scenario"]).with_updates({"time.steps": steps})
    else:
        scenario = size_scenario(spec["n"], spec["structure"], steps)
    baseline = peak_rss_mb()
    run = _timed_run(scenario, seed, steps)
    model = run.pop("model")
    peak = peak_rss_mb()
    n, ties = model.state.n, int(model.tie_src.size)
    result = {
        **run,
        "n": n,
        "ties": ties,
        "members": int(model.state.member.sum()),
        "structure": scenario.network.structure,
        "scenario": scenario.name,
        "steps": steps,
        "total_s": run["setup_s"] + run["steps_s"],
        "school_steps_per_s": n * steps / run["steps_s"],
        "rss_baseline_mb": baseline,
        "rss_peak_mb": peak,
    }
    del model
    gc.collect()
    # a second run of the same case with the phase timers in place
    timer = PhaseTimer()
    timer.install(SETUP_PHASES + STEP_PHASES)
    timed, result["setup_phases"] = timed_phases(
        functools.partial(MentoringModel, scenario, rng=seed), timer
    )
    _, result["step_phases"] = timed_phases(functools.partial(timed.run_for, steps), timer)
    del timed
    gc.collect()
    if spec.get("profile_dir"):
        name = f"{scenario.network.structure}_{n}.txt"
        _profile(scenario, seed, steps, Path(spec["profile_dir"]) / name)
    return result


def pilot_case(spec: dict[str, Any]) -> dict[str, Any]:
    """One pilot run (120 schools, its horizon of 156 weeks): set-up, run after set-up, and
    run_once (set-up, run and tidy DataFrames), each repeated ``spec["repeats"]`` times."""
    repeats = spec["repeats"]
    scenario = load_scenario(PILOT)
    for r in range(5):  # warm-up: imports, caches
        run_once(scenario, 0, r)
    setup, run, run_cpu = [], [], []
    for r in range(repeats):
        w0 = time.perf_counter()
        model = MentoringModel(scenario, rng=replicate_seed(0, r))
        w1, c1 = time.perf_counter(), time.process_time()
        model.run_for(scenario.time.steps)
        w2, c2 = time.perf_counter(), time.process_time()
        setup.append(w1 - w0)
        run.append(w2 - w1)
        run_cpu.append(c2 - c1)
    whole = []
    for r in range(repeats):
        w0 = time.perf_counter()
        run_once(scenario, 0, r)
        whole.append(time.perf_counter() - w0)

    def ms(values: list[float], q: float) -> float:
        return 1e3 * float(np.quantile(values, q))

    return {
        "repeats": repeats,
        "setup_median_ms": ms(setup, 0.5),
        "run_median_ms": ms(run, 0.5),
        "run_p90_ms": ms(run, 0.9),
        "run_min_ms": ms(run, 0.0),
        "run_cpu_median_ms": ms(run_cpu, 0.5),
        "run_once_median_ms": ms(whole, 0.5),
    }


def _run_chunk(scenario: Scenario, seed: int, replicates: list[int]) -> list:
    return [run_once(scenario, seed, r) for r in replicates]


def _package_executor(scenario: Scenario, seed: int, reps: int) -> tuple[list, str] | None:
    """Run the replicates on the package's default ("local") executor, the way its
    experiment runner does (RunTask batches through run_batch); None when the package
    has no executors (mensi_sim.experiments.execution)."""
    try:
        from mensi_sim.experiments.execution import (
            RunTask,
            batch_size,
            batches,
            make_executor,
            run_batch,
        )
    except ImportError:
        return None
    handle = make_executor("local")
    tasks = [RunTask(0, scenario, seed, r) for r in range(reps)]
    size = batch_size(len(tasks), handle.workers)
    try:
        parts = list(batches(tasks, size, handle.workers))
    except TypeError:  # an earlier version (--baseline): no even split over the workers
        parts = list(batches(tasks, size))
    with handle.executor as executor:
        done = [d for part in executor.map(run_batch, parts) for d in part]
    failed = sum(d.timeseries is None for d in done)
    if failed:
        raise RuntimeError(f"{failed} of {reps} pilot runs failed")
    name = (
        f"the default executor, mensi_sim.experiments.execution.make_executor('local') "
        f"= {handle.description}, {len(parts)} batches of at most {size} runs (run_batch)"
    )
    return done, name


def replications_case(spec: dict[str, Any]) -> dict[str, Any]:
    """Time ``spec["replications"]`` replicates of the pilot on the default executor (or a
    ProcessPoolExecutor over run_once in chunks when the package has no executors), then
    the same runs one after the other in this process (the serial executor, the same
    batches): the speed-up of the default executor over serial."""
    scenario = load_scenario(PILOT)
    reps, seed = spec["replications"], 0
    workers = os.cpu_count() or 1
    start = time.perf_counter()
    found = None if spec.get("force_pool") else _package_executor(scenario, seed, reps)
    if found is not None:
        results, name = found
    else:
        chunk = max(1, min(50, reps // (4 * workers)))
        name = (
            f"concurrent.futures.ProcessPoolExecutor({workers} workers) over "
            f"mensi_sim.experiments.replicate.run_once in chunks of {chunk} (the package has no "
            "executors)"
        )
        chunks = [list(range(i, min(i + chunk, reps))) for i in range(0, reps, chunk)]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = [
                out
                for part in pool.map(
                    _run_chunk, [scenario] * len(chunks), [seed] * len(chunks), chunks
                )
                for out in part
            ]
    elapsed = time.perf_counter() - start
    out = {
        "replications": reps,
        "seconds": elapsed,
        "executor": name,
        "workers": workers,
        "runs_returned": len(results),
    }
    if spec.get("serial", True):
        start = time.perf_counter()
        serial = _run_chunk(scenario, seed, list(range(reps)))
        out["serial_seconds"] = time.perf_counter() - start
        out["speedup"] = out["serial_seconds"] / elapsed
        assert len(serial) == reps
    return out


def _scenario_of(spec: dict[str, Any]) -> Scenario:
    """A case's scenario: a scenario file (``scenario``, with ``n`` schools if given) or the
    size sweep's (``n``, ``structure``), over ``steps`` weeks."""
    steps = spec.get("steps", 52)
    if spec.get("scenario"):
        updates: dict[str, Any] = {"time.steps": steps}
        if spec.get("n"):
            updates["population.n_schools"] = spec["n"]
        return load_scenario(REPO / spec["scenario"]).with_updates(updates)
    return size_scenario(spec["n"], spec["structure"], steps)


def floor_case(spec: dict[str, Any]) -> dict[str, Any]:
    """The model's step against the floor kernel of the same rules and draws
    (``benchmarks.floor``) on the same world: set-up, then each week ``model.step()`` and
    ``floor.step()`` one after the other, CPU time of each (and of the per-step metrics in
    each), so that both see the same load; the two must end with identical metrics."""
    from benchmarks.floor import FloorKernel

    scenario = _scenario_of(spec)
    steps = spec.get("steps", 52)
    clock = time.process_time
    baseline = peak_rss_mb()
    c0 = clock()
    model = MentoringModel(scenario, rng=spec.get("seed", 1))
    setup = clock() - c0
    floor = FloorKernel(model)
    spent = {"model_metrics": 0.0, "floor_metrics": 0.0}

    def timed(fn, key):
        def wrapper(*args, **kwargs):
            t = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[key] += clock() - t

        return wrapper

    model._record = timed(model._record, "model_metrics")
    floor._metrics = timed(floor._metrics, "floor_metrics")
    # the exact Gini's part of the model's metrics: its sort and its rank-weighted sum
    # (module globals, looked up at each call by MetricsRecorder.row)
    spent["model_gini"] = 0.0
    originals = {name: getattr(metrics, name) for name in ("sort_into", "_gini_of_sorted")}
    for name, fn in originals.items():
        setattr(metrics, name, timed(fn, "model_gini"))
    model_s = floor_s = 0.0
    gc.disable()
    try:
        for _ in range(steps):
            t = clock()
            model.step()
            model_s += clock() - t
            t = clock()
            floor.step()
            floor_s += clock() - t
    finally:
        gc.enable()
        for name, fn in originals.items():
            setattr(metrics, name, fn)
    identical = bool(np.array_equal(floor.timeseries(), np.vstack(model._records)))
    return {
        "n": model.state.n,
        "ties": int(model.ties.n_ties),
        "members": int(model.state.member.sum()),
        "structure": scenario.network.structure,
        "scenario": scenario.name,
        "steps": steps,
        "setup_cpu_s": setup,
        "year_cpu_s": model_s * 52 / steps,
        "setup_over_year": setup / (model_s * 52 / steps),
        "model_step_ms": 1e3 * model_s / steps,
        "floor_step_ms": 1e3 * floor_s / steps,
        "ratio": model_s / floor_s,
        "model_metrics_share": spent["model_metrics"] / model_s,
        "floor_metrics_share": spent["floor_metrics"] / floor_s,
        "model_gini_share": spent["model_gini"] / model_s,
        "identical": identical,
        "rss_baseline_mb": baseline,
        "rss_peak_mb": peak_rss_mb(),
    }


def long_case(spec: dict[str, Any]) -> dict[str, Any]:
    """One long or big run, timed and measured for memory only (no phase timers): set-up
    and all the steps, wall and CPU, peak resident memory."""
    scenario = _scenario_of(spec)
    steps = spec.get("steps", 52)
    baseline = peak_rss_mb()
    run = _timed_run(scenario, spec.get("seed", 1), steps)
    model = run.pop("model")
    return {
        **run,
        "n": model.state.n,
        "ties": int(model.ties.n_ties),
        "members": int(model.state.member.sum()),
        "structure": scenario.network.structure,
        "scenario": scenario.name,
        "steps": steps,
        "total_s": run["setup_s"] + run["steps_s"],
        "total_cpu_s": run["setup_cpu_s"] + run["steps_cpu_s"],
        "final_adoption_share": float(model.state.adopted.mean()),
        "rss_baseline_mb": baseline,
        "rss_peak_mb": peak_rss_mb(),
    }


def _package_root() -> Path:
    """The folder this process imports mensi_sim from (``python -m`` puts its working
    directory first on sys.path: the command line must start there to run the same one)."""
    import mensi_sim

    return Path(mensi_sim.__file__).parent.parent


def sweep_case(spec: dict[str, Any]) -> dict[str, Any]:
    """A small sweep from the command line: ``mensi-sim sweep`` of ``replications`` pilot
    runs on the default executor, as a user starts it (a fresh process). Its fixed
    overhead is the wall time less the runs' own durations shared over the workers; the
    start of the command line alone is ``mensi-sim --help``."""
    reps = spec.get("replications", 200)
    env = dict(os.environ)  # the package this process imports (benchmarks.run's child)
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([*paths, *([] if str(REPO) in paths else [str(REPO)])])
    cli = [sys.executable, "-m", "mensi_sim.cli"]
    starts = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run(
            [*cli, "--help"], capture_output=True, env=env, cwd=_package_root(), check=True
        )
        starts.append(time.perf_counter() - t)
    with tempfile.TemporaryDirectory(prefix="mensi-bench-sweep-") as tmp:
        exp = Path(tmp) / "pilot_sweep.toml"
        exp.write_text(
            f'name = "pilot_sweep"\nreplications = {reps}\nroot_seed = 1\n'
            f'executor = "local"\n\n[base]\nscenario = "{PILOT.as_posix()}"\n\n'
            '[[factors.scenarios]]\nname = "pilot"\noverrides = {}\n',
            encoding="utf-8",
        )
        out = Path(tmp) / "out"
        cmd = [*cli, "sweep", str(exp), "--out", str(out), *spec.get("args", [])]
        t = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=_package_root())
        wall = time.perf_counter() - t
        if done.returncode != 0:
            raise RuntimeError(f"sweep failed: {done.stderr.strip()[-2000:]}")
        runs = pd.read_parquet(out / "runs.parquet")
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        figures = sorted(p.name for p in out.glob("*.png"))
    workers = int(re.search(r"processes=(\d+)", manifest["executor"]).group(1))
    summed = float(runs["duration_s"].sum())
    return {
        "replications": reps,
        "args": spec.get("args", []),
        "wall_s": wall,
        "summed_run_s": summed,
        "workers": workers,
        "fixed_overhead_s": wall - summed / workers,
        "cli_start_s": statistics.median(starts),
        "figures": len(figures),
    }


def _cpu_per_step(run: Any, steps: int) -> float:
    """CPU seconds per step of ``run(steps)`` (a model's ``run_for``), garbage collection
    held off while it runs."""
    gc.collect()
    gc.disable()
    try:
        c0 = time.process_time()
        run(steps)
        return (time.process_time() - c0) / steps
    finally:
        gc.enable()


def _spread(values: list[float]) -> dict[str, float]:
    """Median, least and greatest of repeated measurements."""
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
    }


def reference_case(spec: dict[str, Any]) -> dict[str, Any]:
    """Time per step of MentoringModel and of the plain Mesa references (the tutorial
    one and the tuned one) on the same network (the top_down size-sweep network with
    proximity ties) and the same start.

    The sides are interleaved in one process: ``rounds`` rounds (default 5), each a fresh
    model of every side run for ``steps`` weeks one after the other (the order reversed
    every other round, so no side always runs first or last), CPU time per step. Each
    round gives a ratio per reference (its time over mensi_sim's in that round); the
    figures are the medians over the rounds, with the least and greatest ratio (the
    spread). The asynchronous tutorial variant, slower still, runs in the first round only.
    """
    from benchmarks.mesa_reference import (
        ReferenceModel,
        ReferenceParams,
        TunedReferenceModel,
        graph_from_model,
    )

    n, steps, seed = spec["n"], spec.get("steps", 52), spec.get("seed", 1)
    rounds = spec.get("rounds", 5)
    full = size_scenario(n, "top_down", steps)
    same = like_for_like(full)
    out: dict[str, Any] = {"n": n, "steps": steps, "rounds": rounds, "clock": "cpu"}
    real_full = _timed_run(full, seed, steps)
    real_full.pop("model")
    real_same = _timed_run(same, seed, steps)  # set-up and final adoption; warm-up
    model = real_same.pop("model")
    out["ties"] = int(model.tie_src.size)
    out["real_full_setup_s"] = real_full["setup_s"]
    out["real_same_setup_s"] = real_same["setup_s"]
    out["real_final_adoption"] = float(model.state.adopted.mean())
    graph = graph_from_model(MentoringModel(same, rng=seed))  # the same network and start
    params = ReferenceParams.from_scenario(same)
    variants = {
        "synchronous": (ReferenceModel, True),
        "asynchronous": (ReferenceModel, False),
        "tuned": (TunedReferenceModel, True),
    }
    wanted = spec.get("variants", ["synchronous", "tuned"])

    def mensi(scenario: Scenario) -> Any:
        return lambda: MentoringModel(scenario, rng=seed)

    def reference(variant: str) -> Any:
        cls, synchronous = variants[variant]
        return lambda: cls(graph, params, rng=seed, synchronous=synchronous)

    sides = {"real_same": mensi(same), "real_full": mensi(full)}
    sides.update({f"ref_{v}": reference(v) for v in wanted})
    per_step: dict[str, list[float]] = {name: [] for name in sides}
    for r in range(rounds):
        names = list(sides) if r % 2 == 0 else list(reversed(sides))
        for name in names:
            if name == "ref_asynchronous" and r > 0:
                continue
            w0 = time.perf_counter()
            built = sides[name]()
            setup = time.perf_counter() - w0
            per_step[name].append(_cpu_per_step(built.run_for, steps))
            if name.startswith("ref_") and r == 0:
                out[f"{name}_setup_s"] = setup
                out[f"{name}_final_adoption"] = float(
                    built.datacollector.get_model_vars_dataframe()["adoption_share"].iloc[-1]
                )
            del built
    for name, values in per_step.items():
        out[f"{name}_step_ms"] = 1e3 * statistics.median(values)
        out[f"{name}_step_ms_all"] = [1e3 * v for v in values]
    for variant in wanted:
        key = f"ref_{variant}"
        ratios = [
            ref / real for ref, real in zip(per_step[key], per_step["real_same"], strict=False)
        ]
        for stat, value in _spread(ratios).items():
            out[f"speedup_{variant}_{stat}"] = value
    return out


CASES = {
    "size": size_case,
    "pilot": pilot_case,
    "replications": replications_case,
    "reference": reference_case,
    "floor": floor_case,
    "long": long_case,
    "sweep": sweep_case,
}


def main(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Run one case in this process."""
    result = CASES[kind](spec)
    result["python"] = sys.version.split()[0]
    return result
