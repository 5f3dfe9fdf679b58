"""Plain HTTP/1.1 on asyncio streams: cheap, so the server is measured rather than the client."""

from __future__ import annotations

import asyncio
import time

REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


async def get_once(port: int) -> bytes:
    """One ``GET /`` on a new connection; the whole response."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(REQUEST.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
        return await reader.read()
    finally:
        writer.close()


async def first_answer_with(port: int, text: str, timeout: float = 30) -> float:
    """When ``GET /`` first answers 200 with ``text`` in the page (a new worker's first page)."""
    wanted = text.encode()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            response = await get_once(port)
        except OSError:  # the old worker closed it while shutting down
            response = b""
        if response.startswith(b"HTTP/1.1 200") and wanted in response:
            return time.perf_counter()
        await asyncio.sleep(0.002)
    raise TimeoutError(f"no page with {text!r} on port {port} after {timeout} s")


async def _keep_getting(port: int, stop_at: float) -> int:
    """Requests answered on one keep-alive connection until ``stop_at``."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    done = 0
    try:
        while time.monotonic() < stop_at:
            writer.write(REQUEST)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            done += 1
    finally:
        writer.close()
    return done


async def requests_for(port: int, seconds: float, connections: int = 8) -> tuple[int, float]:
    """``GET /`` from ``connections`` clients in a loop: how many were answered, in how long."""
    started = time.monotonic()
    stop_at = started + seconds
    counts = await asyncio.gather(*(_keep_getting(port, stop_at) for _ in range(connections)))
    return sum(counts), time.monotonic() - started
