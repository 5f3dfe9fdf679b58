"""The browser client in a real Chromium, against a real uvicorn, with real file edits.

Every wait is on the page's readiness signal (``html[data-hot-reload]``) or on DOM state, through
Playwright's auto-waiting ``expect``; the one ``sleep`` is the downtime a scenario calls for.
The app folder is written before its server starts, so no stray change reaches an open tab.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from .support.apps import page, write_app
from .support.browser import (
    Relay,
    Watched,
    assert_line,
    chromium,
    expect_connected,
    hold_first,
    open_tab,
)
from .support.server import Server

pytestmark = pytest.mark.browser

INDEX = '<h1 id="title">{}</h1><p id="pid">{{{{ pid }}}}</p><a id="go" href="/other.html">go</a>'
OTHER = '{% extends "base.html" %}{% block content %}<h1 id="title">other</h1>{% endblock %}'

DOWNLOAD_ROUTE = """

from fastapi.responses import Response


@app.get("/download")
async def download() -> Response:
    return Response(b"data", headers={"content-disposition": "attachment; filename=data.txt"})
"""

BEHIND_PROXY = '''
from webapp import app as site


async def app(scope, receive, send):
    """What the site sees behind a proxy serving it under /prefix (uvicorn --root-path)."""
    if scope["type"] != "lifespan":
        scope = {**scope, "root_path": "/prefix"}
    await site(scope, receive, send)
'''

MOUNTED = """
from starlette.applications import Starlette
from starlette.routing import Mount
from webapp import app as site

app = Starlette(routes=[Mount("/prefix", app=site)])
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Playwright turns the back/forward cache off; real browsers have it on.
    with chromium(ignore_default_args=["--disable-back-forward-cache"]) as launched:
        yield launched


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    """The site, written before any server starts: no stray change reaches an open tab."""
    return write_app(
        tmp_path / "site", INDEX.format("first"), files={"templates/other.html": OTHER}
    )


def test_template_save_updates_every_open_tab_without_restart(
    server: Server, app_dir: Path, context: BrowserContext
) -> None:
    pid = server.pid()
    tabs = [open_tab(context, server.url) for _ in range(3)]
    for tab in tabs:
        expect(tab.page.locator("#title")).to_have_text("first")
        expect(tab.page.locator("#pid")).to_have_text(str(pid))

    page(app_dir, INDEX.format("second"))

    for tab in tabs:
        expect(tab.page.locator("#title")).to_have_text("second")
        expect_connected(tab.page)
        expect(tab.page.locator("#pid")).to_have_text(str(pid))
        assert tab.loads == [server.url + "/"]  # morphed in place, no navigation
        assert_line(
            tab.hot_reload_lines,
            r"index\.html changed: page updated in place, \d+ ms after the server saw it",
        )
    assert server.pid() == pid


def test_python_save_under_uvicorn_reload_shows_the_new_code(
    app_dir: Path, context: BrowserContext
) -> None:
    page(app_dir, '<h1 id="title">{{ greeting | default("old code") }}</h1>')
    server = Server(app_dir, "--reload")
    try:
        server.wait_for_log("Application startup complete")  # only then does the socket listen
        tab = open_tab(context, server.url)
        expect(tab.page.locator("#title")).to_have_text("old code")
        app = app_dir / "app.py"

        app.write_text(app.read_text().replace('{"pid"', '{"greeting": "new code", "pid"'))

        expect(tab.page.locator("#title")).to_have_text("new code")
        expect_connected(tab.page)
        assert len(tab.loads) == 1
        assert_line(
            tab.hot_reload_lines,
            r"the server restarted: page updated in place \(new server code\), "
            r"\d+ ms after the connection closed",
        )
    finally:
        server.stop()


