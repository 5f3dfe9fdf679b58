"""README screenshots of what the developer sees, made in Chromium: ``python -m docs.screenshots``.

Serves a copy of ``examples/basic`` with a real uvicorn, then photographs the status element while
the server is away (just gone, then not answering) and the overlay of a template error.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from tests.support.browser import find_chromium, launch_options
from tests.support.server import Server

ROOT = Path(__file__).parent.parent
OUT = Path(__file__).parent / "images"
#: A plain uvicorn (it is stopped and started by hand here): hot reload is on when asked.
ENV = {"FASTAPI_HOT_RELOAD": "1", "FASTAPI_HOT_RELOAD_EDITOR": "vscode"}
BROKEN = """{% extends "base.html" %}
{% block content %}
<h1>Hello, {{ name }}!</h1>
{% for item in items %}
<p>{{ item }}</p>
{% endblock %}
"""


def shoot(page: Page, name: str) -> None:
    path = OUT / name
    page.screenshot(path=path)
    print(f"wrote {path.relative_to(ROOT)}")


def main() -> None:
    chromium = find_chromium()
    if chromium is None:
        sys.exit("no Chromium on PATH: apt-get install chromium")
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as temporary, sync_playwright() as playwright:
        site = Path(temporary) / "myapp"
        shutil.copytree(ROOT / "examples" / "basic", site)
        browser = playwright.chromium.launch(**launch_options())
        page = browser.new_page(viewport={"width": 760, "height": 240})
        page.set_default_timeout(20_000)
        page.emulate_media(reduced_motion="reduce")  # photographed still, not mid-fade
        server = Server(site, env=ENV)
        port = server.url.rsplit(":", 1)[1]
        page.goto(server.url)
        expect(page.locator('html[data-hot-reload="connected"]')).to_be_attached()

        server.stop()  # as uvicorn --reload does: the socket closes with 1012
        status = page.locator("hot-reload-status [role=status]")
        expect(status).to_have_text("restarting…")
        shoot(page, "status-restarting.png")
        expect(status).to_contain_text("server not answering for 3 s")
        shoot(page, "status-not-answering.png")

        server = Server(site, "--port", port, env=ENV)
        try:
            expect(page.locator("hot-reload-status")).to_have_count(0)
            expect(page.locator('html[data-hot-reload="connected"]')).to_be_attached()
            page.set_viewport_size({"width": 760, "height": 500})
            (site / "templates" / "index.html").write_text(BROKEN)
            expect(page.locator("hot-reload-error .where a")).to_be_visible()
            shoot(page, "overlay.png")
        finally:
            server.stop()
            browser.close()


if __name__ == "__main__":
    main()
