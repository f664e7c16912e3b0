"""``python -m mensi_sim.cli.assets``: fetch Solara's browser assets; print what was done.

``scripts/install-chromium`` runs it, so that the app works offline afterwards.
"""

from __future__ import annotations

import sys

from mensi_sim.viz.assets import cache_dir, install_assets


def main(argv: list[str] | None = None) -> None:
    """Fill the asset cache (``mensi_sim.viz.assets``); exit 2 with one line on failure.
    ``--quiet``: say nothing unless something was added."""
    quiet = "--quiet" in (sys.argv[1:] if argv is None else argv)
    cache = cache_dir()
    try:
        done = install_assets(cache)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    if done:
        print(f"{len(done)} package(s) added to {cache}: {', '.join(done)}")
    elif not quiet:
        print(f"Solara's browser assets are in {cache}")


if __name__ == "__main__":
    main()
