"""Morphing in a real Chromium: what survives a template save or a ``.py`` restart, and when not.

A real uvicorn serves a page full of state (scroll, focus, caret, typed input, checkbox, select,
open details, a window marker, a listener); the test saves a file for real and checks each piece
of state one by one after the page shows the new text.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from .support.apps import write_app
from .support.browser import Watched, assert_line, chromium, expect_connected, open_tab
from .support.htmx import htmx_js
from .support.server import Server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


BASE = """<!doctype html>
<html><head><title>{% block title %}morph{% endblock %}</title>
<link rel="stylesheet" href="/static/style.css">{% block head %}{% endblock %}</head>
<body>{% block content %}{% endblock %}</body></html>
"""

STATEFUL = """{% extends "base.html" %}{% block content %}EXTRA
<div id="scroller" style="height: 100px; overflow: auto"><div style="height: 2000px">x</div></div>
<h1 id="title">TITLE</h1>
<input id="name" value="">
<input id="agree" type="checkbox">
<select id="pick"><option>a</option><option>b</option></select>
<details id="more"><summary>more</summary>inside</details>
<button id="count">count</button>
<img id="logo" src="/static/logo.svg" alt="logo" width="10" height="10">
<div id="map" data-hot-reload-permanent>MAP</div><div id="widget" hx-preserve>WIDGET</div>
<div style="height: 4000px"></div>
{% endblock %}"""

#: Routes for the fallbacks: a template decides the response's status, type or redirect.
ROUTES = """

from fastapi.responses import RedirectResponse, Response


@app.api_route("/dyn", methods=["GET", "POST"])
async def dyn(request: Request) -> Response:
    text = templates.get_template("dyn.html").render(request=request)
    if text.startswith("redirect:"):
        return RedirectResponse(text.split(":", 1)[1].strip())
    if text.startswith("{"):
        return Response(text, media_type="application/json")
    status = 404 if "not found" in text else 200
    return HTMLResponse(text, status)


@app.get("/csp")
async def csp(request: Request) -> HTMLResponse:
    import secrets

    nonce = secrets.token_hex(8)
    text = templates.get_template("dyn.html").render(request=request, nonce=nonce)
    policy = f"script-src 'self' 'nonce-{nonce}'"
    return HTMLResponse(text, headers={"content-security-policy": policy})


@app.get("/fragment")
async def fragment() -> HTMLResponse:
    return HTMLResponse('<p id="loaded">from htmx</p>')
