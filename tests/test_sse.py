"""Any ASGI server: without websockets the same messages come as Server-Sent Events."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import signal
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import anyio
import anyio.lowlevel
import httpx
import pytest
from playwright.sync_api import BrowserContext, expect
from starlette.applications import Starlette
from starlette.testclient import TestClient
from starlette.types import Message
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from fastapi_hot_reload import HotReload
from fastapi_hot_reload._middleware import sse as _sse

from . import test_browser
from .support.apps import page
from .support.browser import Watched
from .support.server import Server, Tab, untimed

browser = test_browser.browser  # the same fixture: one Chromium per module
EVENTS = "/__hot_reload__/events"
BROWSER_WEBSOCKET = {"sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13"}


class Events:
    """An ``EventSource`` stand-in: one open event stream, read message by message."""

    def __init__(self, url: str) -> None:
        self._stack = ExitStack()
        client = self._stack.enter_context(httpx.Client(timeout=10))
        self.response = self._stack.enter_context(client.stream("GET", url + EVENTS))
        self._lines = self.response.iter_lines()
        self.hello = self.next()
        assert self.hello["type"] == "hello"

    def next(self) -> dict[str, object]:
        for line in self._lines:
            if line.startswith("data: "):
                message: dict[str, object] = json.loads(line[len("data: ") :])
                return message
        raise EOFError("the event stream ended")

    def close(self) -> None:
        self._stack.close()


def tag_boot(server: Server) -> str:
    found = re.search(r'data-boot="(\w+)"', server.get().text)
    assert found is not None
    return found[1]


@contextmanager
def no_websocket_server(app_dir: Path, *args: str) -> Iterator[Server]:
    server = Server(app_dir, "--ws", "none", *args)
    try:
        yield server
    finally:
        server.stop()


def test_server_without_websockets_sends_the_same_messages_as_events(app_dir: Path) -> None:
    with no_websocket_server(app_dir) as server:
        for _ in range(2):
            with pytest.raises(InvalidStatus, match="426"):
                connect(server.ws_url, open_timeout=10)
        events = Events(server.url)

        assert events.response.headers["content-type"] == "text/event-stream"
        assert events.hello == {"type": "hello", "boot": tag_boot(server), "rev": 0}
        assert "data-events" in server.get().text  # pages now start on events
        page(app_dir, "<h1>second</h1>")
        scope = {"templates": ["index.html"]}  # the page above rendered it
        assert untimed(events.next()) == {
            "type": "page",
            "rev": 1,
            "paths": ["index.html"],
            **scope,
        }
        said = [line for line in server.lines if "cannot use its websocket" in line]
        assert len(said) == 1
        assert "pip install 'uvicorn[standard]'" in said[0]
        events.close()


def test_shutdown_ends_open_event_streams_at_once(app_dir: Path) -> None:
    with no_websocket_server(app_dir) as server:
        events = Events(server.url)
        server.process.terminate()

        server.process.wait(10)  # uvicorn waits for open responses: the stream must end itself
        with pytest.raises(EOFError):
            events.next()
        events.close()


def test_python_save_ends_event_streams_and_the_new_server_says_a_new_boot(
    app_dir: Path,
) -> None:
    with no_websocket_server(app_dir, "--reload") as server:
        server.wait_for_log("Application startup complete")
        events = Events(server.url)
        logged = len(server.lines)
        app = app_dir / "app.py"

        app.write_text(app.read_text() + "\n# changed\n")

        with pytest.raises(EOFError):
            events.next()
        server.wait_for_log("Application startup complete", start=logged)
        again = Events(server.url)
        assert again.hello["boot"] != events.hello["boot"]
        events.close()
        again.close()


def client() -> TestClient:
    return TestClient(HotReload(Starlette()))


def test_an_upgrade_dropped_on_the_way_is_named(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "fastapi_hot_reload"):
        response = client().get("/__hot_reload__/ws", headers=BROWSER_WEBSOCKET)

    assert response.status_code == 426
    assert "a proxy in between may drop it" in response.text
    assert "tabs use Server-Sent Events at /__hot_reload__/events" in caplog.text


def test_a_plain_request_for_the_websocket_changes_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = client()
    with caplog.at_level(logging.WARNING, "fastapi_hot_reload"):
        assert app.get("/__hot_reload__/ws").status_code == 426

    assert "cannot use its websocket" not in caplog.text
    assert app.app._tag.events_only is False  # type: ignore[attr-defined]


def test_events_refuse_other_sites_and_other_methods() -> None:
    app = client()

    assert app.post(EVENTS).status_code == 405
    assert app.get(EVENTS, headers={"origin": "https://evil.example"}).status_code == 403
    # A same-origin EventSource sends no Origin header; the client names its page's origin.
    refused = app.get(EVENTS, params={"origin": "https://evil.example"})
    assert refused.status_code == 403
    assert "refused origin 'https://evil.example'" in refused.text


class FakeServer:
    """Stands in for ``uvicorn.Server``: its exit flag, its signal handler, its main coroutine."""

    should_exit = force_exit = False

    def handle_exit(self, sig: int, frame: object) -> None:
        """Never called: only installed."""

    async def serve(self) -> None:
        await anyio.sleep_forever()


def test_uvicorns_server_is_found_through_its_signal_handler() -> None:
    server = FakeServer()
    previous = signal.signal(signal.SIGTERM, server.handle_exit)
    try:
        assert _sse.find_server() is server
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert _sse.find_server() is None  # the default handler has no such flag, and no loop runs


async def test_an_old_uvicorns_server_is_found_as_its_main_coroutines_self() -> None:
    server = FakeServer()
    main = asyncio.create_task(server.serve())  # as uvicorn's asyncio.run(server.serve())
    await anyio.lowlevel.checkpoint()  # let it start
    try:
        assert _sse.find_server() is server
    finally:
        main.cancel()


async def test_an_idle_stream_sends_keepalives_and_ends_when_the_hub_drops_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_sse, "KEEPALIVE_S", 0.01)
    sent: list[Message] = []
    queue_in, queue = anyio.create_memory_object_stream[str](4)

    async def receive() -> Message:
        await anyio.sleep_forever()
        raise AssertionError  # pragma: no cover - never wakes

    async def send(message: Message) -> None:
        sent.append(message)
        if message.get("body") == b":\n\n":
            queue_in.close()  # the hub drops a tab by closing its queue

    with anyio.fail_after(10), queue_in, queue:
        await _sse.stream(['{"type":"hello"}'], queue, receive, send, lambda: False)

    bodies = [message.get("body") for message in sent[1:]]
    assert bodies == [b'data: {"type":"hello"}\n\n', b":\n\n", b""]


@pytest.mark.browser
def test_a_tab_on_a_server_without_websockets_falls_back_once_and_keeps_reloading(
    app_dir: Path, context: BrowserContext
) -> None:
    app = app_dir / "app.py"  # full reloads: the reloaded page must remember the fallback
    app.write_text(
        app.read_text().replace("templates=templates,", "templates=templates, morph=False,")
    )
    with no_websocket_server(app_dir) as server:
        tab = Watched(context.new_page())
        tab.page.goto(server.url)
        expect(tab.page.locator('html[data-hot-reload="connected"]')).to_be_attached()
        logged = len(server.lines)

        page(app_dir, '<h1 id="title">second</h1>')

        expect(tab.page.locator("#title")).to_have_text("second")
        expect(tab.page.locator('html[data-hot-reload="connected"]')).to_be_attached()
        assert len(tab.loads) == 2
        warned = [line for line in tab.hot_reload_lines if "Server-Sent Events" in line]
        assert len(warned) == 1
        assert "pip install 'uvicorn[standard]'" in warned[0]
        # The reloaded page went straight to events: no upgrade tried, nothing new logged.
        server.wait_for_log(f"GET {EVENTS}", start=logged)
        assert not [line for line in server.lines[logged:] if "upgrade" in line.lower()]


def test_hypercorn_serves_the_websocket_and_the_reloads(app_dir: Path) -> None:
    server = Server(app_dir, command=("-m", "hypercorn", "app:app"), listen=("-b", "127.0.0.1:0"))
    try:
        tab = Tab(server.ws_url)
        assert tab.hello["boot"] == tag_boot(server)  # read from a page that rendered index.html
        page(app_dir, "<h1>second</h1>")
        scope = {"templates": ["index.html"]}
        assert untimed(tab.next()) == {"type": "page", "rev": 1, "paths": ["index.html"], **scope}
        tab.close()  # else Hypercorn waits its --graceful-timeout (5 s) for it on shutdown
    finally:
        server.stop()