def test_server_down_for_seconds_then_back_on_the_same_port_updates_once(
    app_dir: Path, context: BrowserContext
) -> None:
    first = Server(app_dir)
    port = first.url.rsplit(":", 1)[1]
    tab = open_tab(context, first.url)
    tab.page.evaluate("window.marker = 'before'")

    first.stop()
    expect(tab.page.locator('html[data-hot-reload="reconnecting"]')).to_be_attached()
    # The scenario itself: the server stays down while the tab backs off to 1 s, and says so.
    status = tab.page.locator("hot-reload-status[data-state=down] [role=status]")
    expect(status).to_have_text(
        re.compile(r"^server not answering for ([5-9]|\d\d+) s — see the terminal$")
    )
    assert tab.loads == [first.url + "/"]  # nothing reloads while there is no server
    again = Server(app_dir, "--port", port)
    try:
        assert again.url == first.url

        expect(tab.page.locator("#pid")).to_have_text(str(again.pid()))
        expect_connected(tab.page)
        assert tab.page.evaluate("window.marker") == "before"  # morphed: the window stays
        assert tab.loads == [first.url + "/"]
        lines = tab.hot_reload_lines
        assert "[hot-reload] server unreachable, waiting for it to come back" in lines
        assert_line(lines, r"server not answering for [34] s — see the terminal")
        expect(tab.page.locator("hot-reload-status")).to_have_count(0)
        restarted = [line for line in lines if "the server restarted: page updated" in line]
        assert len(restarted) == 1
    finally:
        again.stop()


def test_network_blip_reconnects_to_the_same_server_without_reload(
    server: Server, app_dir: Path, context: BrowserContext
) -> None:
    relay = Relay(int(server.url.rsplit(":", 1)[1]))
    try:
        tab = open_tab(context, relay.url)
        tab.page.evaluate("window.marker = 'kept'")
        connections = relay.connections

        relay.cut()

        tab.page.wait_for_function("window.__states.at(-2) === 'reconnecting'")
        expect_connected(tab.page)
        assert relay.connections > connections
        assert tab.page.evaluate("window.marker") == "kept"
        assert tab.states() == ["connecting", "connected", "reconnecting", "connected"]
        assert len(tab.loads) == 1
        # The new socket is live: the next save updates the tab, once.
        page(app_dir, INDEX.format("second"))
        expect(tab.page.locator("#title")).to_have_text("second")
        expect_connected(tab.page)
        assert len(tab.loads) == 1
        assert tab.page.evaluate("window.marker") == "kept"
    finally:
        relay.close()


def test_change_saved_between_render_and_connect_still_reloads(
    server: Server, app_dir: Path, context: BrowserContext
) -> None:
    tab = Watched(context.new_page())
    held = hold_first(tab.page, "**/__hot_reload__/client/main.js")
    tab.page.goto(server.url, wait_until="commit")
    expect(tab.page.locator("#title")).to_have_text("first")
    while not held:  # pumps Playwright's events until the client's request is in our hands
        tab.page.wait_for_timeout(10)
    assert tab.page.evaluate("document.querySelector('script[data-hot-reload]').dataset.rev") == "0"

    page(app_dir, INDEX.format("second"))
    server.wait_for_log(r"page \(rev 1")
    held[0].continue_()

    expect(tab.page.locator("#title")).to_have_text("second")
    expect_connected(tab.page)
    assert len(tab.loads) == 1  # caught up in place: the change it missed touches its page
    assert_line(tab.hot_reload_lines, r"index.html changed: page updated in place.*")


@contextmanager
def served_under_prefix(
    app_dir: Path, context: BrowserContext, wrapper: str
) -> Iterator[tuple[Server, Watched]]:
    """The site behind ``wrapper`` (an app serving it under /prefix), and a tab connected to it."""
    (app_dir / "app.py").rename(app_dir / "webapp.py")
    (app_dir / "app.py").write_text(wrapper)
    server = Server(app_dir)
    try:
        tab = Watched(context.new_page())
        with tab.page.expect_websocket() as socket:
            tab.page.goto(server.url + "/prefix/")
        ws_url = server.ws_url.replace("/__hot", "/prefix/__hot")
        assert socket.value.url.split("?")[0] == ws_url
        expect_connected(tab.page)
        yield server, tab
    finally:
        server.stop()


def test_app_behind_a_proxy_under_a_root_path_connects_and_updates(
    app_dir: Path, context: BrowserContext
) -> None:
    with served_under_prefix(app_dir, context, BEHIND_PROXY) as (_, tab):
        page(app_dir, INDEX.format("second"))

        expect(tab.page.locator("#title")).to_have_text("second")
        assert len(tab.loads) == 1


