"""A Dask scheduler's address, checked before ``distributed.Client`` is handed it.

``Client`` given ``tcp://localhost:notaport`` fails with a TypeError deep inside, and
given the address of a service that is not Dask (a web server, say) reads that
service's first eight bytes as the length of a message and asks for exabytes of memory.
``parse_address`` checks the form (scheme, host, port 1-65535) and ``probe_scheduler``
connects once with a plain socket and reads the greeting every Dask server sends first
(``distributed.comm.core.Listener.on_connection`` writes its handshake before reading):
eight bytes, the length of the message that follows, which for a handshake is a few
hundred bytes. Anything else (silence, a banner, a huge length) is not a Dask scheduler.
"""

from __future__ import annotations

import socket
import struct

from mensi_sim.files import os_reason

SCHEMES = ("tcp://", "tls://")
#: the longest greeting a Dask handshake can plausibly be (it is a few hundred bytes)
MAX_GREETING_BYTES = 1_000_000


def parse_address(address: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of ``tcp://host:port`` or ``tls://host:port``.

    Raises:
        ValueError: One line saying what is wrong with the address.
    """
    scheme = next((s for s in SCHEMES if address.startswith(s)), None)
    if scheme is None:
        raise ValueError(f"{address!r} is not a Dask scheduler address (tcp://host:port)")
    rest = address[len(scheme) :]
    host, sep, port_text = rest.rpartition(":")
    host = host.strip("[]")  # an IPv6 address is written [::1]:8786
    if not sep or not host:
        raise ValueError(f"{address!r}: give host and port, e.g. {scheme}scheduler:8786")
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"{address!r}: port {port_text!r} is not a number from 1 to 65535")
    return scheme, host, int(port_text)


def _receive(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def probe_scheduler(address: str, timeout: float) -> str | None:
    """Why the service at a ``tcp://`` address is not a Dask scheduler, or None if it greets
    like one (``tls://`` addresses are not probed: their greeting is encrypted)."""
    scheme, host, port = parse_address(address)
    if scheme != "tcp://":
        return None
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except TimeoutError:
        return f"no answer within {timeout:g} s"
    except OSError as exc:
        return os_reason(exc)
    with sock:
        sock.settimeout(timeout)
        try:
            head = _receive(sock, 8)
        except TimeoutError:
            return f"it sent no Dask greeting within {timeout:g} s (is it another service?)"
        except OSError as exc:
            return os_reason(exc)
    if len(head) < 8:
        return "it closed the connection without a Dask greeting (is it another service?)"
    (length,) = struct.unpack("<Q", head)
    if not 0 < length <= MAX_GREETING_BYTES:
        shown = head.decode("ascii", "replace")
        return f"it does not speak Dask's protocol (it began with {shown!r})"
    return None
