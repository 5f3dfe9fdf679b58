"""Full-scale reliability soak (issue 7): churn, dead peers, hostile frames, big trees, shutdown.

Run from the repository root: ``python -m benchmarks.soak`` (about five minutes; ``--quick`` for a
smaller run). Prints one Markdown table per part, for ``benchmarks/RESULTS.md``. The bounded
versions of the same scenarios are ``tests/test_reliability.py``; this reuses its helpers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.support.apps import page
from tests.support.probes import fds, inotify_watches, probe_app, raw_tab, rss_mib, tasks
from tests.support.server import Server

Row = tuple[str, str]


def table(title: str, rows: list[Row]) -> None:
    print(f"\n### {title}\n\n| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    sys.stdout.flush()


async def open_tab(url: str) -> tuple[ClientConnection, dict[str, object]]:
    socket_ = await connect(url, open_timeout=60, max_size=None)
    hello: dict[str, object] = json.loads(await socket_.recv())
    return socket_, hello


async def open_many(url: str, count: int) -> list[ClientConnection]:
    opened: list[ClientConnection] = []
    for start in range(0, count, 50):
        batch = await asyncio.gather(*(open_tab(url) for _ in range(min(50, count - start))))
        opened += [socket_ for socket_, _ in batch]
    return opened


async def wait_until(probe: Callable[[], int], target: int, limit: float) -> float | None:
    """Seconds until ``probe() <= target``, or ``None`` when ``limit`` passed first."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if await asyncio.to_thread(probe) <= target:
            return time.monotonic() - start
        await asyncio.sleep(0.1)
    return None


class Follower:
    """One staying tab: every reload it hears, and the rev of each hello after a drop."""

    def __init__(self, url: str, socket_: ClientConnection) -> None:
        self.url, self.socket, self.revs, self.rejoins = url, socket_, list[int](), list[int]()

    async def run(self) -> None:
        while True:
            try:
                message = json.loads(await self.socket.recv())
            except ConnectionClosed:
                self.socket, hello = await open_tab(self.url)
                self.rejoins.append(int(str(hello["rev"])))
                continue
            self.revs.append(int(message["rev"]))

    def latest(self) -> int:
        return max(self.revs + self.rejoins, default=0)

    def heard_everything(self, final: int) -> bool:
        """Every rev in order, or a gap that a hello after a drop covered (the boot/rev rule)."""
        expected, rejoins = 1, iter(self.rejoins)
        for rev in self.revs:
            if rev != expected and next(rejoins, -1) < rev - 1:
                return False
            expected = rev + 1
        return expected - 1 == final or max(self.rejoins, default=0) >= final


async def churn_soak(root: Path, tabs: int, saves: int) -> None:
    folder = probe_app(root / "churn")
    server = Server(folder, "--no-access-log")
    try:
        first = tasks(server)
        for socket_ in await open_many(server.ws_url, 50):
            await socket_.close()
        await wait_until(lambda: tasks(server), first, 30)
        base = (fds(server), tasks(server), rss_mib(server))

        followers = [Follower(server.ws_url, s) for s in await open_many(server.ws_url, tabs)]
        readers = [asyncio.create_task(f.run()) for f in followers]
        churned, stop, peak = 0, asyncio.Event(), [0, 0, 0.0]

        async def churn() -> None:
            nonlocal churned
            while not stop.is_set():
                socket_, _ = await open_tab(server.ws_url)
                await socket_.close()
                churned += 1

        churners = [asyncio.create_task(churn()) for _ in range(8)]
        started = time.monotonic()
        for number in range(saves):
            await asyncio.to_thread(page, folder, f"<h1>save {number}</h1>")
            await asyncio.sleep(0.05)
            if number % 50 == 0:
                peak = [max(peak[0], fds(server)), max(peak[1], tasks(server)), rss_mib(server)]
        await asyncio.sleep(2)  # the last batch
        stop.set()
        await asyncio.gather(*churners)
        elapsed = time.monotonic() - started
        probe, hello = await open_tab(server.ws_url)
        await probe.close()
        final = int(str(hello["rev"]))
        for _ in range(600):  # up to a minute for the last messages to arrive
            if all(f.latest() >= final for f in followers):
                break
            await asyncio.sleep(0.1)
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        complete = sum(f.heard_everything(final) for f in followers)
        dropped = sum(bool(f.rejoins) for f in followers)
        for follower in followers:
            await follower.socket.close()
        settled = await wait_until(lambda: tasks(server), base[1], 60)
        await wait_until(lambda: fds(server), base[0], 30)
        after = (fds(server), tasks(server), rss_mib(server))
        errors = sum("Traceback" in line or "ERROR" in line for line in server.lines)
        table(
            f"Churn: {tabs} tabs, 8 churners, {saves} saves",
            [
                ("saves written / reloads broadcast (revs)", f"{saves} / {final}"),
                ("churn rate (connect+hello+close per s)", f"{churned / elapsed:.0f}"),
                ("tabs that heard every rev (or caught up on rejoin)", f"{complete}/{tabs}"),
                ("tabs dropped as too slow and rejoined", str(dropped)),
                ("error lines in the server log", str(errors)),
                ("fds: baseline / peak / after close", f"{base[0]} / {peak[0]} / {after[0]}"),
                ("tasks: baseline / peak / after close", f"{base[1]} / {peak[1]} / {after[1]}"),
                (
                    "RSS MiB: baseline / at end / after",
                    f"{base[2]:.1f} / {peak[2]:.1f} / {after[2]:.1f}",
                ),
                ("seconds for tasks to return to baseline", f"{settled:.1f}" if settled else "no"),
            ],
        )
    finally:
        server.stop()


