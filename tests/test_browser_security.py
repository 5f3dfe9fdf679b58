"""Hot reload in Chromium under a strict CSP, and against a DNS-rebinding page."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from .support.apps import page, write_app
from .support.browser import TIMEOUT_MS, Watched, chromium
from .support.server import Server

pytestmark = pytest.mark.browser

#: The attacker's name: its DNS first served the attack page, now it answers 127.0.0.1.
EVIL = "evil.example"
SECRET = "postgres://admin:s3cret@db/shop"

ROUTES = '''

import secrets


@app.get("/strict", response_class=HTMLResponse)
async def strict(request: Request) -> HTMLResponse:
    """A page under a strict, nonce-based policy (a fresh nonce per response)."""
    nonce = secrets.token_urlsafe(12)
    response = templates.TemplateResponse(request, "index.html", {"nonce": nonce, "pid": 0})
    response.headers["content-security-policy"] = (
        f"script-src 'nonce-{nonce}' 'strict-dynamic'; object-src 'none'; base-uri 'none'"
    )
    return response


@app.get("/styled", response_class=HTMLResponse)
async def styled(request: Request, via: str) -> HTMLResponse:
    """A page whose inline styles run by nonce (a fresh one per response): its policy comes in a
    header (with scripts under the nonce too, or styles only) or in a <meta> tag."""
    nonce = secrets.token_urlsafe(12)
    policy = f"style-src 'self' 'nonce-{nonce}'"
    if via == "header":
        policy = f"script-src 'nonce-{nonce}' 'strict-dynamic'; {policy}"
    meta = policy if via == "meta" else ""
    response = templates.TemplateResponse(request, "styled.html", {"nonce": nonce, "meta": meta})
    if not meta:
        response.headers["content-security-policy"] = policy
    return response


@app.get("/attack", response_class=HTMLResponse)
async def attack() -> HTMLResponse:
    """The attacker's page, as its own server sent it before the rebinding."""
    return HTMLResponse(ATTACK_PAGE)
