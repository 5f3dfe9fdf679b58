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

#: Records every CSP violation of every document the tab loads, before any page script runs.
RECORD_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violation(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


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
    violations: list[str] = []
    tab = Watched(context.new_page())
    tab.page.expose_function("__violation", lambda text: violations.append(text))
    tab.page.add_init_script(RECORD_VIOLATIONS)
    tab.page.goto(server.url + "/strict")
    expect(tab.page.locator('html[data-hot-reload="connected"]')).to_be_attached()

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
