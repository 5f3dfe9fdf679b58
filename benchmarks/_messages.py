"""Save to message: many websocket clients on one server, timed from the write to each arrival."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from ._contestants import Contestant
from ._saves import STYLES, Save, retitle
from ._stats import Figure

#: Connections opened at once; the listen backlog and the server's accept loop stay unhurried.
CONNECTING = 100


async def open_socket(url: str, timeout: float = 60) -> ClientConnection:
    """A websocket connection, retried while the server is between two workers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await connect(url, ping_interval=None, open_timeout=timeout)
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.01)


class Crowd:
    """Websocket clients standing in for open tabs; notes when each gets the reload signal."""

    def __init__(self, contestant: Contestant, url: str) -> None:
        self.contestant = contestant
        self.url = url
        self.size = 0
        self.extra = 0  # signals that arrived outside a round: duplicates
        self._sockets: list[ClientConnection] = []
        self._listeners: set[asyncio.Task[None]] = set()
        self._arrivals: list[float] | None = None
        self._all_in = asyncio.Event()

    async def grow(self, size: int) -> None:
        """Open connections until ``size`` are open."""
        gate = asyncio.Semaphore(CONNECTING)
        await asyncio.gather(*(self._open(gate) for _ in range(size - self.size)))
        self.size = size
        if self.contestant.signal != "json":  # no hello: give the server time to subscribe
            await asyncio.sleep(0.2)

    async def _open(self, gate: asyncio.Semaphore) -> None:
        async with gate:
            socket = await open_socket(self.url)
            if self.contestant.signal == "json":
                await socket.recv()  # hello: subscribed from now on
        self._sockets.append(socket)
        listener = asyncio.create_task(self._listen(socket))
        self._listeners.add(listener)
        listener.add_done_callback(self._listeners.discard)

    async def _listen(self, socket: ClientConnection) -> None:
        try:
            async for message in socket:
                if self.contestant.is_reload(message):
                    self._arrived()
        except ConnectionClosed:
            pass
        if self.contestant.signal == "close":
            self._arrived()

    def _arrived(self) -> None:
        now = time.perf_counter()
        if self._arrivals is None:
            self.extra += 1
            return
        self._arrivals.append(now)
        if len(self._arrivals) >= self.size:
            self._all_in.set()

    def start_round(self) -> None:
        self._arrivals = []
        self._all_in.clear()

    async def end_round(self, timeout: float = 30) -> list[float]:
        """The arrival times of this round, once every client has its signal."""
        await asyncio.wait_for(self._all_in.wait(), timeout)
        arrivals, self._arrivals = self._arrivals or [], None
        return arrivals

    async def reconnect(self) -> None:
        """After a server restart closed them all: open as many again (waits for the server)."""
        size, self.size = self.size, 0
        await self.close()
        await self.grow(size)

    async def close(self) -> None:
        sockets, self._sockets = self._sockets, []
        await asyncio.gather(*(socket.close() for socket in sockets))
        await asyncio.gather(*self._listeners, return_exceptions=True)


async def timed_saves(
    crowd: Crowd, path: Path, page: str, save: Save, saves: int, label: str
) -> tuple[list[float], list[float]]:
    """For each save, seconds from the write to the first and to the last client's signal."""
    firsts: list[float] = []
    lasts: list[float] = []
    for number in range(saves):
        crowd.start_round()
        started = save(path, retitle(page, f"{label}-{number}"))
        arrivals = await crowd.end_round()
        firsts.append(min(arrivals) - started)
        lasts.append(max(arrivals) - started)
        if crowd.contestant.restarts_on_save:
            await crowd.reconnect()
        await asyncio.sleep(crowd.contestant.settle)
    return firsts, lasts


async def message_cells(
    contestant: Contestant,
    ws_url: str,
    site: Path,
    counts: list[int],
    saves: int,
    max_restarts: int,
) -> dict[str, Figure]:
    """Every save-to-message cell of one contestant, by cell id."""
    page_path = site / "templates" / "index.html"
    page = page_path.read_text()
    crowd = Crowd(contestant, ws_url)
    cells: dict[str, Figure] = {}
    try:
        for count in counts:
            skip = contestant.restarts_on_save and count > max_restarts
            if not skip:
                await crowd.grow(count)
            for style, save in STYLES.items():
                cell = f"msg.{style}.{count}"
                if skip:
                    why = (
                        f"every save restarts the server and all {count} clients reconnect; "
                        f"measured up to {max_restarts} clients to keep the run short"
                    )
                    cells[f"{cell}.first"] = cells[f"{cell}.last"] = Figure.missing(why)
                    continue
                extra = crowd.extra
                firsts, lasts = await timed_saves(crowd, page_path, page, save, saves, cell)
                note = f"{(crowd.extra - extra) / count:g} extra signals per client"
                cells[f"{cell}.first"] = Figure.latencies(firsts, note)
                if count > 1:
                    cells[f"{cell}.last"] = Figure.latencies(lasts, note)
    finally:
        await crowd.close()
    return cells