async def shutdown_soak(root: Path, tabs: int) -> None:
    server = Server(probe_app(root / "shutdown"), "--no-access-log")
    opened = await open_many(server.ws_url, tabs)
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    await asyncio.to_thread(server.process.wait, 60)
    exited = time.monotonic() - started
    await asyncio.gather(*(s.wait_closed() for s in opened))
    codes = [s.close_code for s in opened]
    server.stop()
    table(
        f"Shutdown with {tabs} tabs open",
        [
            ("SIGTERM to process exit (s)", f"{exited:.2f}"),
            ("tabs closed with 1012", f"{codes.count(1012)}/{tabs}"),
        ],
    )


def frozen_client(url: str) -> subprocess.Popen[str]:
    code = (
        "import time; from websockets.sync.client import connect\n"
        f"with connect({url!r}) as ws: print(ws.recv(), flush=True); time.sleep(600)"
    )
    client = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert client.stdout is not None
    client.stdout.readline()
    client.send_signal(signal.SIGSTOP)
    return client


async def peers_soak(root: Path) -> None:
    rows: list[Row] = []
    for label, args in [
        ("uvicorn defaults (20 s / 20 s)", ()),
        (
            "--ws-ping-interval 5 --ws-ping-timeout 5",
            ("--ws-ping-interval", "5", "--ws-ping-timeout", "5"),
        ),
        ("pings off (--ws-ping-interval 0)", ("--ws-ping-interval", "0")),
    ]:
        server = Server(probe_app(root / f"peers{len(rows)}"), "--no-access-log", *args)
        base = tasks(server)
        client = frozen_client(server.ws_url)
        cleaned = await wait_until(partial(tasks, server), base, 70)
        client.kill()
        client.wait()
        server.stop()
        rows.append(
            (
                f"SIGSTOP-ed tab cleaned up after (s), {label}",
                f"{cleaned:.1f}" if cleaned else "not within 70 s",
            )
        )

    # A stuck tab whose socket buffers are full: 60 error messages of 200 kB each.
    for label, args in [
        ("no graceful timeout", ()),
        ("--timeout-graceful-shutdown 2", ("--timeout-graceful-shutdown", "2")),
    ]:
        folder = probe_app(root / f"full{len(rows)}")
        server = Server(
            folder, "--no-access-log", "--ws-ping-interval", "1", "--ws-ping-timeout", "1", *args
        )
        good, _ = await open_tab(server.ws_url)
        base_tasks = tasks(server)
        stuck = raw_tab(server)
        for number in range(60):
            await asyncio.to_thread(page, folder, "<h1>{% if %}" + "x" * 200_000 + f"{number}")
            await good.recv()
        cleaned = await wait_until(partial(tasks, server), base_tasks, 10)
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(server.process.wait, 15)
            exited = f"{time.monotonic() - started:.2f}"
        except subprocess.TimeoutExpired:
            exited = "hung (killed after 15 s)"
            server.process.kill()
        server.stop()
        stuck.close()
        await good.close()
        rows.append(
            (
                f"full-buffer stuck tab: handler ended within 10 s ({label})",
                "yes" if cleaned is not None else "no",
            )
        )
        rows.append((f"full-buffer stuck tab: SIGTERM to exit ({label})", exited))
    table("Dead and stuck peers", rows)


