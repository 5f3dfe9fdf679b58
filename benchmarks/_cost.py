"""Cost when idle, per request and per open tab, read from the server's processes with psutil."""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import statistics
from typing import Any

from ._contestants import Contestant
from ._http import requests_per_second
from ._messages import Crowd
from ._server import Server
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
        return Figure.missing(NO_PSUTIL)
    crowd = Crowd(contestant, server.ws_url(contestant.ws_path))
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
        return Figure.missing(NO_PSUTIL)
    crowd = Crowd(contestant, server.ws_url(contestant.ws_path))
    await crowd.grow(1)
    await asyncio.sleep(0.3)
    before = rss_mb(server.worker)
    await crowd.grow(tabs + 1)
    await asyncio.sleep(1)
    after = rss_mb(server.worker)
    await crowd.close()
    return Figure(value=round((after - before) * 1000 / tabs, 2), unit="MB", note=f"{tabs} tabs")


async def throughput(on: Server, off: Server, seconds: float, rounds: int) -> dict[str, Figure]:
    """Requests per second for the page with and without the contestant, taking turns."""
    await requests_per_second(on.port, 0.3)  # warm up: imports, template compile
    await requests_per_second(off.port, 0.3)
    with_, without = [], []
    for _ in range(rounds):
        with_.append(await requests_per_second(on.port, seconds))
        without.append(await requests_per_second(off.port, seconds))
    rps_on, rps_off = statistics.median(with_), statistics.median(without)
    note = f"median of {rounds} turns of {seconds:g} s, 8 keep-alive connections"
    return {
        "rps.on": Figure(value=round(rps_on), unit="req/s", note=note),
        "rps.off": Figure(value=round(rps_off), unit="req/s", note=note),
        "rps.overhead": Figure(value=round(100 * (rps_off - rps_on) / rps_off, 2), unit="%"),
    }
