"""Screenshots of the report and the app for the documentation (docs/images).

    python -m mensi_sim.cli.screenshots RESULTS [--out docs/images] [--steps 20]

Writes ``report.png`` (the top of RESULTS' report.html, built if missing) and
``app.png`` (the app after some weeks), both taken with the same headless
Chromium the tests use (``mensi_sim.viz.screenshots``), and prints their paths.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mensi_sim.viz.screenshots import app_png, report_png


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="results directory for the report")
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    parser.add_argument("--steps", type=int, default=20, help="weeks to step the app")
    parser.add_argument("--scenario", type=Path, default=None, help="app's scenario file")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    print(report_png(args.results, args.out / "report.png"))
    print(app_png(args.out / "app.png", args.steps, args.scenario))


if __name__ == "__main__":
    main()
