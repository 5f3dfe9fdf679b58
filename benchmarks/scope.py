"""Only the tabs that use a change update: 10 Chromium tabs on 10 pages, one page's template saved.

Run from the repository root: ``python -m benchmarks.scope`` (about a minute; ``--saves N``).
Prints a Markdown table for ``benchmarks/RESULTS.md``: per save, how many tabs updated (target:
1) and the time from the save to the new text in that tab's DOM; then the same for a save of the
base template every page extends, which must update all 10.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from playwright.async_api import ConsoleMessage, Page, Request

from tests.support.apps import write_app
from tests.support.server import Server

from ._browser import watched_context
from ._saves import in_place

PAGES = 10
CHILD = '{{% extends "base.html" %}}{{% block content %}}<h1 id="title">{}</h1>{{% endblock %}}'
#: The base's ``#version`` is in every page, so a save of it shows in all of them.
BASE = (
    '<!doctype html><html><head><title>bench</title></head><body><p id="version">{}</p>'
    "{% block content %}{% endblock %}</body></html>"
)
Row = tuple[int, float, float]


class Tab:
    """One page: when each ``#title`` text reached its DOM, and how often it requested itself
    (a morph fetches the page, a reload navigates to it: either is an update)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.loads = 0
        self.seen: dict[str, float] = {}
        page.on("console", self._logged)
        page.on("request", self._requested)

    def _logged(self, message: ConsoleMessage) -> None:
        self.seen.setdefault(message.text, time.perf_counter())

    def _requested(self, request: Request) -> None:
        if request.url == self.page.url:
            self.loads += 1

    async def shown(self, what: str, timeout: float = 30) -> float:
        """When ``what`` (``title=x``, ``version=x``) was first in the DOM; waits for it."""
        deadline = time.monotonic() + timeout
        while f"[bench] {what}" not in self.seen:
            if time.monotonic() > deadline:
                raise TimeoutError(what)
            await asyncio.sleep(0.002)
        return self.seen[f"[bench] {what}"]


async def connected(tabs: list[Tab]) -> None:
    for tab in tabs:
        await tab.page.wait_for_selector('html[data-hot-reload="connected"]', state="attached")


async def saves(tabs: list[Tab], path: Path, text: str, every: bool, count: int) -> list[Row]:
    """For each save of ``text`` (with a new marker) to ``path``: how many tabs updated, and
    seconds until the new text was in ``tabs[3]`` (and, when ``every`` tab shows it, the last)."""
    results = []
    for number in range(count):
        marker = f"{path.stem}-{number}"
        before = [tab.loads for tab in tabs]
        started = in_place(path, text.replace("{}", marker))
        what = f"{'version' if every else 'title'}={marker}"
        shown = [await tab.shown(what) for tab in (tabs if every else tabs[3:4])]
        await connected(tabs)
        await asyncio.sleep(0.5)  # any other tab that was going to update has done so by now
        updated = sum(tab.loads > old for tab, old in zip(tabs, before, strict=True))
        results.append((updated, shown[3 if every else 0] - started, max(shown) - started))
    return results


def ms(values: list[float]) -> str:
    p90 = statistics.quantiles(values, n=10)[-1]
    return f"{statistics.median(values) * 1000:.0f} / {p90 * 1000:.0f}"


def row(name: str, results: list[Row]) -> str:
    counts = sorted(count for count, _, _ in results)
    return (
        f"| {name} | {counts[0]}..{counts[-1]} | {ms([tab for _, tab, _ in results])} "
        f"| {ms([last for _, _, last in results])} |"
    )


async def measure(site: Path, count: int) -> list[str]:
    templates = site / "templates"
    server = Server(site, "--no-access-log")
    try:
        async with watched_context() as context:
            tabs = [Tab(await context.new_page()) for _ in range(PAGES)]
            for number, tab in enumerate(tabs):
                await tab.page.goto(f"{server.url}/p{number}.html")
            await connected(tabs)
            page = await saves(tabs, templates / "p3.html", CHILD.format("{}"), False, count)
            base = await saves(tabs, templates / "base.html", BASE, True, count)
    finally:
        server.stop()
    return [
        row("save of one page's template (`p3.html`)", page),
        row("save of the base template all 10 extend", base),
    ]


def main(count: int) -> None:
    os.environ["FASTAPI_HOT_RELOAD"] = "1"  # its servers are plain uvicorn: on when asked
    with tempfile.TemporaryDirectory() as folder:
        pages = {f"templates/p{n}.html": CHILD.format(f"p{n}") for n in range(PAGES)}
        files = {"templates/base.html": BASE.replace("{}", "start"), **pages}
        site = write_app(Path(folder) / "site", files=files)
        rows = asyncio.run(measure(site, count))
    print(
        f"\n| {PAGES} tabs on {PAGES} pages | tabs updated (min..max) | save→pixels, that tab, "
        "p50 / p90 ms | save→pixels, last tab updated, p50 / p90 ms |"
    )
    print("|---|---:|---:|---:|")
    print("\n".join(rows))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scope", description=__doc__)
    parser.add_argument("--saves", type=int, default=20, help="saves measured per row")
    main(parser.parse_args().saves)
