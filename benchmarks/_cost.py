"""Cost when idle, per request and per open tab, read from the server's processes with psutil."""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
from dataclasses import dataclass
from typing import Any

from tests.support.server import Server

from ._contestants import Contestant
from ._http import requests_for
from ._messages import Crowd
from ._stats import Figure

NO_PSUTIL = "psutil is not installed (pip install -e '.[bench]')"


def have_psutil() -> bool:
    return importlib.util.find_spec("psutil") is not None


def _process(pid: int) -> Any:
    """A ``psutil.Process``; imported by name, so type checking needs no psutil stubs."""
    return importlib.import_module("psutil").Process(pid)


def cpu_seconds(pid: int) -> float:
    times = _process(pid).cpu_times()
    return float(times.user + times.system)


def rss_mb(pid: int) -> float:
    return float(_process(pid).memory_info().rss) / 2**20


async def idle_cpu(server: Server, contestant: Contestant, tabs: int, seconds: float) -> Figure:
    """CPU % of one core used by the worker (and the reloader) with ``tabs`` connected, idle."""
    if not have_psutil():
        return Figure.missing(NO_PSUTIL, unit="%")
    crowd = Crowd(contestant, server.ws(contestant.ws_path))
    await crowd.grow(tabs)
    await asyncio.sleep(1)
    pids = (server.worker, server.process.pid)
    before = [cpu_seconds(pid) for pid in pids]
    await asyncio.sleep(seconds)
    worker, reloader = (cpu_seconds(pid) - was for pid, was in zip(pids, before, strict=True))
    await crowd.close()
    percent = 100 * worker / seconds
    note = f"reloader process: {100 * reloader / seconds:.2f} %"
    return Figure(value=round(percent, 2), unit="%", note=note)


async def memory_per_1000(server: Server, contestant: Contestant, tabs: int) -> Figure:
    """Growth of the worker's resident memory per 1000 connected tabs."""
    if not have_psutil():
        return Figure.missing(NO_PSUTIL, unit="MB")
    crowd = Crowd(contestant, server.ws(contestant.ws_path))
    await crowd.grow(1)
    await asyncio.sleep(0.3)
    before = rss_mb(server.worker)
    await crowd.grow(tabs + 1)
    await asyncio.sleep(1)
    after = rss_mb(server.worker)
    await crowd.close()
    return Figure(value=round((after - before) * 1000 / tabs, 2), unit="MB", note=f"{tabs} tabs")


@dataclass
class Tally:
    """Requests answered by one server, and the wall and worker CPU time they took."""

    requests: int = 0
    wall: float = 0.0
    cpu: float = 0.0

    async def add_turn(self, server: Server, seconds: float) -> None:
        cpu = cpu_seconds(server.worker) if have_psutil() else 0.0
        requests, wall = await requests_for(server.port, seconds)
        self.requests += requests
        self.wall += wall
        self.cpu += (cpu_seconds(server.worker) - cpu) if have_psutil() else 0.0

    def per_second(self) -> float:
        """Requests per second of the worker's CPU time (of wall time without psutil).

        CPU time is what the app costs: it barely moves when other work shares the cores,
        while wall-clock throughput on a busy 2-core machine swings by 20 % between two runs
        of the same server.
        """
        return self.requests / (self.cpu or self.wall)


async def throughput(on: Server, off: Server, seconds: float, turns: int) -> dict[str, Figure]:
    """Requests per second for the page with and without the contestant, in ABBA turns."""
    await requests_for(on.port, 0.3)  # warm up: imports, template compile
    await requests_for(off.port, 0.3)
    with_, without = Tally(), Tally()
    for turn in range(turns):
        pair = [(with_, on), (without, off)]
        for tally, server in pair if turn % 2 == 0 else pair[::-1]:
            await tally.add_turn(server, seconds)
    rps_on, rps_off = with_.per_second(), without.per_second()
    basis = "worker CPU time" if have_psutil() else "wall time"
    note = f"requests per second of {basis}; {turns} turns of {seconds:g} s each, 8 connections"
    walls = (tally.requests / tally.wall for tally in (with_, without))
    wall = "wall-clock req/s: {:.0f} with, {:.0f} without".format(*walls)
    return {
        "rps.on": Figure(value=round(rps_on), unit="req/s", note=note),
        "rps.off": Figure(value=round(rps_off), unit="req/s", note=note),
        "rps.overhead": Figure(value=round(100 * (1 - rps_on / rps_off), 2), unit="%", note=wall),
    }