"""


def stateful(title: str, extra: str = "") -> str:
    return STATEFUL.replace("TITLE", title).replace("EXTRA", extra)


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    files = {
        "templates/base.html": BASE,
        "templates/index.html": stateful("first"),
        "static/logo.svg": '<svg xmlns="http://www.w3.org/2000/svg"/>',
    }
    return write_app(tmp_path / "site", routes=ROUTES, files=files)


def put_state(tab: Watched) -> None:
    """Everything a user does on a page before saving a file."""
    page = tab.page
    page.evaluate("window.scrollTo(0, 700); window.marker = 'kept'; window.clicks = 0")
    page.evaluate("document.getElementById('scroller').scrollTop = 300")
    page.evaluate(
        "document.getElementById('count').addEventListener('click', () => window.clicks++)"
    )
    page.evaluate("window.map = document.getElementById('map'); window.map.textContent = 'live'")
    page.evaluate("window.widget = document.getElementById('widget'); widget.textContent = 'live'")
    page.check("#agree")
    page.select_option("#pick", "b")
    page.click("#more summary")
    page.fill("#name", "typed by hand")
    page.evaluate("document.getElementById('name').setSelectionRange(3, 5)")
    page.evaluate("window.scrollTo(0, 700)")  # filling scrolled the field into view


def assert_state_kept(tab: Watched) -> None:
    page = tab.page
    assert page.evaluate("window.scrollY") == 700
    assert page.evaluate("document.getElementById('scroller').scrollTop") == 300
    assert page.evaluate("document.activeElement.id") == "name"
    caret = "[document.activeElement.selectionStart, document.activeElement.selectionEnd]"
    assert page.evaluate(caret) == [3, 5]
    expect(page.locator("#name")).to_have_value("typed by hand")
    expect(page.locator("#agree")).to_be_checked()
    expect(page.locator("#pick")).to_have_value("b")
    assert page.evaluate("document.getElementById('more').open") is True
    assert page.evaluate("window.marker") == "kept"
    assert page.evaluate("window.map === document.getElementById('map')") is True
    expect(page.locator("#map")).to_have_text("live")
    assert page.evaluate("window.widget === document.getElementById('widget')") is True
    expect(page.locator("#widget")).to_have_text("live")
    page.evaluate("document.getElementById('count').click()")
    assert page.evaluate("window.clicks") == 1
    assert len(tab.loads) == 1


def test_template_save_keeps_the_page_state(
    server: Server, app_dir: Path, context: BrowserContext
) -> None:
    tab = open_tab(context, server.url)
    put_state(tab)

    (app_dir / "templates" / "index.html").write_text(stateful("second", "<p>new</p><hr>"))

    expect(tab.page.locator("#title")).to_have_text("second")
    expect_connected(tab.page)
    assert_state_kept(tab)
    assert_line(tab.hot_reload_lines, r"index\.html changed: page updated in place, \d+ ms .*")


def test_python_save_under_uvicorn_reload_keeps_the_page_state(
    app_dir: Path, context: BrowserContext
) -> None:
    index = app_dir / "templates" / "index.html"
    index.write_text(stateful('{{ greeting | default("old code") }}'))
    server = Server(app_dir, "--reload")
    try:
        server.wait_for_log("Application startup complete")  # only then does the socket listen
        tab = open_tab(context, server.url)
        put_state(tab)
        app = app_dir / "app.py"

        app.write_text(app.read_text().replace('{"pid"', '{"greeting": "new code", "pid"'))

        expect(tab.page.locator("#title")).to_have_text("new code")
        expect_connected(tab.page)
        assert_state_kept(tab)
        assert_line(tab.hot_reload_lines, r"the server restarted: page updated in place .*")
    finally:
        server.stop()


DYN = '{% extends "base.html" %}{% block content %}<h1 id="title">BODY</h1>{% endblock %}'


def dyn(folder: Path, body: str = "dyn", head: str = "") -> None:
    head = "{% block head %}" + head + "{% endblock %}"
    text = DYN.replace("BODY", body).replace("{% block content %}", head + "{% block content %}")
    (folder / "templates" / "dyn.html").write_text(text)


@pytest.fixture
def dyn_tab(app_dir: Path, context: BrowserContext) -> Iterator[tuple[Server, Watched]]:
    """A tab on ``/dyn``, whose template decides the response, with a marker on its window."""
    dyn(app_dir)
    server = Server(app_dir)
    try:
        tab = open_tab(context, server.url + "/dyn")
        tab.page.evaluate("window.marker = 'kept'")
        yield server, tab
    finally:
        server.stop()


FALLBACKS = {
    "scripts changed": (
        '<h1 id="title">dyn</h1><script>window.ran = true</script>',
        "",
        "the page's scripts changed: a morph would not run them",
    ),
    "not HTML": ('{"json": true}', "", "the server answered application/json, not HTML"),
    "error status": ('<h1 id="title">not found</h1>', "", "the server answered 404"),
    "throws": (
        '<h1 id="title">second</h1>',
        "document.addEventListener('hot-reload:before-update', "
        "(event) => event.detail.document.documentElement.remove())",
        "the update failed: TypeError",
    ),
    "cancelled": (
        '<h1 id="title">second</h1>',
        "document.addEventListener('hot-reload:before-update', (event) => event.preventDefault())",
        "a hot-reload:before-update listener asked for a full reload",
    ),
}


@pytest.mark.parametrize("case", FALLBACKS)
def test_unsafe_update_falls_back_to_a_full_reload_and_says_why(
    app_dir: Path, dyn_tab: tuple[Server, Watched], case: str
) -> None:
    server, tab = dyn_tab
    template, script, reason = FALLBACKS[case]
    if script:
        tab.page.evaluate(script)

    with tab.page.expect_navigation():
        (app_dir / "templates" / "dyn.html").write_text(
            template
            if template.startswith("{")
            else DYN.replace('<h1 id="title">BODY</h1>', template)
        )

    assert tab.loads == [server.url + "/dyn"] * 2
    assert tab.page.evaluate("window.marker") is None
    said = "\n".join(tab.hot_reload_lines)
    assert f"[hot-reload] dyn.html changed: reloading the page ({reason}" in said
    if case == "scripts changed":
        assert tab.page.evaluate("window.ran") is True  # the new script did run


def test_redirect_to_another_url_goes_there(app_dir: Path, dyn_tab: tuple[Server, Watched]) -> None:
    server, tab = dyn_tab

    with tab.page.expect_navigation():
        (app_dir / "templates" / "dyn.html").write_text("redirect: /")

    expect(tab.page.locator("#title")).to_have_text("first")
    assert tab.loads == [server.url + "/dyn", server.url + "/"]
    assert (
        f"[hot-reload] the page now redirects to {server.url}/: going there" in tab.hot_reload_lines
    )


def test_render_error_page_and_its_fix_are_morphed_without_reload(
    app_dir: Path, dyn_tab: tuple[Server, Watched]
) -> None:
    _, tab = dyn_tab

    dyn(app_dir, "{{ missing() }}")

    expect(tab.page.locator("h1")).to_contain_text("'missing' is undefined")
    dyn(app_dir, "fixed")
    expect(tab.page.locator("#title")).to_have_text("fixed")
    expect_connected(tab.page)
    assert tab.page.evaluate("window.marker") == "kept"
    assert len(tab.loads) == 1


def test_page_that_answered_a_post_is_never_fetched_again(
    app_dir: Path, dyn_tab: tuple[Server, Watched]
) -> None:
    _, tab = dyn_tab
    dyn(app_dir, 'posted<form id="form" method="post" action="/dyn"><button>send</button></form>')
    expect(tab.page.locator("#form")).to_be_attached()
    with tab.page.expect_navigation():
        tab.page.click("#form button")
    expect_connected(tab.page)
    requests: list[str] = []
    tab.page.on("request", lambda request: requests.append(request.url))

    with tab.page.expect_console_message(lambda line: "not reloading" in line.text) as said:
        dyn(app_dir, "changed")

    assert said.value.text == (
        "[hot-reload] dyn.html changed: not reloading (this page answered a POST and reloading "
        "it would send the form again; it is stale until you navigate)"
    )
    expect(tab.page.locator("#title")).to_contain_text("posted")
    assert requests == []
    assert len(tab.loads) == 2


def test_with_morph_off_a_template_save_reloads(app_dir: Path, context: BrowserContext) -> None:
    app = app_dir / "app.py"
    app.write_text(
        app.read_text().replace("templates=templates,", "templates=templates, morph=False,")
    )
    server = Server(app_dir)
    try:
        tab = open_tab(context, server.url)
        tab.page.evaluate("window.marker = 'kept'")

        (app_dir / "templates" / "index.html").write_text(stateful("second"))

        expect(tab.page.locator("#title")).to_have_text("second")
        assert tab.page.evaluate("window.marker") is None
        assert len(tab.loads) == 2
        assert "[hot-reload] index.html changed: reloading the page" in tab.hot_reload_lines
    finally:
        server.stop()


HTMX_HEAD = '<script src="/static/htmx.min.js"></script>'
HTMX_BUTTON = (
    '<button id="load" hx-get="/fragment" hx-target="#out">load</button><div id="out"></div>'
)


def test_htmx_page_morph_fetches_nothing_else_and_new_hx_nodes_work(
    app_dir: Path, dyn_tab: tuple[Server, Watched]
) -> None:
    server, tab = dyn_tab
    (app_dir / "static" / "htmx.min.js").write_bytes(htmx_js().read_bytes())
    with tab.page.expect_navigation():  # a new script: this first save reloads
        dyn(app_dir, 'one<img src="/static/logo.svg" alt="">', HTMX_HEAD)
    expect_connected(tab.page)
    loads = len(tab.loads)  # 2, or 3 when the save came as two changes (a reload each)
    tab.page.evaluate("window.updates = 0")
    tab.page.evaluate("document.addEventListener('hot-reload:updated', () => window.updates++)")
    requests: list[str] = []
    tab.page.on("request", lambda request: requests.append(request.url))

    dyn(app_dir, 'two<img src="/static/logo.svg" alt="">' + HTMX_BUTTON, HTMX_HEAD)

    expect(tab.page.locator("#title")).to_contain_text("two")
    expect_connected(tab.page)
    assert requests == [server.url + "/dyn"]  # no stylesheet, script or image again
    # The style htmx added to <head> at load stays: only what the server sent may go.
    assert tab.page.evaluate("document.head.querySelectorAll('style').length") == 1
    assert tab.page.evaluate("window.updates") == 1
    tab.page.click("#load")
    expect(tab.page.locator("#loaded")).to_have_text("from htmx")
    dyn(app_dir, 'three<img src="/static/logo.svg" alt="">' + HTMX_BUTTON, HTMX_HEAD)
    expect(tab.page.locator("#title")).to_contain_text("three")
    expect_connected(tab.page)
    assert tab.page.evaluate("window.updates") == 2
    assert len(tab.loads) == loads


#: Records, in order, each stylesheet load and each change to the body.
RECORD_ORDER = """
window.events = [];
document.addEventListener('load', (event) => {
  if (event.target.href) window.events.push('load ' + new URL(event.target.href).pathname);
}, true);
new MutationObserver(() => window.events.push('body changed')).observe(
  document.body, { subtree: true, childList: true, characterData: true });
