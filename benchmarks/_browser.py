"""Save to pixels, and .py save to new page: real Chromium tabs through Playwright."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import BrowserContext, ConsoleMessage, Page, async_playwright

from tests.support.browser import launch_options

from ._contestants import Contestant
from ._http import first_answer_with
from ._saves import Save

#: Runs in every document before its own scripts: logs each new text of #title and #version,
#: and our client's readiness (again after each morph), so Python sees the instant the DOM
#: holds them.
WATCH_DOM = """
(() => {
  const seen = {};
  let state = null;
  const check = () => {
    for (const id of ["title", "version"]) {
      const text = document.getElementById(id)?.textContent;
      if (text && text !== seen[id]) {
        seen[id] = text;
        console.debug(`[bench] ${id}=${text}`);
      }
    }
    const now = document.documentElement?.dataset.hotReload;
    if (now !== state) {
      state = now;
      if (now === "connected") console.debug("[bench] connected");
    }
  };
  const all = { subtree: true, childList: true, characterData: true, attributes: true };
  new MutationObserver(check).observe(document, all);
})();
"""


@asynccontextmanager
async def watched_context() -> AsyncIterator[BrowserContext]:
    """A browser context on the system Chromium (the tests' launcher) whose every document runs
    ``WATCH_DOM``."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(**launch_options())
        try:
            context = await browser.new_context()
            await context.add_init_script(WATCH_DOM)
            yield context
        finally:
            await browser.close()


class Tab:
    """One page; notes when each text appears in its DOM and when its socket is up."""

    def __init__(self, page: Page, contestant: Contestant) -> None:
        self.page = page
        self._ready_text = contestant.ready_console
        self.ready = asyncio.Event()
        self._seen: dict[str, float] = {}
        self._changed = asyncio.Event()
        page.on("console", self._on_console)

    def _on_console(self, message: ConsoleMessage) -> None:
        now = time.perf_counter()
        text = message.text
        if text.startswith("[bench] ") and "=" in text:
            self._seen.setdefault(text.removeprefix("[bench] "), now)
            self._changed.set()
        elif self._ready_text in text:
            self.ready.set()

    async def seen(self, what: str, timeout: float = 30) -> float:
        """When ``what`` (like ``title=x``) was first in the DOM; waits for it."""
        deadline = time.monotonic() + timeout
        while what not in self._seen:
            self._changed.clear()
            await asyncio.wait_for(self._changed.wait(), deadline - time.monotonic())
        return self._seen[what]


async def open_tabs(
    context: BrowserContext, contestant: Contestant, url: str, count: int
) -> list[Tab]:
    tabs = []
    for _ in range(count):
        tab = Tab(await context.new_page(), contestant)
        await tab.page.goto(url)
        tabs.append(tab)
    await all_ready(tabs)
    return tabs


async def all_ready(tabs: list[Tab], timeout: float = 30) -> None:
    await asyncio.wait_for(asyncio.gather(*(tab.ready.wait() for tab in tabs)), timeout)


async def close_tabs(tabs: list[Tab]) -> None:
    await asyncio.gather(*(tab.page.close() for tab in tabs))


async def timed_tab_saves(
    tabs: list[Tab],
    path: Path,
    text: Callable[[str], str],
    what: str,
    save: Save,
    saves: int,
    settle: float,
) -> tuple[list[float], list[float]]:
    """For each save, seconds from the write until the first and the last tab show it."""
    firsts: list[float] = []
    lasts: list[float] = []
    for number in range(saves):
        marker = f"{what}-{len(tabs)}-{number}"
        for tab in tabs:
            tab.ready.clear()
        started = save(path, text(marker))
        shown = [await tab.seen(f"{what}={marker}") for tab in tabs]
        firsts.append(min(shown) - started)
        lasts.append(max(shown) - started)
        await all_ready(tabs)
        await asyncio.sleep(settle)
    return firsts, lasts


async def timed_restarts(
    tabs: list[Tab], port: int, app: Path, text: Callable[[str], str], saves: int, save: Save
) -> tuple[list[float], list[float]]:
    """For each ``.py`` save: seconds to the new worker's first page, and to the last tab's."""
    answers: list[float] = []
    pages: list[float] = []
    for number in range(saves):
        marker = f"py-{len(tabs)}-{number}"
        for tab in tabs:
            tab.ready.clear()
        started = save(app, text(marker))
        answers.append(await first_answer_with(port, marker) - started)
        if tabs:
            pages.append(max([await tab.seen(f"version={marker}") for tab in tabs]) - started)
            await all_ready(tabs)
        await asyncio.sleep(0.3)  # uvicorn's reloader pauses 0.25 s before it watches again
    return answers, pages