def test_app_mounted_under_a_prefix_connects_and_says_it_watches_nothing(
    app_dir: Path, context: BrowserContext
) -> None:
    """Starlette gives a mounted app no lifespan: the page works, and the log says why no
    change will ever arrive."""
    with served_under_prefix(app_dir, context, MOUNTED) as (server, _):
        server.wait_for_log(r"WARNING.*request before the app's lifespan started")


def test_close_caused_by_our_own_navigation_reloads_nothing(
    server: Server, app_dir: Path, context: BrowserContext
) -> None:
    tab = open_tab(context, server.url)

    tab.page.click("#go")

    expect(tab.page.locator("#title")).to_have_text("other")
    expect_connected(tab.page)
    assert tab.loads == [server.url + "/", server.url + "/other.html"]
    assert not any("reloading" in line for line in tab.hot_reload_lines)


def test_cancelled_navigation_keeps_the_tab_listening(
    app_dir: Path, context: BrowserContext
) -> None:
    """A download link fires ``beforeunload`` but the page stays: it must still update."""
    app = app_dir / "app.py"
    app.write_text(app.read_text() + DOWNLOAD_ROUTE)
    page(app_dir, INDEX.format("first") + '<a id="get" href="/download">data</a>')
    server = Server(app_dir)
    try:
        tab = open_tab(context, server.url)
        with tab.page.expect_download():
            tab.page.click("#get")

        page(app_dir, INDEX.format("second"))

        expect(tab.page.locator("#title")).to_have_text("second")
        assert len(tab.loads) == 1
    finally:
        server.stop()


def test_page_restored_from_the_back_forward_cache_reconnects_and_catches_up(
    server: Server, app_dir: Path, context: BrowserContext
) -> None:
    tab = open_tab(context, server.url)
    tab.page.evaluate("window.marker = 'kept'")
    tab.page.click("#go")
    expect(tab.page.locator("#title")).to_have_text("other")

    tab.page.go_back(wait_until="commit")  # a restore from the cache fires no load event

    expect_connected(tab.page)
    assert tab.page.evaluate("window.marker") == "kept"  # the very same page, restored
    assert tab.states() == ["connecting", "connected", "connecting", "connected"]
    # A change made while the page sits in the cache updates it when it comes back; the open
    # page (other.html) does not use index.html and stays.
    tab.page.click("#go")
    expect(tab.page.locator("#title")).to_have_text("other")
    tab.page.evaluate("window.marker = 'other'")
    with tab.page.expect_console_message(lambda m: "not used by this page" in m.text):
        page(app_dir, INDEX.format("second"))
    assert tab.page.evaluate("window.marker") == "other"
    tab.page.go_back(wait_until="commit")
    expect(tab.page.locator("#title")).to_have_text("second")
    expect_connected(tab.page)
    assert tab.page.evaluate("window.marker") == "kept"  # morphed: still the restored page
    assert_line(tab.hot_reload_lines, r"index.html changed: page updated in place.*")


ASSETS = """{% extends "base.html" %}{% block content %}
<h1 id="title">assets</h1><p class="imported" id="imported">imported</p>
<input id="name"><img id="logo" src="/static/logo.svg" alt="logo" width="10" height="10">
<script src="/static/app.js"></script>
<div style="height: 4000px"></div>
{% endblock %}"""
STYLE = '@import url("imported.css");\nh1 {{ color: {}; }}\n'
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="{0}" height="{0}"></svg>'


@pytest.fixture
def assets_tab(app_dir: Path, context: BrowserContext) -> Iterator[Watched]:
    """A page with a linked sheet that @imports another, an image, a typed input, scrolled."""
    static = app_dir / "static"
    (app_dir / "templates" / "assets.html").write_text(ASSETS)
    (static / "style.css").write_text(STYLE.format("rgb(0, 0, 255)"))
    (static / "imported.css").write_text("p.imported { color: rgb(0, 128, 0); }\n")
    (static / "unused.css").write_text("body { color: black; }\n")
    (static / "logo.svg").write_text(SVG.format(10))
    (static / "app.js").write_text("console.log('old code');\n")
    server = Server(app_dir)
    try:
        tab = open_tab(context, server.url + "/assets.html")
        expect(tab.page.locator("#title")).to_have_css("color", "rgb(0, 0, 255)")
        tab.page.fill("#name", "typed by hand")
        tab.page.evaluate("window.marker = 'kept'; window.scrollTo(0, 1000)")
        yield tab
    finally:
        server.stop()


