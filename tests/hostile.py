"""Hostile and huge inputs, made inside the tests: TOML that nests too deep, graph files
with non-finite attributes in each format, a process without the power to ignore file
permissions, a disk that fills, services that are not Dask. Shared by the hostile-input
tests and the fuzz suites (helpers only: no fixtures, no state)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

# ---------------------------------------------------------------------------------------
# TOML that no scenario needs
# ---------------------------------------------------------------------------------------


def deep_array(depth: int) -> str:
    """``name = "deep"`` and a key holding ``depth`` nested arrays."""
    return 'name = "deep"\nx = ' + "[" * depth + "]" * depth + "\n"


def deep_inline_table(depth: int) -> str:
    """A key holding ``depth`` nested inline tables."""
    return 'name = "deep"\nx = ' + "{a = " * depth + "1" + "}" * depth + "\n"


def dotted_key(parts: int) -> str:
    """One dotted key of ``parts`` parts (50,000 parts make a file of about 100 KB)."""
    return "a" + ".a" * (parts - 1) + " = 1\n"


# ---------------------------------------------------------------------------------------
# graph files with node attributes, in the three formats
# ---------------------------------------------------------------------------------------

GRAPH_FORMATS = ("csv", "graphml", "gexf")


def graph_with_attribute(folder: Path, fmt: str, column: str, value: str) -> Path:
    """Two schools tied, school "a" with ``column = value`` (as written in the file);
    returns the graph file's path."""
    if fmt == "csv":
        (folder / "g.nodes.csv").write_text(f"id,{column}\na,{value}\nb,1\n", encoding="utf-8")
        path = folder / "g.csv"
        path.write_text("source,target\na,b\n", encoding="utf-8")
        return path
    if fmt == "graphml":
        path = folder / "g.graphml"
        path.write_text(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
            f'<key id="k" for="node" attr.name="{column}" attr.type="double"/>'
            '<graph edgedefault="undirected">'
            f'<node id="a"><data key="k">{value}</data></node><node id="b"/>'
            '<edge source="a" target="b"/></graph></graphml>\n',
            encoding="utf-8",
        )
        return path
    path = folder / "g.gexf"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gexf xmlns="http://www.gexf.net/1.2draft" version="1.2">'
        '<graph defaultedgetype="undirected">'
        f'<attributes class="node"><attribute id="0" title="{column}" type="double"/>'
        "</attributes><nodes>"
        f'<node id="a" label="a"><attvalues><attvalue for="0" value="{value}"/></attvalues>'
        '</node><node id="b" label="b"/></nodes>'
        '<edges><edge id="0" source="a" target="b"/></edges></graph></gexf>\n',
        encoding="utf-8",
    )
    return path


def file_scenario(folder: Path, graph: Path, name: str = "s.toml") -> Path:
    """A scenario of two weeks on the network in ``graph``."""
    path = folder / name
    path.write_text(
        f'name = "g"\n[time]\nsteps = 2\n[network]\nstructure = "file"\nfile = "{graph.name}"\n',
        encoding="utf-8",
    )
    return path


# ---------------------------------------------------------------------------------------
# real processes under real limits
# ---------------------------------------------------------------------------------------

CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2
PR_CAPBSET_DROP = 24


def _without_permission_override() -> None:
    """preexec_fn: a root process loses the capabilities that let it ignore file modes
    (after exec its permitted set is the bounding set), so permissions apply to it."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def _file_size_limit(n_bytes: int):
    def limit() -> None:
        # an ignored SIGXFSZ makes a write beyond the limit fail with EFBIG, as a full
        # disk fails with ENOSPC: the same error path of every writer
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (n_bytes, n_bytes))

    return limit


def cli(
    *args: Any,
    cwd: Path,
    permissions: bool = False,
    max_file_bytes: int | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess:
    """``python -m mensi_sim.cli ARGS`` as a real process. ``permissions``: file modes
    apply even when the tests run as root; ``max_file_bytes``: no file it writes may grow
    beyond this (a disk that fills)."""
    pre = None
    if permissions:
        pre = _without_permission_override
    if max_file_bytes is not None:
        pre = _file_size_limit(max_file_bytes)
    return subprocess.run(
        [sys.executable, "-m", "mensi_sim.cli", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=pre,
        env={**os.environ, "PYTHONPATH": str(REPO), "MPLCONFIGDIR": str(cwd / ".mpl")},
    )


def warm_matplotlib(cwd: Path) -> None:
    """Build matplotlib's font cache for the processes ``cli`` starts in ``cwd``."""
    subprocess.run(
        [sys.executable, "-c", "import matplotlib.font_manager"],
        check=True,
        timeout=300,
        env={**os.environ, "MPLCONFIGDIR": str(cwd / ".mpl")},
    )


def one_error_line(done: subprocess.CompletedProcess, *needles: str, codes=(1, 2)) -> str:
    """A real process failed cleanly: exit code in ``codes``, one ``error:`` line on stderr
    naming every needle, nothing on stdout, no traceback, no internal error."""
    lines = done.stderr.splitlines()
    assert done.returncode in codes, (done.returncode, done.stderr[-2000:])
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "internal error" not in lines[0]
    assert done.stdout == "", done.stdout
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


# ---------------------------------------------------------------------------------------
# services at a tcp:// address that are not Dask schedulers
# ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def fake_service(greeting: bytes | None) -> Iterator[str]:
    """A TCP server on 127.0.0.1 that sends ``greeting`` on every connection (None: stays
    silent, as a web server waiting for a request; b"": hangs up at once); yields its
    ``tcp://`` address."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()
    clients: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except (TimeoutError, OSError):
                continue
            clients.append(conn)
            if greeting == b"":
                conn.close()
            elif greeting is not None:
                with contextlib.suppress(OSError):
                    conn.sendall(greeting)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in clients:
            conn.close()
        server.close()
