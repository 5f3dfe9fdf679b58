"""The middleware at ASGI level: configuration, off switch, lifespan, websocket, client script."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import jinja2
import pytest
from fastapi import FastAPI, Request, WebSocket
from fastapi.templating import Jinja2Templates
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.types import Message
from starlette.websockets import WebSocketDisconnect

from fastapi_hot_reload import HotReload
from fastapi_hot_reload._middleware.config import log_where_uvicorn_logs
from fastapi_hot_reload._middleware.hub import Hub

from .support.server import untimed


def page_app(**options: object) -> HotReload:
    app = Starlette(routes=[Route("/", lambda r: HTMLResponse("<body></body>"))])
    return HotReload(app, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [42, "templates", [jinja2.Environment(), object()]])
def test_wrong_templates_type_is_named_in_a_type_error(value: object) -> None:
    with pytest.raises(TypeError, match=r"templates: expected a Jinja2Templates.*got"):
        page_app(templates=value)


def test_watch_given_as_a_string_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="watch: expected a list of folders, got 'static'"):
        page_app(watch="static")


def test_missing_watch_folder_is_a_warning_and_watched_once_it_exists(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    later = tmp_path / "later"
    app = page_app(watch=[later])
    with (
        caplog.at_level(logging.INFO, "fastapi_hot_reload"),
        TestClient(app) as client,
        client.websocket_connect("/__hot_reload__/ws") as socket,
    ):
        socket.receive_json()
        missing = f"not watching {later}: no such folder (watched again once it exists)"
        deadline = time.monotonic() + 30  # a hang guard: the watcher's first look, then mkdir
        while missing not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.01)
        later.mkdir()
        assert untimed(socket.receive_json()) == {"type": "reload", "rev": 1, "paths": ["later"]}
    assert missing in caplog.text


def test_watch_of_a_file_is_a_value_error(tmp_path: Path) -> None:
    (tmp_path / "style.css").write_text("")
    with pytest.raises(ValueError, match="is a file, not a folder"):
        page_app(watch=[tmp_path / "style.css"])


def test_disabled_is_a_pure_pass_through(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    app = page_app(enabled=False, watch=[tmp_path / "missing is fine when off"])
    with caplog.at_level(logging.DEBUG, "fastapi_hot_reload"), TestClient(app) as client:
        assert client.get("/").text == "<body></body>"
        assert client.get("/__hot_reload__/client/main.js").status_code == 404
        with pytest.raises(WebSocketDisconnect), client.websocket_connect("/__hot_reload__/ws"):
            pass  # pragma: no cover - the app has no such route
    assert caplog.text == ""


def test_client_modules_are_served_as_javascript() -> None:
    with TestClient(page_app()) as client:
        response = client.get("/__hot_reload__/client/main.js")
        head = client.head("/__hot_reload__/client/main.js")
        post = client.post("/__hot_reload__/client/main.js")
        sibling = client.get("/__hot_reload__/client/connection.js")

    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert "from './connection.js'" in response.text
    assert "new WebSocket" in sibling.text
    assert head.content == b""
    assert head.headers["content-length"] == str(len(response.content))
    assert post.status_code == 405
    assert post.headers["allow"] == "GET, HEAD"


def test_unchanged_client_module_is_revalidated_with_a_304() -> None:
    with TestClient(page_app()) as client:
        etag = client.get("/__hot_reload__/client/main.js").headers["etag"]
        again = client.get("/__hot_reload__/client/main.js", headers={"if-none-match": etag})
        other = client.get("/__hot_reload__/client/main.js", headers={"if-none-match": '"x"'})

    assert again.status_code == 304
    assert again.content == b""
    assert other.status_code == 200


def test_unknown_client_file_is_not_found() -> None:
    with TestClient(page_app()) as client:
        assert client.get("/__hot_reload__/client/nope.js").status_code == 404
        assert client.get("/__hot_reload__/client/x/main.js").status_code == 404


def test_custom_path_moves_the_endpoints() -> None:
    with TestClient(page_app(path="/_dev")) as client:
        assert client.get("/_dev/client/main.js").status_code == 200
        assert 'src="/_dev/client/main.js"' in client.get("/").text
        with client.websocket_connect("/_dev/ws") as socket:
            assert socket.receive_json()["type"] == "hello"


def test_websocket_says_hello_with_boot_and_rev() -> None:
    app = page_app()
    with TestClient(app) as client, client.websocket_connect("/__hot_reload__/ws") as socket:
        assert socket.receive_json() == {"type": "hello", "boot": app._running.boot, "rev": 0}
        assert f'data-boot="{app._running.boot}" data-rev="0"' in client.get("/").text


def test_each_lifespan_is_a_new_boot() -> None:
    app = page_app()
    with TestClient(app):
        first = app._running.boot
    with TestClient(app):
        assert app._running.boot != first


def test_frames_from_the_client_are_ignored(tmp_path: Path) -> None:
    app = page_app(watch=[tmp_path])
    with TestClient(app) as client, client.websocket_connect("/__hot_reload__/ws") as socket:
        socket.receive_json()
        socket.send_text("not json {")
        socket.send_bytes(b"\x00\xff" * 1000)
        socket.send_text("x" * 1_000_000)
        (tmp_path / "page.html").write_text("changed")
        assert untimed(socket.receive_json()) == {
            "type": "reload",
            "rev": 1,
            "paths": ["page.html"],
        }


def test_template_change_clears_the_jinja_cache(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text("old")
    templates = Jinja2Templates(directory=tmp_path)
    env = templates.env
    app = page_app(templates=templates)
    with TestClient(app) as client, client.websocket_connect("/__hot_reload__/ws") as socket:
        socket.receive_json()
        assert env.get_template("page.html").render() == "old"
        env.auto_reload = False  # so only our cache clearing can make it read the file again
        (tmp_path / "page.html").write_text("new")
        socket.receive_json()
        assert env.get_template("page.html").render() == "new"


def test_users_own_lifespan_keeps_working(caplog: pytest.LogCaptureFixture) -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, str]]:
        events.append("startup")
        yield {"db": "connected"}
        events.append("shutdown")

    app = FastAPI(lifespan=lifespan)

    @app.get("/state")
    async def state(request: Request) -> str:
        return str(request.state.db)

    app.add_middleware(HotReload)
    with caplog.at_level(logging.INFO, "fastapi_hot_reload"), TestClient(app) as client:
        assert client.get("/state").json() == "connected"
    assert events == ["startup", "shutdown"]
    assert "hot reload on (FASTAPI_HOT_RELOAD=1), watching nothing" in caplog.text


def test_failing_app_startup_starts_no_watcher(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if app:
            raise RuntimeError("database down")
        yield  # pragma: no cover - never reached

    app = HotReload(Starlette(lifespan=lifespan), watch=[tmp_path])
    with (
        caplog.at_level(logging.INFO, "fastapi_hot_reload"),
        pytest.raises(RuntimeError, match="database down"),
    ):
        TestClient(app).__enter__()
    assert "hot reload on" not in caplog.text


def test_non_http_scopes_pass_through() -> None:
    app = FastAPI()

    @app.websocket("/echo")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(await websocket.receive_text())
        await websocket.close()

    with TestClient(HotReload(app)) as client, client.websocket_connect("/echo") as socket:
        socket.send_text("ping")
        assert socket.receive_text() == "ping"


def test_other_paths_under_the_prefix_are_the_apps_own() -> None:
    with TestClient(page_app()) as client:
        assert client.get("/__hot_reload__/other").status_code == 404
        with (
            pytest.raises(WebSocketDisconnect),
            client.websocket_connect("/__hot_reload__/other"),
        ):
            pass  # pragma: no cover - the app has no such route


async def test_a_tab_too_slow_for_its_queue_is_closed_with_1013() -> None:
    """A tab that stops reading: its queue overflows, the hub drops it, its socket closes."""
    app = page_app()
    app._routes.hub = hub = Hub(buffer=1)
    sent: list[Message] = []
    reading_again, closed = anyio.Event(), anyio.Event()
    connect: list[Message] = [{"type": "websocket.connect"}]

    async def receive() -> Message:
        if connect:
            return connect.pop()
        await closed.wait()
        return {"type": "websocket.disconnect", "code": 1013}

    async def send(message: Message) -> None:
        sent.append(message)
        if "reload" in message.get("text", ""):
            await reading_again.wait()  # the tab does not read
        if message["type"] == "websocket.close":
            closed.set()

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(app._routes.websocket, {"type": "websocket", "headers": []}, receive, send)
        with anyio.fail_after(10):
            while len(sent) < 2:  # noqa: ASYNC110 - accept and hello, sent by the handler
                await anyio.sleep(0.01)
            # rev 0 goes to the waiting forwarder, rev 1 fills the queue, rev 2 overflows it.
            assert [hub.broadcast({"type": "reload", "rev": n}) for n in range(3)] == [1, 1, 0]
            reading_again.set()

    assert [json.loads(m["text"])["rev"] for m in sent if m["type"] == "websocket.send"] == [
        0,
        0,
        1,
    ]
    assert sent[-1] == {"type": "websocket.close", "code": 1013, "reason": "too slow, reconnect"}


def test_our_log_lines_go_where_uvicorns_go_unless_logging_is_set_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ours, root, uvicorn = (logging.getLogger(n) for n in ("fastapi_hot_reload", "", "uvicorn"))
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(ours, "handlers", [])
    monkeypatch.setattr(uvicorn, "handlers", [])
    monkeypatch.setattr(ours, "level", logging.NOTSET)

    log_where_uvicorn_logs()  # uvicorn has no handlers either: nothing to follow
    assert (ours.handlers, ours.level) == ([], logging.NOTSET)

    handler = logging.StreamHandler()
    monkeypatch.setattr(uvicorn, "handlers", [handler])
    log_where_uvicorn_logs()
    assert (ours.handlers, ours.level) == ([handler], logging.INFO)