async def hostile_soak(root: Path) -> None:
    folder = probe_app(root / "hostile")
    server = Server(folder, "--no-access-log")
    try:
        good, _ = await open_tab(server.ws_url)
        hostile, _ = await open_tab(server.ws_url)
        base = rss_mib(server)
        frame = "y" * 10_000_000
        started = time.monotonic()
        for _ in range(20):
            await hostile.send(frame)
        after_big = rss_mib(server)
        big_time = time.monotonic() - started
        started = time.monotonic()
        for number in range(100_000):
            await hostile.send(f"flood {number}")
        flood_rate = 100_000 / (time.monotonic() - started)
        page(folder, "<h1>after the flood</h1>")
        sent = time.monotonic()
        await good.recv()
        latency = time.monotonic() - sent
        after_flood = rss_mib(server)
        await good.close()
        await hostile.close()
    finally:
        server.stop()
    table(
        "Hostile frames (one tab sends, one listens)",
        [
            ("RSS MiB before", f"{base:.1f}"),
            ("RSS MiB after 20 frames of 10 MB", f"{after_big:.1f} ({big_time:.1f} s to send)"),
            ("flood: frames/s the server absorbed", f"{flood_rate:.0f}"),
            ("RSS MiB after 100,000 small frames", f"{after_flood:.1f}"),
            ("save-to-reload at the listening tab right after the flood (s)", f"{latency:.3f}"),
        ],
    )


def tree(folder: Path, dirs: int, files: int, under: str = "") -> None:
    for number in range(dirs):
        sub = folder / "templates" / under / f"d{number}"
        sub.mkdir(parents=True, exist_ok=True)
        for name in range(files):
            (sub / f"f{name}.html").write_text("<p>x</p>")


async def tree_soak(root: Path) -> None:
    rows: list[Row] = []
    for label, dirs, files, under in [
        ("2 templates (baseline)", 0, 0, ""),
        ("10,000 templates in 500 folders", 500, 20, ""),
        ("node_modules of 10,000 folders inside templates/", 10_000, 0, "node_modules"),
    ]:
        folder = probe_app(root / f"tree{len(rows)}")
        tree(folder, dirs, files, under)
        started = time.monotonic()
        server = Server(folder, "--no-access-log")
        ready = time.monotonic() - started
        good, _ = await open_tab(server.ws_url)
        page(folder, "<h1>x</h1>")
        await good.recv()
        rows.append(
            (
                f"{label}: server ready (s) / RSS MiB / inotify watches",
                f"{ready:.2f} / {rss_mib(server):.1f} / {inotify_watches(server.process.pid)}",
            )
        )
        await good.close()
        server.stop()
    table("Template trees", rows)


async def polling_soak(root: Path) -> None:
    folder = probe_app(root / "polling", 'watch=["static"], force_polling=True')
    server = Server(folder, "--no-access-log")
    good, _ = await open_tab(server.ws_url)
    latencies = []
    for number in range(10):
        await asyncio.sleep(1.05 - time.time() % 1)
        page(folder, f"<h1>{number}</h1>")
        sent = time.monotonic()
        await good.recv()
        latencies.append(time.monotonic() - sent)
    await good.close()
    server.stop()
    table(
        "Polling (force_polling=True)",
        [
            ("saves reloaded", f"{len(latencies)}/10"),
            (
                "save-to-reload median / max (s)",
                f"{sorted(latencies)[5]:.2f} / {max(latencies):.2f}",
            ),
        ],
    )


async def main(quick: bool) -> None:
    os.environ["FASTAPI_HOT_RELOAD"] = "1"  # its servers are plain uvicorn: on when asked
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 16384)), hard))
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        parts: list[Callable[[], Awaitable[None]]] = [
            lambda: churn_soak(root, 100 if quick else 1000, 30 if quick else 300),
            lambda: shutdown_soak(root, 100 if quick else 1000),
            lambda: hostile_soak(root),
            lambda: tree_soak(root),
            lambda: polling_soak(root),
            lambda: peers_soak(root),
        ]
        for part in parts:
            await part()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small counts, for a smoke run")
    asyncio.run(main(parser.parse_args().quick))
