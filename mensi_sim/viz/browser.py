"""Serving the app on a local port and driving Debian's Chromium headless (Playwright).

Used by the tests and to make the screenshots in docs/images. The browser is
Debian's ``/usr/bin/chromium`` (``make browser``, part of ``make test``, installs it);
Playwright's own browser downloads are never used.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
APP = Path(__file__).with_name("app.py")
MISSING = (
    f"{CHROMIUM} not found: run `make browser` (installs Debian's chromium; "
    "`make test` does this first)"
)


def chromium_path() -> Path:
    """Debian's Chromium, or RuntimeError saying how to install it."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        raise RuntimeError(MISSING)
    return CHROMIUM


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (on an IPv4 or IPv6 ``host``)."""
    family, kind, proto, _, address = socket.getaddrinfo(host, 0, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind, proto) as s:
        s.bind(address)
        return int(s.getsockname()[1])


def solara_command(host: str, port: int, *, production: bool = True) -> list[str]:
    """``python -m solara run mensi_sim/viz/app.py --host H --port P`` (no browser, no reload)."""
    cmd = [
        sys.executable,
        "-m",
        "solara",
        "run",
        str(APP),
        "--host",
        host,
        "--port",
        str(port),
        "--no-open",
    ]
    if production:
        cmd.append("--production")
    return cmd


def wait_until_up(url: str, process: subprocess.Popen | None = None, timeout: float = 90.0) -> None:
    """Poll ``url`` until it answers HTTP 200; RuntimeError on timeout or if the server died."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the app server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - local URL
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s ({last})")


def stop(process: subprocess.Popen, grace: float = 10.0) -> None:
    """Stop a server started by ``serve_app`` (its process group), politely then firmly."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(grace)


@contextlib.contextmanager
def serve_app(
    scenario: str | Path | None = None,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    log: Path | None = None,
    timeout: float = 90.0,
) -> Iterator[str]:
    """Start the app with ``solara run`` on a free local port; yield its URL; stop it after.

    The server runs in its own process group and is stopped on leaving the block,
    also when the block raises.
    """
    from mensi_sim.viz.model import ENV_SCENARIO

    port = port or free_port(host)
    env = dict(os.environ)
    if scenario is not None:
        env[ENV_SCENARIO] = str(Path(scenario).resolve())
    out = open(log, "wb") if log is not None else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        solara_command(host, port),
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://{host}:{port}/"
    try:
        wait_until_up(url, process, timeout)
        yield url
    finally:
        stop(process)
        if log is not None:
            out.close()


@contextlib.contextmanager
def chromium(playwright: Any, **context_options: Any) -> Iterator[Any]:
    """A headless Chromium context with a fresh, temporary user data dir."""
    path = chromium_path()
    with tempfile.TemporaryDirectory(prefix="mensi-chromium-") as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(path),
            headless=True,
            args=list(CHROMIUM_ARGS),
            **context_options,
        )
        try:
            yield context
        finally:
            context.close()
