"""``python -m mensi_sim.cli.assets``: fetch Solara's browser assets; print what was done.

``scripts/install-chromium`` runs it, so that the app works offline afterwards.
"""

from __future__ import annotations

import sys

from mensi_sim.viz.assets import cache_dir, install_assets


def main() -> None:
    """Fill the asset cache (``mensi_sim.viz.assets``); exit 2 with one line on failure."""
    cache = cache_dir()
    try:
        done = install_assets(cache)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    print(
        f"{len(done)} package(s) added to {cache}: {', '.join(done)}"
        if done
        else f"Solara's browser assets are in {cache}"
    )


if __name__ == "__main__":
    main()