'''

ATTACK = """<!doctype html><html><body><script>
window.stolen = {};
(async () => {
  const page = await fetch("/broken.html", {headers: {accept: "text/html"}});
  stolen.status = page.status;
  stolen.error = await page.text();
  stolen.index = await (await fetch("/")).text();
  stolen.client = (await fetch("/__hot_reload__/client/main.js")).status;
  stolen.messages = [];
  await new Promise((done) => {
    const socket = new WebSocket(`ws://${location.host}/__hot_reload__/ws`);
    socket.onmessage = (event) => { stolen.messages.push(event.data); socket.close(); };
    socket.onclose = (event) => { stolen.closed = event.code; done(); };
  });
  stolen.done = true;
})();
</script></body></html>"""

STRICT = (
    '<h1 id="title">{}</h1>'
    '<script nonce="{{{{ nonce }}}}">document.documentElement.dataset.own = "ran"</script>'
)

#: A page with inline styles in its head and body, each allowed by the response's nonce.
STYLED = """<!doctype html><html><head>
{{% if meta %}}<meta http-equiv="content-security-policy" content="{{{{ meta }}}}">{{% endif %}}
{}</head><body><h1 id="title">{}</h1><p id="note">note</p>{}</body></html>"""
NONCED = '<style nonce="{{{{ nonce }}}}">{} {{ color: {} }}</style>'

#: Records every CSP violation of every document the tab loads, before any page script runs.
RECORD_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violation(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def recording(context: BrowserContext, url: str) -> tuple[Watched, list[str]]:
    """A tab open on ``url`` once connected, and the CSP violations of its documents."""
    violations: list[str] = []
    tab = Watched(context.new_page())
    tab.page.expose_function("__violation", lambda text: violations.append(text))
    tab.page.add_init_script(RECORD_VIOLATIONS)
    tab.page.goto(url)
    expect(tab.page.locator('html[data-hot-reload="connected"]')).to_be_attached()
    return tab, violations


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium(f"--host-resolver-rules=MAP {EVIL} 127.0.0.1") as launched:
        yield launched


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    broken = f'<p>{{{{ "{SECRET}" }}}}</p>\n<p>{{{{ missing.attribute }}}}</p>\n'
    return write_app(
        tmp_path / "site",
        STRICT.format("first"),
        routes=ROUTES.replace("ATTACK_PAGE", repr(ATTACK)),
        files={"templates/broken.html": broken},
    )


def test_strict_nonce_policy_page_connects_and_updates_without_violations(
    server: Server, app_dir: Path, context: BrowserContext
) -> None:
    tab, violations = recording(context, server.url + "/strict")

    page(app_dir, STRICT.format("second"))

    expect(tab.page.locator("#title")).to_have_text("second")
    expect(tab.page.locator('html[data-hot-reload="connected"][data-own="ran"]')).to_be_attached()
    assert len(tab.loads) == 1  # morphed in place: the page's own script is not run again
    assert violations == []
    # The recorder does see a violation when there is one: a string timer is eval.
    tab.page.evaluate("setTimeout('1')")
    tab.page.wait_for_function("document.documentElement.dataset.own === 'ran'")
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while not violations and time.monotonic() < deadline:
        tab.page.wait_for_timeout(20)  # lets Playwright deliver the exposed function's call
    assert violations[0].startswith("script-src")


@pytest.mark.parametrize("via", ["header", "style-only", "meta"])
def test_morph_keeps_nonce_allowed_inline_styles_working(
    server: Server, app_dir: Path, context: BrowserContext, via: str
) -> None:
    styled = app_dir / "templates" / "styled.html"
    head, note = NONCED.format("h1", "rgb(1, 2, 3)"), NONCED.format("#note", "rgb(7, 8, 9)")
    styled.write_text(STYLED.format(head, "first", note))
    tab, violations = recording(context, f"{server.url}/styled?via={via}")
    expect(tab.page.locator("#note")).to_have_css("color", "rgb(7, 8, 9)")

    # Both styles change and a new one comes, each with the new response's nonce, which the
    # page (under its first response's policy) would refuse.
    head, note = NONCED.format("h1", "rgb(4, 5, 6)"), NONCED.format("#note", "rgb(10, 11, 12)")
    new = '<em id="new">new</em>' + NONCED.format("#new", "rgb(20, 21, 22)")
    styled.write_text(STYLED.format(head, "second", note + new))

    expect(tab.page.locator("#title")).to_have_text("second")
    expect(tab.page.locator("#title")).to_have_css("color", "rgb(4, 5, 6)")
    expect(tab.page.locator("#note")).to_have_css("color", "rgb(10, 11, 12)")
    expect(tab.page.locator("#new")).to_have_css("color", "rgb(20, 21, 22)")
    assert len(tab.loads) == 1
    assert tab.page.locator("style").count() == 3  # the old head style went
    assert tab.page.locator("meta").count() == (via == "meta")  # one policy still
    assert violations == []


def test_a_page_gets_its_first_inline_style_under_a_nonce_policy(
    server: Server, app_dir: Path, context: BrowserContext
) -> None:
    """The page has no nonce of its own to copy: our tag carries the style one."""
    styled = app_dir / "templates" / "styled.html"
    styled.write_text(STYLED.format("", "first", ""))
    tab, violations = recording(context, f"{server.url}/styled?via=style-only")

    styled.write_text(STYLED.format(NONCED.format("h1", "rgb(4, 5, 6)"), "second", ""))

    expect(tab.page.locator("#title")).to_have_text("second")
    expect(tab.page.locator("#title")).to_have_css("color", "rgb(4, 5, 6)")
    assert len(tab.loads) == 1
    assert violations == []


def test_dns_rebinding_page_reads_no_error_source_or_path(
    server: Server, app_dir: Path, context: BrowserContext
) -> None:
    port = server.url.rpartition(":")[2]
    tab = context.new_page()

    tab.goto(f"http://{EVIL}:{port}/attack")
    tab.wait_for_function("window.stolen.done === true")
    stolen = tab.evaluate("window.stolen")

    assert stolen["status"] == 500
    assert stolen["error"] == "Internal Server Error"  # the app's own response
    assert "data-hot-reload" not in stolen["index"]
    assert stolen["client"] == 403
    assert stolen["messages"] == []
    assert stolen["closed"] == 1006  # the handshake was refused
    everything = repr(stolen)
    assert SECRET not in everything
    assert str(app_dir) not in everything
    # The same request from the developer's own browser does show the details.
    own = httpx.get(f"{server.url}/broken.html", headers={"accept": "text/html"}, timeout=10)
    assert "s3cret" in own.text
    assert str(app_dir.resolve()) in own.text
