"""The dev loop in a real Chromium: the status element, server log records in the right tab's
console, and the overlay's link to the editor."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from .support.apps import page, write_app
from .support.browser import Watched, chromium, expect_connected, open_tab
from .support.htmx import htmx_js
from .support.server import Server

pytestmark = pytest.mark.browser

STATUS = "hot-reload-status [role=status]"

ROUTES = """

import logging
from starlette.responses import PlainTextResponse

views = logging.getLogger("app.views")


@app.get("/warn")
async def warn(request: Request) -> PlainTextResponse:
    views.warning("low on %s", request.query_params["what"])
    return PlainTextResponse("warned")


@app.get("/noisy", response_class=HTMLResponse)
async def noisy(request: Request) -> HTMLResponse:
    views.warning("rendering the noisy page")
    return templates.TemplateResponse(request, "index.html", {"pid": os.getpid()})
"""

#: An ASGI wrapper that hands the app every request with another ``Host`` (a trusted one: an IP
#: address), as a proxy that rewrites it would; the browser's ``Origin`` then names another host.
HOST_REWRITING_PROXY = """
from webapp import app as site


async def app(scope, receive, send):
    if scope["type"] != "lifespan":
        headers = [(k, v) for k, v in scope["headers"] if k != b"host"]
        scope = {**scope, "headers": [*headers, (b"host", b"127.0.0.2:8000")]}
    await site(scope, receive, send)
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    folder = write_app(tmp_path / "site", routes=ROUTES)
    shutil.copy(htmx_js(), folder / "static" / "htmx.min.js")
    return folder


#: Where the status element sits, whether it takes clicks, and its distance from the bottom and
#: right edges of the window.
PLACEMENT = """(() => {
  const host = document.querySelector("hot-reload-status");
  const box = host.getBoundingClientRect();
  const style = getComputedStyle(host);
  return [style.position, style.pointerEvents, innerHeight - box.bottom, innerWidth - box.right];
})()"""

#: The animations of the status line and its dot.
ANIMATIONS = """(() => {
  const line = document.querySelector("hot-reload-status").shadowRoot.querySelector("div");
  return [getComputedStyle(line).animationName, getComputedStyle(line, "::before").animationName];
})()"""


def status(tab: Page) -> Locator:
    return tab.locator(STATUS)


def test_healthy_page_has_no_status_element(server: Server, context: BrowserContext) -> None:
    tab = open_tab(context, server.url)

    expect(tab.page.locator("hot-reload-status")).to_have_count(0)


def test_status_says_restarting_during_a_python_restart_and_is_gone_after(
    app_dir: Path, context: BrowserContext
) -> None:
    server = Server(app_dir, "--reload")
    try:
        server.wait_for_log("Application startup complete")
        tab = open_tab(context, server.url)
        tab.page.emulate_media(reduced_motion="reduce")
        app = app_dir / "app.py"

        # The new code takes two seconds to import: long enough to see, short of "not answering".
        app.write_text("import time\ntime.sleep(2)\n" + app.read_text())

        expect(status(tab.page)).to_have_text("restarting…")
        assert tab.page.evaluate(PLACEMENT) == ["fixed", "none", 12, 12]
        assert tab.page.evaluate(ANIMATIONS) == ["none", "none"]
        expect_connected(tab.page)
        expect(tab.page.locator("hot-reload-status")).to_have_count(0)
        assert len(tab.loads) == 1  # the new code morphed in
    finally:
        server.stop()


def test_refused_origin_shows_the_servers_reason(app_dir: Path, context: BrowserContext) -> None:
    (app_dir / "app.py").rename(app_dir / "webapp.py")
    (app_dir / "app.py").write_text(HOST_REWRITING_PROXY)
    server = Server(app_dir)
    try:
        tab = Watched(context.new_page())
        tab.page.goto(server.url)

        expect(status(tab.page)).to_have_text(
            f"cannot connect: hot reload refused origin '{server.url}' (add it to "
            "allowed_origins if that page is yours)"
        )
        expect(tab.page.locator("hot-reload-status")).to_have_attribute("data-state", "refused")
    finally:
        server.stop()


def test_status_off_shows_nothing_while_the_server_is_away(
    app_dir: Path, context: BrowserContext
) -> None:
    app = app_dir / "app.py"
    app.write_text(app.read_text().replace('watch=["static"]', 'watch=["static"], status=False'))
    server = Server(app_dir)
    tab = open_tab(context, server.url)

    server.stop()

    expect(tab.page.locator('html[data-hot-reload="reconnecting"]')).to_be_attached()
    expect(tab.page.locator("hot-reload-status")).to_have_count(0)


