"""Benchmarks of mensi_sim on this machine, in one command.

Run from the repository root (the package installed, e.g. ``pip install -e .``)::

    python -m benchmarks.run            # full run: 120 to 250,000 schools (a few minutes)
    python -m benchmarks.run --quick    # 120 to 10,000 schools, 200 replications (about 1 min)

It writes ``benchmarks/results.md`` (targets met or missed, tables) and
``benchmarks/results.csv`` (every figure, one row each: section, case, structure,
n_schools, metric, value, unit); ``--out DIR`` writes them elsewhere, ``--profile``
also saves pyinstrument profiles of every size under ``DIR/profiles`` (needs
``pip install pyinstrument``).

What it measures, each case in a fresh Python process (so that sizes do not
contaminate each other's memory or caches):

- set-up time, time per step, school-steps per second and peak resident memory for
  120, 1,000, 10,000, 100,000 and 250,000 schools under the top_down and virtual
  structures with the proximity network on, one school year (52 steps), and for
  ``scenarios/eu_scale.toml``; and, from a second run with phase timers, which part
  of set-up and of a step costs most (``benchmarks.phases``);
- the fitted exponent of time per step against schools + ties (log-log least squares);
- one pilot run (120 schools, 52 weeks) after set-up, repeated (median);
- 1,000 replications of the pilot on the package's default executor, or a
  ProcessPoolExecutor over ``run_once`` when the package has none;
- the same network and rules as plain Mesa (``benchmarks.mesa_reference``: each agent
  loops over its neighbours in ``step``), side by side, at 120 to 10,000 schools.

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


def child(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Run one measurement in a fresh Python process and return its result."""
    cmd = [sys.executable, "-m", "benchmarks.run", "--child", kind, json.dumps(spec)]
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH")) if p)
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=root, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark case {kind} {spec} failed:\n{done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def say(message: str) -> None:
    """Progress on stderr."""
    print(message, file=sys.stderr, flush=True)


def run_all(quick: bool, out: Path, profile: bool) -> dict[str, Any]:
    """Every measurement; returns the results the report is written from."""
    started = time.perf_counter()
    results: dict[str, Any] = {
        "quick": quick,
        "load_before": os.getloadavg(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": "python -m benchmarks.run" + (" --quick" if quick else ""),
        "sizes": [],
    }
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
    t = time.perf_counter()
    results["pilot"] = child("pilot", {"repeats": 50 if quick else 200})
    say(f"pilot runs: {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    results["replications"] = child("replications", {"replications": 200 if quick else 1000})
    say(f"replications: {time.perf_counter() - t:.1f} s")
    results["reference"] = []
    variants = ["synchronous"] if quick else ["synchronous", "asynchronous"]
    for n in REFERENCE_SIZES:
        t = time.perf_counter()
        results["reference"].append(child("reference", {"n": n, "variants": variants}))
        say(f"Mesa reference {n:>6,d} schools: {time.perf_counter() - t:.1f} s")
    results["load_after"] = os.getloadavg()
    results["elapsed_s"] = time.perf_counter() - started
    return results


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
    parser.add_argument("--child", nargs=2, metavar=("KIND", "SPEC"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        from benchmarks.measure import main as measure

        print(json.dumps(measure(args.child[0], json.loads(args.child[1]))))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    results = run_all(args.quick, args.out, args.profile)
    md = write_markdown(results, args.out / "results.md")
    write_csv(results, args.out / "results.csv")
    say(f"wrote {md} and {args.out / 'results.csv'} ({results['elapsed_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
