"""Only the tabs that use a change update, in a real Chromium against a real uvicorn.

A tab that is left alone makes no request at all (Playwright's request log) and keeps its
``window``; a tab that updates fetches its page once and morphs into it (or, for a file that is
no template, reloads and loses its ``window``). Tabs wait on console lines and DOM state, no
sleeps.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Request, expect

from .support.apps import write_app
from .support.browser import Watched, chromium, hold_first
from .support.htmx import htmx_js
from .support.server import Server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


CONNECTED = 'html[data-hot-reload="connected"]'
NOT_USED = "not used by this page"
MORPHED = "updated in place"
PAGES = {
    "a.html": '{% extends "base.html" %}{% block content %}<h1 id="title">a</h1>{% endblock %}',
    "b.html": '{% extends "base.html" %}{% block content %}<h1 id="title">b</h1>{% endblock %}',
    "dynamic.html": '{% set name = "wid" + "get.html" %}<body>{% include name %}</body>',
    "widget.html": "<p>widget</p>",
    "imports.html": '{% from "macros.html" import hi %}<body>{{ hi() }}</body>',
    "macros.html": "{% macro hi() %}<p>hi</p>{% endmacro %}",
    "clicks.html": '<body><script src="/static/htmx.min.js"></script>'
    '<button id="load" hx-get="/part.html" hx-target="#out">load</button><div id="out"></div>'
    "</body>",
    "part.html": '<p id="part">part</p>',
    "fetches.html": '<body><button id="load" onclick="fetch(\'/row.json\').then((r) => r.json())'
    '.then((row) => { out.innerHTML = row.html; })">load</button><div id="out"></div></body>',
    "row.html": '<p id="row">row</p>',
}
#: An endpoint that renders a template into JSON, fetched by plain ``fetch``, no htmx.
ROW = """

@app.get("/row.json")
async def row() -> dict[str, str]:
    return {"html": templates.get_template("row.html").render()}
