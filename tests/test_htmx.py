"""The htmx example in a real Chromium with the real htmx: fragments stay fragments."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Request, expect

from . import test_browser
from .support.browser import Watched
from .support.htmx import htmx_js
from .support.server import Server

pytestmark = pytest.mark.browser
browser = test_browser.browser  # the same fixture: one Chromium per module

EXAMPLE = Path(__file__).parent.parent / "examples" / "htmx"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A copy of the example, with htmx from the npm registry in its static folder."""
    folder = tmp_path / "site"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("node_modules", "htmx.min.js"))
    shutil.copy(htmx_js(), folder / "static" / "htmx.min.js")
    return folder


@pytest.fixture
def server(site: Path) -> Iterator[Server]:
    running = Server(site, command=("-m", "uvicorn", "main:app"))
    yield running
    running.stop()


class Counted:
    """A tab, with the client fetches, sockets and loads it has seen."""

    def __init__(self, tab: Watched) -> None:
        self.tab, self.page = tab, tab.page
        self.client_fetches = self.sockets = self.loads = 0
        self.page.on("request", self._requested)
        self.page.on("websocket", lambda socket: self._add("sockets"))
        self.page.on("load", lambda page: self._add("loads"))

    def _requested(self, request: Request) -> None:
        if "/__hot_reload__/client/" in request.url:
            self._add("client_fetches")

    def _add(self, name: str) -> None:
        setattr(self, name, getattr(self, name) + 1)

    def child_tags(self, selector: str) -> list[str]:
        tags: list[str] = self.page.eval_on_selector(
            selector, "node => [...node.children].map(child => child.tagName)"
        )
        return tags


def open_counted(context: BrowserContext, url: str) -> Counted:
    page = context.new_page()
    counted = Counted(Watched(page))
    page.goto(url)
    expect(page.locator('html[data-hot-reload="connected"]')).to_be_attached()
    return counted


def test_swaps_of_text_rows_and_empty_bodies_leave_no_stray_node(
    server: Server, context: BrowserContext
) -> None:
    tab = open_counted(context, server.url)
    page, modules = tab.page, tab.client_fetches

    page.fill("#search", "an")  # a block rendered by jinja2-fragments, into a list
    expect(page.locator("#results li")).to_have_text(["Banana"])
    page.click("#item-1 >> text=Edit")  # outerHTML: a row becomes a form row
    page.fill("#item-1 input[name=name]", "Apricot")
    page.click("#item-1 >> text=Save")
    expect(page.locator("#item-1 td").first).to_have_text("Apricot")
    page.click("#item-2 >> text=Delete")  # an empty body removes the row
    expect(page.locator("#item-2")).to_have_count(0)
    expect(page.locator("#count")).to_have_text("3")  # a text swap: no markup shows as text

    assert tab.child_tags("#results") == ["LI"]
    assert tab.child_tags("#rows") == ["TR"] * 3
    assert page.locator("script[data-hot-reload]").count() == 1
    assert (tab.client_fetches, tab.sockets, tab.loads) == (modules, 1, 1)


def test_template_save_after_swaps_updates_the_page_once(
    server: Server, site: Path, context: BrowserContext
) -> None:
    tab = open_counted(context, server.url)
    tab.page.click("#item-3 >> text=Edit")
    expect(tab.page.locator("#item-3 input[name=name]")).to_be_visible()
    index = site / "templates" / "index.html"

    index.write_text(index.read_text().replace(">Fruit<", ">Fresh fruit<"))

    expect(tab.page.locator("#title")).to_have_text("Fresh fruit")
    expect(tab.page.locator('html[data-hot-reload="connected"]')).to_be_attached()
    assert tab.child_tags("#rows") == ["TR"] * 4
    assert tab.loads == 1  # morphed: the rows are the server's again, the page stayed
    updated = [line for line in tab.tab.hot_reload_lines if "page updated in place" in line]
    assert len(updated) == 1
    assert updated[0].startswith("[hot-reload] index.html changed: page updated in place, ")


def test_boosted_navigation_keeps_one_socket_and_still_updates(
    server: Server, site: Path, context: BrowserContext
) -> None:
    tab = open_counted(context, server.url)
    modules = tab.client_fetches

    tab.page.click("#nav-about")  # hx-boost: htmx fetches the page and swaps its body in

    expect(tab.page.locator("#title")).to_have_text("About")
    assert tab.page.url == server.url + "/about"
    assert (tab.client_fetches, tab.sockets, tab.loads) == (modules, 1, 1)
    assert tab.page.locator("script[data-hot-reload]").count() == 0  # gone with the old body
    about = site / "templates" / "about.html"
    about.write_text(about.read_text().replace(">About<", ">About us<"))
    expect(tab.page.locator("#title")).to_have_text("About us")
    expect(tab.page.locator('html[data-hot-reload="connected"]')).to_be_attached()
    assert (tab.sockets, tab.loads) == (1, 1)  # morphed: the page now shown, fetched again