"""


def test_head_follows_and_a_new_stylesheet_loads_before_the_body_changes(
    app_dir: Path, dyn_tab: tuple[Server, Watched]
) -> None:
    _, tab = dyn_tab
    (app_dir / "static" / "new.css").write_text("h1 { color: rgb(255, 0, 0); }\n")
    tab.page.evaluate(RECORD_ORDER)
    new_base = (
        BASE.replace("style.css", "new.css")
        .replace("morph{% endblock %}", "new title{% endblock %}")
        .replace("<body>", '<body><p id="note">new</p>')
    )

    (app_dir / "templates" / "base.html").write_text(new_base)

    expect(tab.page.locator("#note")).to_have_text("new")
    expect(tab.page).to_have_title("new title")
    # The body changed only once the new sheet had loaded: it never showed unstyled.
    assert tab.page.evaluate("window.events") == ["load /static/new.css", "body changed"]
    expect(tab.page.locator("link[rel=stylesheet]")).to_have_count(1)
    expect(tab.page.locator("#title")).to_have_css("color", "rgb(255, 0, 0)")
    assert tab.page.evaluate("document.querySelectorAll('title').length") == 1
    assert len(tab.loads) == 1


def test_inline_script_with_a_new_nonce_each_response_still_morphs(
    server: Server, app_dir: Path, context: BrowserContext
) -> None:
    inline = '<script nonce="{{ nonce }}">window.inline = (window.inline || 0) + 1</script>'
    dyn(app_dir, "first", inline)
    tab = open_tab(context, server.url + "/csp")
    assert tab.page.evaluate("window.inline") == 1  # allowed by its nonce

    dyn(app_dir, "second", inline)

    expect(tab.page.locator("#title")).to_have_text("second")
    expect_connected(tab.page)
    assert tab.page.evaluate("window.inline") == 1  # not run again
    assert len(tab.loads) == 1
