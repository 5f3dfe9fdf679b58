"""`.py` save → first 200 and → new text in Chromium, for three development servers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tests.support.server import UVICORN_RELOAD, Server

from ._browser import close_tabs, open_tabs, timed_restarts
from ._contestants import OURS
from ._saves import in_place, reversion
from ._server import reloading, write_site
from ._stats import Figure

if TYPE_CHECKING:  # playwright is optional at run time
    from playwright.async_api import BrowserContext


@dataclass(frozen=True)
class DevServer:
    key: str
    title: str
    command: tuple[str, ...]  # what Python runs, before --host and --port
    warm_log: str = "Application startup complete"  # measured only once this is logged


DEV_SERVERS = (
    DevServer("uvicorn", "uvicorn --reload", UVICORN_RELOAD),
    DevServer("fastapi", "fastapi dev", ("-m", "fastapi", "dev", "app.py")),
    DevServer(
        "ours",
        "fastapi-hot-reload dev",
        ("-m", "fastapi_hot_reload", "dev", "app:app", "--no-access-log"),
        warm_log="Standby ready",  # the standby has learned the app's packages
    ),
)
ROWS = (
    ("dev.answer", ".py save→first 200 with the new code"),
    ("dev.page", ".py save→new text in Chromium, 1 tab"),
)


async def dev_cells(
    saves: int, folder: Path, context: BrowserContext | str
) -> dict[str, dict[str, Figure]]:
    """Each server in turn on fastapi-hot-reload's benchmark app; ``context``: a browser, or
    why there is none."""
    cells: dict[str, dict[str, Figure]] = {cell: {} for cell, _ in ROWS}
    for dev in DEV_SERVERS:
        site = write_site(folder / f"dev-{dev.key}", OURS.app_file, OURS.script_file)
        server = reloading(site, command=dev.command)
        try:
            await asyncio.to_thread(server.wait_for_log, dev.warm_log)
            answers, _ = await _timed(server, saves, None)
            cells["dev.answer"][dev.key] = Figure.latencies(answers)
            if isinstance(context, str):
                cells["dev.page"][dev.key] = Figure.missing(context)
            else:
                _, pages = await _timed(server, saves, context)
                cells["dev.page"][dev.key] = Figure.latencies(pages)
        finally:
            server.stop()
    return cells


async def _timed(
    server: Server, saves: int, context: BrowserContext | None
) -> tuple[list[float], list[float]]:
    app = server.folder / "app.py"
    source = app.read_text()
    tabs = await open_tabs(context, OURS, server.url + "/", 1) if context else []
    try:
        return await timed_restarts(
            tabs, server.port, app, lambda m: reversion(source, m), saves, in_place
        )
    finally:
        await close_tabs(tabs)


def dev_table(cells: dict[str, dict[str, Figure]]) -> str:
    """p50 / p90 / p99 / max ms per server, and the target for fastapi-hot-reload dev."""
    width = 34
    lines = [f"{'dev server (p50 / p90 / p99 / max ms)':<44}"]
    lines[0] += "".join(f"{dev.title:>{width}}" for dev in DEV_SERVERS)
    for cell, label in ROWS:
        shown = (cells.get(cell, {}).get(d.key, Figure.missing("-")) for d in DEV_SERVERS)
        lines.append(f"{label:<44}" + "".join(f"{f.na or f.shown():>{width}}" for f in shown))
    return "\n".join([*lines, dev_target(cells)])


def dev_target(cells: dict[str, dict[str, Figure]]) -> str:
    pages = cells.get("dev.page", {})
    ours, uvicorn = pages.get("ours"), pages.get("uvicorn")
    if not (ours and uvicorn and ours.samples_ms and uvicorn.samples_ms):
        return "target (new text p50 <= 300 ms, never slower than uvicorn): not measured"
    p50, theirs = ours.pct(50), uvicorn.pct(50)
    met = p50 <= 300 and p50 <= theirs
    verdict = "met" if met else "MISSED"
    return f"target (new text p50 <= 300 ms and <= uvicorn's {theirs:.0f}): {p50:.0f} ms, {verdict}"