def assert_page_kept(tab: Watched) -> None:
    """No navigation: the window, the scroll position and the typed input are all still there."""
    assert tab.page.evaluate("window.marker") == "kept"
    assert tab.page.evaluate("window.scrollY") == 1000
    expect(tab.page.locator("#name")).to_have_value("typed by hand")
    assert len(tab.loads) == 1


def test_stylesheet_save_applies_in_place(app_dir: Path, assets_tab: Watched) -> None:
    (app_dir / "static" / "style.css").write_text(STYLE.format("rgb(255, 0, 0)"))

    expect(assets_tab.page.locator("#title")).to_have_css("color", "rgb(255, 0, 0)")
    expect(assets_tab.page.locator("link[rel=stylesheet]")).to_have_count(1)
    assert_page_kept(assets_tab)
    assert_line(
        assets_tab.hot_reload_lines,
        r"style\.css changed: stylesheet swapped in place, \d+ ms after the server saw it",
    )


def test_imported_stylesheet_save_applies_in_place(app_dir: Path, assets_tab: Watched) -> None:
    expect(assets_tab.page.locator("#imported")).to_have_css("color", "rgb(0, 128, 0)")

    (app_dir / "static" / "imported.css").write_text("p.imported { color: rgb(255, 0, 0); }\n")

    expect(assets_tab.page.locator("#imported")).to_have_css("color", "rgb(255, 0, 0)")
    expect(assets_tab.page.locator("#title")).to_have_css("color", "rgb(0, 0, 255)")
    assert_page_kept(assets_tab)


def test_image_save_refetches_it_in_place(app_dir: Path, assets_tab: Watched) -> None:
    (app_dir / "static" / "logo.svg").write_text(SVG.format(30))

    assets_tab.page.wait_for_function("document.getElementById('logo').naturalWidth === 30")
    assert_page_kept(assets_tab)


@pytest.mark.parametrize("href", ["/static/style.css", "static/style.css", "/static/style.css?v=1"])
def test_swaps_then_morphs_keep_one_link_and_one_image_whatever_the_href(
    app_dir: Path, context: BrowserContext, href: str
) -> None:
    """A swap gives the link an absolute, busted href; the morph after it must still know it as
    the template's link (it added a copy per round, each holding the old rules)."""
    base = app_dir / "templates" / "base.html"
    base.write_text(base.read_text().replace('href="/static/style.css"', f'href="{href}"'))
    (app_dir / "templates" / "assets.html").write_text(ASSETS)
    static = app_dir / "static"
    (static / "imported.css").write_text("p { color: rgb(0, 128, 0); }\n")
    (static / "logo.svg").write_text(SVG.format(10))
    server = Server(app_dir)
    try:
        tab = open_tab(context, server.url + "/assets.html")
        for round in range(1, 6):
            (static / "style.css").write_text(STYLE.format(f"rgb({round}, 0, 0)"))
            expect(tab.page.locator("#title")).to_have_css("color", f"rgb({round}, 0, 0)")
            (static / "logo.svg").write_text(SVG.format(10 + round))
            tab.page.wait_for_function(
                f"document.getElementById('logo').naturalWidth === {10 + round}"
            )
            (app_dir / "templates" / "assets.html").write_text(
                ASSETS.replace("assets<", f"{round}<")
            )
            expect(tab.page.locator("#title")).to_have_text(str(round))
            expect(tab.page.locator("link[rel=stylesheet]")).to_have_count(1)
            assert tab.page.evaluate("document.getElementById('logo').naturalWidth") == 10 + round
        (static / "style.css").write_text("/* the h1 rule deleted */\n")
        expect(tab.page.locator("#title")).to_have_css("color", "rgb(0, 0, 0)")
        expect(tab.page.locator("#imported")).to_have_css("color", "rgb(0, 0, 0)")  # no @import
        assert len(tab.loads) == 1
    finally:
        server.stop()


