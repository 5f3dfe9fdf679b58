"""Changes the watcher cannot see: ``POST {path}/notify`` and ``notify()`` from app code."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from starlette.types import Message

from fastapi_hot_reload import HotReload, notify
from fastapi_hot_reload._middleware.notify import notify_response

from .support.apps import write_app
from .support.server import Server, Tab, untimed

ROUTES = """

from fastapi import BackgroundTasks
from fastapi_hot_reload import notify


@app.post("/cms/{name}")
def cms_saved(name: str, background: BackgroundTasks) -> dict[str, str]:
    background.add_task(notify, app, name)  # a sync task: runs in a worker thread
    return {}


@app.post("/build-done")
async def build_done(request: Request) -> object:
    return notify(request, "style.css")
"""


@pytest.fixture
def notify_server(tmp_path: Path) -> Iterator[Server]:
    site = write_app(tmp_path / "site", routes=ROUTES)
    running = Server(site)
    running.wait_for_log("hot reload on")
    yield running
    running.stop()


def post(server: Server, **kwargs: object) -> httpx.Response:
    return httpx.post(server.url + "/__hot_reload__/notify", timeout=10, **kwargs)  # type: ignore[arg-type]


def test_notify_without_a_body_reloads_every_tab(notify_server: Server) -> None:
    tab = Tab(notify_server.ws_url)

    response = post(notify_server)

    assert response.status_code == 200
    assert untimed(response.json()) == {"type": "reload", "rev": 1, "paths": []}
    assert tab.next() == {"type": "reload", "rev": 1, "paths": []}
    notify_server.wait_for_log(r"INFO.*reload \(rev 1, 1 tabs\)")
    tab.close()


def test_notify_with_paths_updates_as_a_save_would(notify_server: Server) -> None:
    tab = Tab(notify_server.ws_url)

    assert post(notify_server, json={"paths": ["style.css"]}).status_code == 200
    assert tab.next() == {"type": "css", "rev": 1, "paths": ["style.css"]}
    post(notify_server, json={"paths": ["index.html", "style.css"]})
    assert tab.next() == {"type": "reload", "rev": 2, "paths": ["index.html", "style.css"]}
    tab.close()


def test_notify_from_another_site_is_refused(notify_server: Server) -> None:
    tab = Tab(notify_server.ws_url)

    refused = post(notify_server, headers={"origin": "http://evil.example"})
    allowed = post(notify_server, headers={"origin": notify_server.url})

    assert refused.status_code == 403
    assert allowed.status_code == 200
    assert tab.next()["rev"] == 1  # only the allowed one was sent
    tab.assert_quiet()
    tab.close()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "body is not JSON"),
        (b'["index.html"]', "expected an object with only a 'paths' key"),
        (b'{"path": ["index.html"]}', "expected an object with only a 'paths' key"),
        (b'{"paths": "index.html"}', "paths: expected a list of non-empty strings"),
        (b'{"paths": [""]}', "paths: expected a list of non-empty strings"),
        (b"x" * 70_000, "body too large"),
    ],
)
def test_malformed_notify_gets_a_reason_and_changes_nothing(
    notify_server: Server, body: bytes, reason: str
) -> None:
    tab = Tab(notify_server.ws_url)

    response = post(notify_server, content=body)

    assert response.status_code in (400, 413)
    assert reason in response.text
    tab.assert_quiet()
    tab.close()


def test_notify_whose_client_leaves_mid_body_sends_nothing(notify_server: Server) -> None:
    """A script killed while it posts: what it meant is unknown, so no tab reloads."""
    tab = Tab(notify_server.ws_url)
    port = int(notify_server.url.rpartition(":")[2])
    for _ in range(20):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(
                b"POST /__hot_reload__/notify HTTP/1.1\r\nHost: localhost\r\n"
                b"Content-Length: 100\r\n\r\n"  # and then no body: an empty one reloads all
            )

    sent = post(notify_server, json={"paths": ["style.css"]}).json()
    assert sent["rev"] == 1  # the aborted ones sent nothing
    assert tab.next() == untimed(sent)
    tab.close()


def test_notify_only_takes_post(notify_server: Server) -> None:
    response = httpx.get(notify_server.url + "/__hot_reload__/notify", timeout=10)

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


def test_app_code_notifies_from_a_background_task_and_from_async_code(
    notify_server: Server,
) -> None:
    tab = Tab(notify_server.ws_url)

    assert httpx.post(notify_server.url + "/cms/index.html", timeout=10).status_code == 200
    assert tab.next() == {"type": "reload", "rev": 1, "paths": ["index.html"]}
    sent = untimed(httpx.post(notify_server.url + "/build-done", timeout=10).json())
    assert sent == {"type": "css", "rev": 2, "paths": ["style.css"]}
    assert tab.next() == untimed(sent)
    tab.close()


def test_notify_is_a_no_op_when_hot_reload_is_off_or_not_started() -> None:
    app = Starlette()
    HotReload(app, enabled=False)
    assert notify(app, "index.html") is None
    wrapped = HotReload(Starlette())
    assert notify(wrapped) is None  # no lifespan yet
    client = TestClient(wrapped)
    assert client.post("/__hot_reload__/notify").status_code == 503


def test_notify_through_the_wrapping_instance(tmp_path: Path) -> None:
    wrapped = HotReload(Starlette())
    with TestClient(wrapped) as client, client.websocket_connect("/__hot_reload__/ws") as ws:
        ws.receive_json()
        sent = notify(wrapped, "a.png")
        assert sent is not None
        assert untimed(sent) == {"type": "image", "rev": 1, "paths": ["a.png"]}
        assert ws.receive_json()["type"] == "image"


async def test_notify_reads_a_body_sent_in_pieces() -> None:
    """A server hands a chunked body over in several ``http.request`` messages."""
    pieces = [
        {"type": "http.request", "body": b'{"paths":', "more_body": True},
        {"type": "http.request", "body": b' ["logo.png"]}', "more_body": False},
    ]

    async def receive() -> Message:
        return pieces.pop(0)

    response = await notify_response({"method": "POST"}, receive, None)

    assert response.status_code == 503  # parsed fine; no lifespan started to notify
    assert pieces == []