"""


class Tab(Watched):
    """A tab on one page of the site, with every request it made since it was marked."""

    def __init__(self, context: BrowserContext, url: str) -> None:
        super().__init__(context.new_page())
        self.requests: list[str] = []
        self.page.on("request", self._requested)
        self.page.goto(url)
        expect(self.page.locator(CONNECTED)).to_be_attached()
        self.mark()

    def _requested(self, request: Request) -> None:
        self.requests.append(request.url)

    def mark(self) -> None:
        """A marker in ``window`` that only an update of the page can remove."""
        self.page.evaluate("window.marker = 'kept'")
        self.requests.clear()

    def left_alone(self) -> None:
        assert self.page.evaluate("window.marker") == "kept"
        assert self.requests == []

    def updated(self, reloaded: bool) -> None:
        expect(self.page.locator(CONNECTED)).to_be_attached()
        if reloaded:
            assert self.page.evaluate("window.marker") is None
        else:  # fetched its page once, and morphed: the same window
            assert self.page.evaluate("window.marker") == "kept"
            assert self.requests.count(self.page.url) == 1
        self.mark()


@contextmanager
def updating(*tabs: Tab, reloaded: bool = False) -> Iterator[None]:
    """Wrap an action: each of ``tabs`` updates because of it, in place or by a reload (and then
    is marked again)."""
    with ExitStack() as stack:
        for tab in tabs:
            if reloaded:
                stack.enter_context(tab.page.expect_navigation())
            else:
                stack.enter_context(tab.page.expect_console_message(lambda m: MORPHED in m.text))
        yield
    for tab in tabs:
        tab.updated(reloaded)


@contextmanager
def left_alone(*tabs: Tab) -> Iterator[None]:
    """Wrap an action: each of ``tabs`` hears of it, finds it does not use it, and stays."""
    with ExitStack() as stack:
        for tab in tabs:
            stack.enter_context(tab.page.expect_console_message(lambda m: NOT_USED in m.text))
        yield
    for tab in tabs:
        tab.left_alone()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Path, Server]]:
    files = {f"templates/{name}": text for name, text in PAGES.items()}
    folder = write_app(tmp_path / "site", routes=ROW, files=files)
    shutil.copy(htmx_js(), folder / "static" / "htmx.min.js")
    server = Server(folder)
    yield folder, server
    server.stop()


def save(folder: Path, name: str, text: str = "<!-- saved -->") -> None:
    """Save template ``name`` with ``text`` added in front of its first ``<h1`` (or its end)."""
    path = folder / "templates" / name
    old = path.read_text()
    path.write_text(old.replace("<h1", text + "<h1", 1) if "<h1" in old else old + text)


def test_saving_a_page_updates_its_tab_only_and_its_base_updates_both(
    site: tuple[Path, Server], context: BrowserContext
) -> None:
    folder, server = site
    a, b = Tab(context, server.url + "/a.html"), Tab(context, server.url + "/b.html")

    with updating(a), left_alone(b):
        save(folder, "a.html", '<p id="new">new</p>')
    expect(a.page.locator("#new")).to_have_text("new")

    with updating(a, b):
        save(folder, "base.html")

    with updating(a, b, reloaded=True):  # a content file any page may read
        (folder / "static" / "posts.json").write_text("[]")


def test_included_imported_and_fetched_templates_are_in_the_pages_set(
    site: tuple[Path, Server], context: BrowserContext
) -> None:
    folder, server = site
    dynamic = Tab(context, server.url + "/dynamic.html")  # {% include name %}, name set at run time
    imports = Tab(context, server.url + "/imports.html")  # {% from "macros.html" import hi %}
    clicks = Tab(context, server.url + "/clicks.html")  # htmx fetches part.html on a click

    with updating(dynamic), left_alone(imports, clicks):
        save(folder, "widget.html")
    with updating(imports), left_alone(dynamic, clicks):
        save(folder, "macros.html")
    with left_alone(clicks):  # not fetched yet
        save(folder, "part.html")

    clicks.page.click("#load")
    expect(clicks.page.locator("#part")).to_have_text("part")
    clicks.mark()
    with updating(clicks), left_alone(dynamic, imports):
        save(folder, "part.html")


def test_templates_rendered_for_a_plain_fetch_join_the_set(
    site: tuple[Path, Server], context: BrowserContext
) -> None:
    """Any response that rendered templates names them in ``Server-Timing``, which the page
    reads for every request it makes: here JSON carrying HTML, fetched by a page script."""
    folder, server = site
    tab = Tab(context, server.url + "/fetches.html")
    with left_alone(tab):
        save(folder, "row.html")

    tab.page.click("#load")
    expect(tab.page.locator("#row")).to_have_text("row")
    tab.mark()
    with updating(tab):
        save(folder, "row.html")


def many(folder: Path, name: str, prefix: str, count: int = 300) -> None:
    """Write ``name``, a page (or fragment) including ``count`` templates ``{prefix}{i}.html``:
    a set of names too long for a page to carry."""
    includes = "".join(f'{{% include "{prefix}{i}.html" %}}' for i in range(count))
    (folder / "templates" / name).write_text(f"<body><div>{includes}</div></body>")
    (folder / "templates" / prefix).parent.mkdir(exist_ok=True)
    for i in range(count):
        (folder / "templates" / f"{prefix}{i}.html").write_text(f"<i>{i}</i>")


def test_large_template_sets_are_carried_by_key_and_scoped_exactly(
    site: tuple[Path, Server], context: BrowserContext
) -> None:
    """300 included templates: the tag and Server-Timing carry a key, not 5 KB of names, and a
    change still reaches only the tabs that used it (a page's own set, and an htmx fragment's)."""
    folder, server = site
    many(folder, "many.html", "parts/p")
    many(folder, "part.html", "frags/f")  # clicks.html loads it with htmx
    big, clicks = Tab(context, server.url + "/many.html"), Tab(context, server.url + "/clicks.html")
    key = big.page.get_attribute("script[data-hot-reload]", "data-templates")
    assert key is not None and key.startswith("#") and len(key) <= 1024
    clicks.page.click("#load")
    expect(clicks.page.locator("#out i")).to_have_count(300)
    timing = clicks.page.evaluate(
        """() => performance.getEntriesByType('resource')
            .filter((entry) => entry.name.endsWith('/part.html'))
            .map((entry) => entry.serverTiming.map((t) => t.description).join())"""
    )
    assert len(timing) == 1 and timing[0].startswith("#") and timing[0] != key
    clicks.mark()

    with updating(big), left_alone(clicks):
        save(folder, "parts/p7.html", "<b>saved</b>")
    expect(big.page.locator("b")).to_have_text("saved")
    with updating(clicks), left_alone(big):
        save(folder, "frags/f123.html")
    with left_alone(big, clicks):
        save(folder, "b.html")


def hide(tab: Tab, state: str = "hidden") -> None:
    """What the browser does to a tab put in the background, and back.

    Headless Chromium keeps every page visible (background tabs, minimized windows: measured
    with Chromium 156), so the page's ``visibilityState`` is set the way the browser sets it.
    """
    tab.page.evaluate(
        """(state) => {
            const get = () => state;
            Object.defineProperty(document, 'visibilityState', {configurable: true, get});
            document.dispatchEvent(new Event('visibilitychange'));
        }""",
        state,
    )


def test_hidden_tab_makes_no_request_until_shown_then_updates_once(
    site: tuple[Path, Server], context: BrowserContext
) -> None:
    folder, server = site
    tab = Tab(context, server.url + "/a.html")
    hide(tab)

    for rev, text in enumerate(("<p>one</p>", '<p id="two">two</p>'), start=1):
        with tab.page.expect_console_message(lambda m: "updating when it is shown" in m.text):
            save(folder, "a.html", text)
            server.wait_for_log(rf"page \(rev {rev}")
    tab.left_alone()

    with updating(tab):  # one fetch of the page for both changes
        hide(tab, "visible")
    expect(tab.page.locator("#two")).to_have_text("two")
    assert len(tab.loads) == 1
    waited = [line for line in tab.hot_reload_lines if "tab hidden" in line]
    assert waited == ["[hot-reload] a.html changed, tab hidden: updating when it is shown"] * 2


@pytest.mark.parametrize(("changed", "updates"), [("b.html", False), ("base.html", True)])
def test_tab_that_connects_after_changes_catches_up_on_those_it_uses(
    site: tuple[Path, Server], context: BrowserContext, changed: str, updates: bool
) -> None:
    """The page is rendered, the change lands, then its client connects (``?rev=0``)."""
    folder, server = site
    tab = Watched(context.new_page())
    held = hold_first(tab.page, "**/__hot_reload__/client/main.js")
    tab.page.goto(server.url + "/a.html", wait_until="commit")
    while not held:  # pumps Playwright's events until the client's request is in our hands
        tab.page.wait_for_timeout(10)

    save(folder, changed)
    server.wait_for_log(r"page \(rev 1")
    with tab.page.expect_console_message(lambda m: (MORPHED if updates else NOT_USED) in m.text):
        held[0].continue_()

    expect(tab.page.locator(CONNECTED)).to_be_attached()
    assert len(tab.loads) == 1