def test_script_save_reloads_the_page(app_dir: Path, assets_tab: Watched) -> None:
    with assets_tab.page.expect_navigation():
        (app_dir / "static" / "app.js").write_text("console.log('new code');\n")

    expect_connected(assets_tab.page)
    assert assets_tab.page.evaluate("window.marker") is None
    assert len(assets_tab.loads) == 2


def test_stylesheet_not_on_the_page_leaves_it_alone(app_dir: Path, assets_tab: Watched) -> None:
    unused = "[hot-reload] unused.css changed: nothing to do (not on this page)"
    with assets_tab.page.expect_console_message(lambda m: m.text == unused):
        (app_dir / "static" / "unused.css").write_text("body { color: red; }\n")

    expect(assets_tab.page.locator("link[rel=stylesheet]")).to_have_count(1)
    assert_page_kept(assets_tab)


def test_script_not_on_the_page_leaves_it_alone(app_dir: Path, assets_tab: Watched) -> None:
    with assets_tab.page.expect_console_message(lambda m: "not used by this page" in m.text):
        (app_dir / "static" / "admin.js").write_text("console.log('elsewhere');\n")

    assert_page_kept(assets_tab)


BROKEN = (
    '{% extends "base.html" %}{% block content %}\n'
    "<script>alert('from the source')</script>\n"
    "{% if x %}\n"
    "<h1>never closed</h1>{% endblock %}\n"
)


def test_syntax_error_shows_an_overlay_and_the_fix_clears_it(
    server: Server, app_dir: Path, context: BrowserContext
) -> None:
    tab = open_tab(context, server.url)
    tab.page.evaluate("window.marker = 'kept'")
    dialogs: list[str] = []
    tab.page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    index = app_dir / "templates" / "index.html"

    index.write_text(BROKEN)

    overlay = tab.page.locator("hot-reload-error [role=alert]")
    expect(overlay).to_be_visible()
    expect(overlay.locator("h2")).to_contain_text("TemplateSyntaxError")
    expect(overlay.locator(".where")).to_have_text(f"{index.resolve()}:4")
    expect(overlay.locator(".source")).to_contain_text("<script>alert('from the source')</script>")
    expect(overlay.locator(".hit")).to_contain_text("4  <h1>never closed</h1>")
    assert tab.page.evaluate("window.marker") == "kept"  # the page underneath did not navigate
    assert dialogs == []  # markup in the error is text, never run

    overlay.locator("button[aria-label=Dismiss]").click()
    expect(overlay).to_have_count(0)
    index.write_text(BROKEN)  # still broken: the overlay comes back
    expect(overlay).to_be_visible()

    page(app_dir, INDEX.format("fixed"))

    expect(tab.page.locator("#title")).to_have_text("fixed")
    expect(overlay).to_have_count(0)
    assert tab.page.evaluate("window.marker") == "kept"
    assert len(tab.loads) == 1


def test_render_error_page_recovers_by_itself_once_fixed(
    app_dir: Path, context: BrowserContext
) -> None:
    broken = app_dir / "templates" / "broken.html"
    broken.write_text("<body><p>{{ missing.attribute }}</p></body>\n")
    server = Server(app_dir)
    try:
        tab = Watched(context.new_page())
        response = tab.page.goto(server.url + "/broken.html")
        assert response is not None
        assert response.status == 500
        expect(tab.page.locator("h1")).to_contain_text("UndefinedError: 'missing' is undefined")
        expect(tab.page.locator(".where")).to_have_text(f"{broken.resolve()}:1")
        expect_connected(tab.page)

        broken.write_text('<body><p id="ok">all good</p></body>\n')

        expect(tab.page.locator("#ok")).to_have_text("all good")
        expect(tab.page.locator(".where")).to_have_count(0)  # morphed: nothing of it is left
        assert len(tab.loads) == 1
    finally:
        server.stop()
