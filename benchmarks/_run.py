"""What is measured, in which order, on which servers, for each contestant."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tests.support.browser import find_chromium
from tests.support.server import Server

from ._browser import (
    close_tabs,
    open_tabs,
    timed_restarts,
    timed_tab_saves,
    watched_context,
)
from ._contestants import Contestant
from ._cost import idle_cpu, memory_per_1000, throughput
from ._devservers import dev_cells
from ._inprocess import app_cost
from ._messages import message_cells
from ._report import Cells, rows
from ._saves import in_place, retitle, reversion
from ._server import reloading, write_site
from ._stats import Figure

if TYPE_CHECKING:  # playwright is optional at run time
    from playwright.async_api import BrowserContext


@dataclass(frozen=True)
class Plan:
    """How much to measure: the full run, or a small one that only proves the harness works."""

    counts: tuple[int, ...] = (1, 100, 1000)
    message_saves: int = 30
    pixel_saves: int = 20
    py_saves: int = 10
    max_restart_clients: int = 1  # save→message for a contestant that restarts on each save
    idle_tabs: int = 100
    idle_seconds: float = 5.0
    rps_seconds: float = 1.0
    rps_turns: int = 8
    app_calls: int = 2000  # per round of the in-process cost, best of 7 rounds


FULL = Plan()
QUICK = Plan(
    counts=(1, 10, 100),
    message_saves=5,
    pixel_saves=3,
    py_saves=2,
    max_restart_clients=1,
    idle_tabs=20,
    idle_seconds=0.5,
    rps_seconds=0.3,
    rps_turns=2,
    app_calls=200,
)


def browser_missing(wanted: bool) -> str | None:
    """Why the browser cells cannot run, or ``None``."""
    if not wanted:
        return "skipped with --no-browser"
    if find_chromium() is None:
        return "needs Chromium on PATH (apt-get install chromium)"
    return None


@asynccontextmanager
async def chromium(missing: str | None) -> AsyncIterator[BrowserContext | str]:
    """A browser context for the tabs, or why there is none."""
    if missing is not None:
        yield missing
        return
    async with watched_context() as context:
        yield context


async def measure(
    plan: Plan, contestants: list[Contestant], folder: Path, browser: str | None, dev: bool
) -> Cells:
    """Every cell for every contestant, one contestant's servers at a time; then, with
    ``dev``, the three development servers side by side.

    ``browser``: why the browser cells cannot run, or ``None`` to run them.
    """
    cells: Cells = {}
    async with chromium(browser) as context:
        for contestant in contestants:
            why = contestant.missing()
            if why:
                for cell, _ in rows(list(plan.counts)):
                    cells.setdefault(cell, {})[contestant.key] = Figure.missing(why)
                continue
            for cell, figure in (await _measure_one(plan, contestant, folder, context)).items():
                cells.setdefault(cell, {})[contestant.key] = figure
        if dev:
            cells |= await dev_cells(plan.py_saves, folder, context)
    return cells


async def _measure_one(
    plan: Plan, contestant: Contestant, folder: Path, context: BrowserContext | str
) -> dict[str, Figure]:
    site = write_site(folder / contestant.key, contestant.app_file, contestant.script_file)
    bare = write_site(
        folder / f"{contestant.key}-bare", contestant.app_file, contestant.script_file
    )
    on = reloading(site, *contestant.uvicorn_args)
    off = reloading(bare, env={"BENCH_HOT_RELOAD": "0"})
    try:
        cells = await _cost_cells(plan, contestant, on, off)
        ws_url = on.ws(contestant.ws_path)
        counts, saves = list(plan.counts), plan.message_saves
        cells |= await message_cells(
            contestant, ws_url, site, counts, saves, plan.max_restart_clients
        )
        if isinstance(context, str):
            cells |= {cell: Figure.missing(context) for cell in BROWSER_CELLS}
        else:
            cells |= await _pixel_cells(plan, contestant, on, context)
        cells |= await _restart_cells(plan, contestant, on, off, context)
        cells |= await _full_reload_cells(plan, contestant, folder, context)
    finally:
        on.stop()
        off.stop()
    return cells


BROWSER_CELLS = ("px.1.first", "px.5.last", "py.page.1", "py.page.5", "py.answer.5")
RELOAD_CELLS = ("px.1.first.reload", "px.5.last.reload", "py.page.1.reload")


async def _cost_cells(
    plan: Plan, contestant: Contestant, on: Server, off: Server
) -> dict[str, Figure]:
    cells = await throughput(on, off, plan.rps_seconds, plan.rps_turns)
    cells |= await asyncio.to_thread(app_cost, off.folder, dict(os.environ), plan.app_calls)
    cells["idle.cpu"] = await idle_cpu(on, contestant, plan.idle_tabs, plan.idle_seconds)
    cells["mem.per1000"] = await memory_per_1000(on, contestant, plan.counts[-1])
    return cells


async def _full_reload_cells(
    plan: Plan, contestant: Contestant, folder: Path, context: BrowserContext | str
) -> dict[str, Figure]:
    """Ours again with ``morph=False``: the version 1 full reload, measured in the same run."""
    if contestant.key != "ours" or isinstance(context, str):
        why = context if isinstance(context, str) else "only fastapi-hot-reload morphs"
        return {cell: Figure.missing(why) for cell in RELOAD_CELLS}
    site = write_site(folder / "ours-reload", contestant.app_file, contestant.script_file)
    server = reloading(site, env={"BENCH_MORPH": "0"})
    try:
        cells = await _pixel_cells(plan, contestant, server, context, ".reload")
        _, pages = await _restarts(plan, server, context, 1, contestant)
    finally:
        server.stop()
    cells["py.page.1.reload"] = Figure.latencies(pages)
    return cells


async def _pixel_cells(
    plan: Plan, contestant: Contestant, server: Server, context: BrowserContext, suffix: str = ""
) -> dict[str, Figure]:
    path = server.folder / "templates" / "index.html"
    page = path.read_text()
    cells = {}
    for count, name, pick in ((1, "px.1.first", 0), (5, "px.5.last", 1)):
        cell = name + suffix
        tabs = await open_tabs(context, contestant, server.url + "/", count)
        try:
            times = await timed_tab_saves(
                tabs,
                path,
                lambda m: retitle(page, m),
                "title",
                in_place,
                plan.pixel_saves,
                contestant.settle,
            )
        finally:
            await close_tabs(tabs)
        cells[cell] = Figure.latencies(times[pick])
    return cells


async def _restart_cells(
    plan: Plan, contestant: Contestant, on: Server, off: Server, context: BrowserContext | str
) -> dict[str, Figure]:
    cells: dict[str, Figure] = {}
    if contestant.key == "ours":
        answers, _ = await _restarts(plan, off, context, 0)
        cells["py.baseline"] = Figure.latencies(answers, "the same app without the library")
    else:
        cells["py.baseline"] = Figure.missing(
            "measured once, on fastapi-hot-reload's app without the library (first column)"
        )
    answers, _ = await _restarts(plan, on, context, 0)
    cells["py.answer.0"] = Figure.latencies(answers)
    if isinstance(context, str):
        return cells
    _, pages = await _restarts(plan, on, context, 1, contestant)
    cells["py.page.1"] = Figure.latencies(pages)
    answers, pages = await _restarts(plan, on, context, 5, contestant)
    cells["py.answer.5"] = Figure.latencies(answers)
    cells["py.page.5"] = Figure.latencies(pages)
    return cells


async def _restarts(
    plan: Plan,
    server: Server,
    context: BrowserContext | str,
    count: int,
    contestant: Contestant | None = None,
) -> tuple[list[float], list[float]]:
    app = server.folder / "app.py"
    source = app.read_text()
    tabs = []
    if count and contestant and not isinstance(context, str):
        tabs = await open_tabs(context, contestant, server.url + "/", count)
    try:
        return await timed_restarts(
            tabs, server.port, app, lambda m: reversion(source, m), plan.py_saves, in_place
        )
    finally:
        await close_tabs(tabs)