@pytest.fixture
def two_tabs(server: Server, context: BrowserContext) -> Iterator[list[Watched]]:
    yield [open_tab(context, server.url) for _ in range(2)]


def server_lines(tab: Watched) -> list[str]:
    return [line for line in tab.console if line.startswith("[server] ")]


def test_a_views_warning_shows_in_the_console_of_the_tab_that_asked_only(
    two_tabs: list[Watched],
) -> None:
    asking, other = two_tabs
    line = "[server] WARNING app.views: low on {} (GET /warn)"

    with asking.page.expect_console_message(lambda m: m.text == line.format("fetch")) as said:
        asking.page.evaluate("fetch('/warn?what=fetch')")
    # The other tab's own request: its record comes after any record sent to it before.
    xhr = "const r = new XMLHttpRequest(); r.open('GET', '/warn?what=xhr'); r.send();"
    with other.page.expect_console_message(lambda m: m.text == line.format("xhr")):
        other.page.evaluate(xhr)

    assert said.value.type == "warning"
    assert server_lines(asking) == [line.format("fetch")]
    assert server_lines(other) == [line.format("xhr")]


def test_htmx_requests_and_the_pages_own_render_reach_its_console(
    server: Server, app_dir: Path, context: BrowserContext
) -> None:
    body = '<button id="go" hx-get="/warn?what=htmx" hx-target="#out">go</button><p id="out"></p>'
    page(app_dir, body + '<script src="/static/htmx.min.js"></script>')
    tab = Watched(context.new_page())
    rendered = "[server] WARNING app.views: rendering the noisy page (GET /noisy)"
    with tab.page.expect_console_message(lambda m: m.text == rendered):
        tab.page.goto(server.url + "/noisy")

    with tab.page.expect_console_message(lambda m: "low on htmx" in m.text):
        tab.page.click("#go")

    expect(tab.page.locator("#out")).to_have_text("warned")


def test_a_tab_on_server_sent_events_gets_its_server_logs_too(
    app_dir: Path, context: BrowserContext
) -> None:
    server = Server(app_dir, "--ws", "none")
    try:
        tab = Watched(context.new_page())
        rendered = "[server] WARNING app.views: rendering the noisy page (GET /noisy)"
        with tab.page.expect_console_message(lambda m: m.text == rendered):
            tab.page.goto(server.url + "/noisy")

        expect_connected(tab.page)
        expect(tab.page.locator("hot-reload-status")).to_have_count(0)
    finally:
        server.stop()


def test_overlay_links_the_error_to_the_editor(app_dir: Path, context: BrowserContext) -> None:
    server = Server(app_dir, env={"FASTAPI_HOT_RELOAD_EDITOR": "vscode"})
    try:
        tab = open_tab(context, server.url)
        index = app_dir / "templates" / "index.html"

        index.write_text('{% extends "base.html" %}{% block content %}\n\n\n{% if x %}\n')

        link = tab.page.locator("hot-reload-error .where a")
        expect(link).to_have_text(f"{index.resolve()}:4")
        expect(link).to_have_attribute("href", f"vscode://file{index.resolve()}:4")
    finally:
        server.stop()


def test_console_lines_after_saves_name_the_file_the_action_and_the_time(
    app_dir: Path, context: BrowserContext
) -> None:
    script = '<script src="/static/app.js"></script>'  # a script this page loads
    (app_dir / "static" / "app.js").write_text("window.ran = 1")
    page(app_dir, '<h1 id="title">first</h1>' + script)
    server = Server(app_dir)  # started after the writes: no stray change reaches the tab
    try:
        _save_and_read_the_console(server, app_dir, context, script)
    finally:
        server.stop()


def _save_and_read_the_console(
    server: Server, app_dir: Path, context: BrowserContext, script: str
) -> None:
    tab = open_tab(context, server.url)
    started = time.monotonic()

    page(app_dir, '<h1 id="title">second</h1>' + script)
    expect(tab.page.locator("#title")).to_have_text("second")
    with tab.page.expect_navigation():
        (app_dir / "static" / "app.js").write_text("window.ran = 2")
    expect_connected(tab.page)

    lines = "\n".join(tab.hot_reload_lines)
    morphed = r"index\.html changed: page updated in place"
    reloaded = r"app\.js changed: page reloaded \(scripts run again only on a reload\)"
    for said in (morphed, reloaded):
        line = rf"^\[hot-reload\] {said}, (\d+) ms after the server saw it$"
        found = re.search(line, lines, re.MULTILINE)
        assert found is not None, lines
        assert int(found[1]) <= (time.monotonic() - started) * 1000
