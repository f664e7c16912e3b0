"""Benchmarks of mensi_sim on this machine, in one command.

Run from the repository root (the package installed, e.g. ``pip install -e .``)::

    python -m benchmarks.run            # full run: 120 to 2,000,000 schools (about 15 min)
    python -m benchmarks.run --quick    # 120 to 10,000 schools, 200 replications (a few min)

It writes ``benchmarks/results.md`` (targets met or missed, tables) and
``benchmarks/results.csv`` (every figure, one row each: section, case, structure,
n_schools, metric, value, unit); ``--out DIR`` writes them elsewhere, ``--profile``
also saves pyinstrument profiles of every size under ``DIR/profiles`` (needs
``pip install pyinstrument``). Every figure is kept in ``results.json`` too;
``--render results.json`` writes the report again from it without measuring.

What it measures, each case in a fresh Python process (so that sizes do not
contaminate each other's memory or caches):

- set-up time, time per step, school-steps per second and peak resident memory for
  120, 1,000, 10,000, 100,000 and 250,000 schools under the top_down and virtual
  structures with the proximity network on, one school year (52 steps), and for
  ``scenarios/eu_scale.toml``; and, from a second run with phase timers, which part
  of set-up and of a step costs most (``benchmarks.phases``);
- the fitted exponent of time per step against schools + ties (log-log least squares);
- one pilot run (120 schools, its 156 weeks) after set-up, repeated (median);
- 1,000 replications of the pilot on the package's default executor (or a
  ProcessPoolExecutor over ``run_once`` when the package has none), then serially;
- the same network and rules as plain Mesa (``benchmarks.mesa_reference``: the tutorial
  way, each agent looking up its neighbours in ``step``, and tuned, its ties listed
  once), side by side, at 120 to 10,000 schools, interleaved in one process in rounds
  (CPU time; each speed-up the median of the rounds' ratios, with its range);
- the model's step against the floor kernel of the same rules and draws
  (``benchmarks.floor``) at 10,000 to 1,000,000 schools, with set-up against a year's
  steps and the share of the per-step metrics; ten years at EU scale (250,000 schools,
  520 weeks) and a year of two million schools, with peak memory; a 200-run sweep of
  the pilot from the command line (its fixed overhead) and 1,000 pilot replications on
  the default executor against serial.

``--baseline DIR`` (a checkout of another version, e.g. main) runs the floor, sweep,
replication and Mesa cases on that version too, each beside this one's, for the
before/after table of the report.

Timings are wall-clock on a shared machine: compare ratios measured in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.report import write_csv, write_markdown

SIZES = [120, 1_000, 10_000, 100_000, 250_000]
QUICK_SIZES = [120, 1_000, 10_000]
STRUCTURES = ["top_down", "virtual"]
REFERENCE_SIZES = [120, 1_000, 10_000]
#: the floor ratio: the size sweep's top_down network at these sizes, and eu_scale.toml
FLOOR_CASES = [
    {"n": 10_000, "structure": "top_down"},
    {"n": 100_000, "structure": "top_down"},
    {"n": 250_000, "structure": "top_down"},
    {"n": 1_000_000, "structure": "top_down"},
    {"scenario": "scenarios/eu_scale.toml", "n": 1_000_000},
]
QUICK_FLOOR_CASES = [{"n": 10_000, "structure": "top_down"}]
#: long and big runs: ten school years at EU scale, and a year of two million schools
LONG_CASES = [
    {"scenario": "scenarios/eu_scale.toml", "steps": 520},
    {"scenario": "scenarios/eu_scale.toml", "n": 2_000_000, "steps": 52},
]
SWEEP_REPLICATIONS = 200


def child(kind: str, spec: dict[str, Any], package: Path | None = None) -> dict[str, Any]:
    """Run one measurement in a fresh Python process and return its result; ``package`` is
    a folder holding another ``mensi_sim`` to measure instead of this checkout's (the
    harness, scenarios and reference stay this checkout's)."""
    cmd = [sys.executable, "-m", "benchmarks.run", "--child", kind, json.dumps(spec)]
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ)
    first = [str(package)] if package is not None else []
    env["PYTHONPATH"] = os.pathsep.join(p for p in (*first, str(root), env.get("PYTHONPATH")) if p)
    # ``python -m`` puts the working directory first on sys.path: the package's folder
    cwd = package if package is not None else root
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark case {kind} {spec} failed:\n{done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def say(message: str) -> None:
    """Progress on stderr."""
    print(message, file=sys.stderr, flush=True)


def _label(spec: dict[str, Any]) -> str:
    name = Path(spec["scenario"]).stem if spec.get("scenario") else spec.get("structure", "")
    size = f"{spec['n']:,d} schools" if spec.get("n") else "its schools"
    return f"{name} {size} {spec.get('steps', 52)} weeks"


def run_all(quick: bool, out: Path, profile: bool, baseline: Path | None = None) -> dict[str, Any]:
    """Every measurement; returns the results the report is written from. With
    ``baseline`` (a checkout of another version) the floor, sweep, replication and Mesa
    cases also run on that version, case by case beside this one (the same load)."""
    started = time.perf_counter()
    results: dict[str, Any] = {
        "quick": quick,
        "load_before": os.getloadavg(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": "python -m benchmarks.run" + (" --quick" if quick else ""),
        "sizes": [],
        "baseline": None,
    }
    package = None
    if baseline is not None:
        package = out / "baseline-package"
        package.mkdir(parents=True, exist_ok=True)
        link = package / "mensi_sim"
        if not link.exists():
            link.symlink_to(Path(baseline).resolve() / "mensi_sim")
        results["baseline"] = {"path": str(baseline), "git": _git_commit(Path(baseline))}
        results["command"] += f" --baseline {baseline}"

    def both(kind: str, spec: dict[str, Any], key: str, label: str) -> None:
        t = time.perf_counter()
        results.setdefault(key, []).append(child(kind, spec))
        if package is not None:
            results.setdefault("baseline_" + key, []).append(child(kind, spec, package))
        say(f"{label}: {time.perf_counter() - t:6.1f} s")

    profile_dir = str(out / "profiles") if profile else None
    for n in QUICK_SIZES if quick else SIZES:
        for structure in STRUCTURES:
            t = time.perf_counter()
            spec = {"n": n, "structure": structure, "profile_dir": profile_dir}
            results["sizes"].append(child("size", spec))
            say(f"size {structure:9s} {n:>9,d} schools: {time.perf_counter() - t:6.1f} s")
    if not quick:
        t = time.perf_counter()
        eu = child("size", {"scenario": "scenarios/eu_scale.toml", "profile_dir": profile_dir})
        results["sizes"].append(eu)
        say(f"eu_scale.toml {eu['n']:,d} schools: {time.perf_counter() - t:6.1f} s")
    for spec in QUICK_FLOOR_CASES if quick else FLOOR_CASES:
        both("floor", spec, "floor", f"floor {_label(spec)}")
    if not quick:
        for spec in LONG_CASES:
            t = time.perf_counter()
            results.setdefault("long", []).append(child("long", spec))
            say(f"long {_label(spec)}: {time.perf_counter() - t:6.1f} s")
    t = time.perf_counter()
    results["pilot"] = child("pilot", {"repeats": 50 if quick else 200})
    say(f"pilot runs: {time.perf_counter() - t:.1f} s")
    reps = 200 if quick else 1000
    both("replications", {"replications": reps}, "replications", f"{reps} replications")
    sweep_reps = 40 if quick else SWEEP_REPLICATIONS
    for args in ([], ["--plots"]):
        t = time.perf_counter()
        spec = {"replications": sweep_reps, "args": args}
        results.setdefault("sweep", []).append(child("sweep", spec))
        say(f"sweep {' '.join(args) or '(no plots)'}: {time.perf_counter() - t:.1f} s")
    if package is not None:  # the earlier version always drew its figures
        results["baseline_sweep"] = [child("sweep", {"replications": sweep_reps}, package)]
    variants = ["synchronous", "tuned"] if quick else ["synchronous", "asynchronous", "tuned"]
    for n in REFERENCE_SIZES:
        spec = {"n": n, "variants": variants}
        if n == 10_000 or package is None:
            both("reference", spec, "reference", f"Mesa reference {n:,d} schools")
        else:
            t = time.perf_counter()
            results.setdefault("reference", []).append(child("reference", spec))
            say(f"Mesa reference {n:,d} schools: {time.perf_counter() - t:.1f} s")
    results["load_after"] = os.getloadavg()
    results["elapsed_s"] = time.perf_counter() - started
    return results


def _git_commit(path: Path) -> str | None:
    """The commit of a checkout (or of an exported tree's COMMIT file)."""
    done = subprocess.run(
        ["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True
    )
    if done.returncode == 0:
        return done.stdout.strip()
    marker = path / "COMMIT"
    return marker.read_text(encoding="utf-8").strip() if marker.exists() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="120 to 10,000 schools and 200 replications (about a minute)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent,
        help="folder for results.md and results.csv (default: benchmarks/)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also save pyinstrument profiles of each size (OUT/profiles)",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a checkout of another version (e.g. main): the floor, sweep, replication and "
        "Mesa cases also run on it, beside this one, for a before/after table",
    )
    parser.add_argument(
        "--render",
        type=Path,
        metavar="JSON",
        help="write results.md and results.csv again from a run's results.json (no measuring)",
    )
    parser.add_argument("--child", nargs=2, metavar=("KIND", "SPEC"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        from benchmarks.measure import main as measure

        print(json.dumps(measure(args.child[0], json.loads(args.child[1]))))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    if args.render:
        results = json.loads(args.render.read_text(encoding="utf-8"))
    else:
        results = run_all(args.quick, args.out, args.profile, args.baseline)
    md = write_markdown(results, args.out / "results.md")  # adds versions, commit, machine
    write_csv(results, args.out / "results.csv")
    if not args.render:
        # every measured figure, so that the report can be rewritten without measuring again
        raw = args.out / "results.json"
        tmp = raw.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
        tmp.replace(raw)
    say(f"wrote {md} and {args.out / 'results.csv'} ({results['elapsed_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
