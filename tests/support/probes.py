"""What a running server holds, read from outside: descriptors, memory, inotify watches through
``/proc/<pid>``, and its asyncio tasks through a ``/debug/tasks`` route of the probe app."""

from __future__ import annotations

import base64
import os
import socket
from pathlib import Path

import httpx

from fastapi_hot_reload import _protocol as wire

from .apps import write_app
from .server import Server

DEBUG_ROUTE = """

import asyncio


@app.get("/debug/tasks")
async def debug_tasks() -> int:
    return len(asyncio.all_tasks())
"""


def probe_app(folder: Path, options: str = 'watch=["static"]') -> Path:
    """The shared test app with a ``/debug/tasks`` route and its middleware ``options``."""
    write_app(folder, routes=DEBUG_ROUTE)
    app = folder / "app.py"
    app.write_text(app.read_text().replace('watch=["static"]', options))
    return folder


def fds(server: Server) -> int:
    return len(os.listdir(f"/proc/{server.process.pid}/fd"))


def rss_mib(server: Server) -> float:
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(kib) / 1024


def tasks(server: Server) -> int:
    return int(httpx.get(server.url + "/debug/tasks", timeout=10).json())


def inotify_watches(pid: int) -> int | None:
    """Watches on the process's inotify instances; ``None`` when it has none (polling)."""
    found = None
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") != "anon_inode:inotify":
                continue
            info = Path(f"/proc/{pid}/fdinfo/{fd}").read_text()
        except OSError:  # closed while we looked
            continue
        found = (found or 0) + info.count("inotify wd:")
    return found


def raw_tab(server: Server, receive_buffer: int = 4096) -> socket.socket:
    """A websocket on a bare socket: after the handshake it reads and answers nothing."""
    peer = socket.socket()
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    peer.settimeout(10)
    peer.connect(("127.0.0.1", server.port))
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {wire.PREFIX}/{wire.WS} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    peer.sendall(request.encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += peer.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return peer
