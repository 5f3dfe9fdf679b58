"""Cost per HTML request inside the app, without sockets or a server: what the library adds.

Served req/s on a shared 2-core VM swings by 10-20 % between identical servers; calling the ASGI
app in a loop, in a process of its own, with its lifespan running, does not.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ._stats import Figure

#: Rounds of calls the driver makes; it reports the best.
ROUNDS = 7

#: Run in the contestant's site folder with arguments ``calls rounds``: import ``app:app``,
#: start its lifespan, then time ``GET /`` (best of the rounds), in microseconds.
DRIVER = """
import asyncio, json, sys, time
sys.path.insert(0, ".")
from app import app

SCOPE = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
         "scheme": "http", "path": "/", "raw_path": b"/", "query_string": b"", "root_path": "",
         "headers": [(b"host", b"127.0.0.1")], "client": ("127.0.0.1", 1),
         "server": ("127.0.0.1", 80)}


async def receive():
    return {"type": "http.request", "body": b"", "more_body": False}


async def send(message):
    pass


async def main(calls, rounds):
    inbox = asyncio.Queue()
    started = asyncio.Event()
    await inbox.put({"type": "lifespan.startup"})

    async def life_send(message):
        if message["type"] == "lifespan.startup.complete":
            started.set()

    life = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}},
                                   inbox.get, life_send))
    await started.wait()
    best = float("inf")
    for _ in range(rounds):
        began = time.perf_counter()
        for _ in range(calls):
            await app({**SCOPE, "state": {}}, receive, send)
        best = min(best, (time.perf_counter() - began) / calls)
    await inbox.put({"type": "lifespan.shutdown"})
    await life
    print(json.dumps(best * 1e6))


asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
"""


def app_microseconds(site: Path, env: dict[str, str], calls: int) -> float:
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(calls), str(ROUNDS)],
        cwd=site,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return float(json.loads(done.stdout.strip().splitlines()[-1]))


def app_cost(site: Path, env: dict[str, str], calls: int) -> dict[str, Figure]:
    """Microseconds per ``GET /`` with the contestant and without it, and the difference."""
    on = app_microseconds(site, {**env, "BENCH_HOT_RELOAD": "1"}, calls)
    off = app_microseconds(site, {**env, "BENCH_HOT_RELOAD": "0"}, calls)
    note = f"in-process, best of {ROUNDS} rounds of {calls} calls, lifespan running"
    return {
        "app.on": Figure(value=round(on, 1), unit="µs", note=note),
        "app.off": Figure(value=round(off, 1), unit="µs", note=note),
        "app.added": Figure(value=round(on - off, 1), unit="µs", note=note),
    }
