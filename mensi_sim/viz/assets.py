"""Solara's browser assets, from the npm registry, for machines without a CDN.

A Solara page loads its JavaScript app, RequireJS and Font Awesome through the
server, which fetches them once from a public CDN and keeps them in its proxy
cache (``<venv>/share/solara/cdn``). On a machine that reaches package registries
but not that CDN (CI here), the page never loads. The CDN only mirrors npm
packages, so ``install_assets`` fills the cache with the same files taken from the
npm registry with ``npm pack``: the page then needs nothing from outside.

    python -m mensi_sim.cli.assets     # fill the cache (no-op when it is full)
    python -m mensi_sim.cli.assets --quiet   # the same, silent unless it adds something

The packages and versions are read from the installed Solara, so they follow its
upgrades.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

# npm packages the Solara server asks its CDN for (name@version found in solara's files)
# (the page shell, RequireJS, Font Awesome, and the grid of SolaraViz's components)
_PATTERN = re.compile(
    r"(@widgetti/solara-vuetify3?-app@[0-9][0-9A-Za-z.\-]*[0-9]|requirejs@[0-9][0-9.]*[0-9]"
    r"|font-awesome@[0-9][0-9.]*[0-9]|@widgetti/vue-grid-layout@[0-9][0-9A-Za-z.\-]*[0-9])"
)
MARKER = "package.json"


def cache_dir() -> Path:
    """Solara's proxy cache: ``$SOLARA_ASSETS_PROXY_CACHE_DIR`` or ``<prefix>/share/solara/cdn``."""
    env = os.environ.get("SOLARA_ASSETS_PROXY_CACHE_DIR")
    return Path(env) if env else Path(sys.prefix) / "share" / "solara" / "cdn"


def solara_packages() -> list[str]:
    """The ``name@version`` of each npm package the installed Solara server loads."""
    import importlib.util

    spec = importlib.util.find_spec("solara")
    if spec is None or not spec.submodule_search_locations:
        return []
    root = Path(next(iter(spec.submodule_search_locations))) / "server"
    found: set[str] = set()
    widgets = root.parent / "widgets" / "vue"
    for path in [*root.glob("*.py"), *root.glob("templates/*"), *widgets.glob("*.vue")]:
        try:
            found.update(_PATTERN.findall(path.read_text(encoding="utf-8", errors="ignore")))
        except OSError:
            continue
    return sorted(found)


def missing(cache: Path | None = None, packages: list[str] | None = None) -> list[str]:
    """The packages not yet in the cache."""
    cache = cache or cache_dir()
    wanted = solara_packages() if packages is None else packages
    return [p for p in wanted if not (cache / p / MARKER).is_file()]


def _tarball_name(package: str) -> str:
    """``npm pack``'s file name: ``@scope/name@1.2`` -> ``scope-name-1.2.tgz``."""
    name, _, version = package.rpartition("@")
    return f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"


def install_assets(cache: Path | None = None, packages: list[str] | None = None) -> list[str]:
    """Put each missing package's files into the cache (``npm pack``, then unpack).

    Each package lands whole or not at all (unpacked beside, then renamed).

    Returns:
        The packages installed now.

    Raises:
        RuntimeError: npm is missing or a package cannot be fetched.
    """
    cache = cache or cache_dir()
    todo = missing(cache, packages)
    if not todo:
        return []
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm not found: cannot fetch Solara's browser assets")
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mensi-npm-") as work:
        done = subprocess.run(
            [npm, "pack", "--silent", *todo, "--pack-destination", work],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            cwd=work,
        )
        if done.returncode != 0:
            raise RuntimeError(f"npm pack failed: {' '.join(done.stderr.split())[:400]}")
        for package in todo:
            tarball = Path(work) / _tarball_name(package)
            if not tarball.is_file():
                raise RuntimeError(f"npm pack did not produce {tarball.name}")
            target = cache / package
            tmp = Path(
                tempfile.mkdtemp(
                    prefix=".unpack-", dir=target.parent if target.parent.exists() else cache
                )
            )
            try:
                with tarfile.open(tarball) as tar:
                    tar.extractall(tmp, filter="data")
                if target.exists():
                    shutil.rmtree(target)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp / "package", target)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    return todo
