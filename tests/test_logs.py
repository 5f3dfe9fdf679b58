"""Server log records in the browser console: captured per request, sent to the right tab only."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient, WebSocketTestSession
from websockets.sync.client import connect

from fastapi_hot_reload import HotReload
from fastapi_hot_reload._middleware import logs as _logs
from fastapi_hot_reload._middleware.hub import Hub
from fastapi_hot_reload._middleware.logs import HEADER, Capture, Consoles, browser_level

from .support.server import Server

views = logging.getLogger("app.views")


async def index(request: Request) -> Response:
    views.warning("rendering %s", "index")
    views.info("said at INFO")
    return HTMLResponse("<body>page</body>")


def api(request: Request) -> Response:  # a sync view: run in a worker thread
    views.warning("api called for %s", request.query_params.get("who", "nobody"))
    return JSONResponse({"ok": True})


async def fail(request: Request) -> Response:
    raise RuntimeError("render failed")


def app(**options: Any) -> HotReload:
    routes = [Route("/", index), Route("/api", api), Route("/fail", fail)]
    return HotReload(Starlette(routes=routes), **options)


def page_id(page: str) -> str:
    found = re.search(r'data-page="([\w-]+)"', page)
    assert found is not None, page
    return found[1]


@contextmanager
def tab(client: TestClient, path: str = "/") -> Iterator[tuple[str, WebSocketTestSession]]:
    """A page loaded from ``path`` and its socket, past the ``hello``."""
    page = page_id(client.get(path).text)
    with client.websocket_connect(f"/__hot_reload__/ws?page={page}") as socket:
        assert socket.receive_json()["type"] == "hello"
        yield page, socket


def fenced(hot_reload: HotReload, socket: WebSocketTestSession) -> list[dict[str, Any]]:
    """What ``socket`` receives up to a marker broadcast now: only what was already queued."""
    fence = {"type": "fence", "id": id(socket)}
    hot_reload._routes.hub.broadcast(fence)
    messages = []
    while (message := socket.receive_json()) != fence:
        if message["type"] != "fence":  # one sent for another tab
            messages.append(message)
    return messages


def test_records_of_a_page_render_reach_its_socket_when_it_connects() -> None:
    with TestClient(app()) as client, tab(client) as (_, socket):
        message = socket.receive_json()

    assert message == {
        "type": "log",
        "records": [
            {
                "level": "WARNING",
                "method": "warn",
                "logger": "app.views",
                "text": "rendering index",
                "request": "GET /",
            }
        ],
        "dropped": 0,
    }


def test_records_of_a_request_go_to_the_tab_named_in_its_header_and_no_other() -> None:
    hot_reload = app()
    with TestClient(hot_reload) as client, tab(client) as (first, one), tab(client) as (_, two):
        assert fenced(hot_reload, one)[0]["records"][0]["text"] == "rendering index"
        assert fenced(hot_reload, two)[0]["records"][0]["text"] == "rendering index"

        client.get("/api?who=first", headers={HEADER: first})

        [message] = fenced(hot_reload, one)
        assert message["records"][0]["text"] == "api called for first"
        assert message["records"][0]["request"] == "GET /api"
        assert fenced(hot_reload, two) == []


def test_page_ids_are_random_and_unguessable() -> None:
    """128 random bits each: one page's id tells nothing of the next one's."""
    with TestClient(app()) as client:
        ids = [page_id(client.get("/").text) for _ in range(50)]
    assert len(set(ids)) == len(ids)
    assert all(len(found) == 22 for found in ids)  # 16 bytes, base64url
    prefixes = {found[:8] for found in ids}
    assert len(prefixes) == len(ids)  # no shared prefix, no counter


def test_a_second_socket_with_a_tabs_id_gets_none_of_its_records() -> None:
    hot_reload = app()
    with TestClient(hot_reload) as client:
        page = page_id(client.get("/").text)
        with client.websocket_connect(f"/__hot_reload__/ws?page={page}") as first:
            assert first.receive_json()["type"] == "hello"
            assert fenced(hot_reload, first)[0]["records"][0]["text"] == "rendering index"
            with client.websocket_connect(f"/__hot_reload__/ws?page={page}") as second:
                assert second.receive_json()["type"] == "hello"
                client.get("/api?who=first", headers={HEADER: page})
                assert fenced(hot_reload, second) == []
                [message] = fenced(hot_reload, first)
                assert message["records"][0]["text"] == "api called for first"


def test_records_for_a_tab_not_connected_yet_wait_for_it() -> None:
    hot_reload = app()
    with TestClient(hot_reload) as client:
        page = page_id(client.get("/").text)
        client.get("/api?who=later", headers={HEADER: page})
        with client.websocket_connect(f"/__hot_reload__/ws?page={page}") as socket:
            socket.receive_json()
            texts = [
                record["text"]
                for message in fenced(hot_reload, socket)
                for record in message["records"]
            ]

    assert texts == ["rendering index", "api called for later"]


def test_a_tab_away_for_long_gets_only_the_first_requests_records(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_logs, "MAX_RECORDS", 2)
    hot_reload = app()
    with TestClient(hot_reload) as client:
        page = page_id(client.get("/").text)
        for who in ("a", "b", "c"):
            client.get(f"/api?who={who}", headers={HEADER: page})
        with client.websocket_connect(f"/__hot_reload__/ws?page={page}") as socket:
            socket.receive_json()
            messages = fenced(hot_reload, socket)

    assert [message["records"][0]["text"] for message in messages] == [
        "rendering index",
        "api called for a",
    ]


def test_waiting_records_expire(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_logs, "KEEP_SECONDS", 0.0)
    hot_reload = app()
    with TestClient(hot_reload) as client, tab(client) as (_, socket):
        assert fenced(hot_reload, socket) == []


def test_only_the_newest_pages_keep_waiting_records(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_logs, "MAX_WAITING", 2)
    hot_reload = app()
    with TestClient(hot_reload) as client:
        pages = [page_id(client.get("/").text) for _ in range(3)]
        for page, expected in zip(pages, [0, 1, 1], strict=True):
            with client.websocket_connect(f"/__hot_reload__/ws?page={page}") as socket:
                socket.receive_json()
                assert len(fenced(hot_reload, socket)) == expected


def test_a_flood_is_cut_to_the_rate_and_the_rest_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_logs, "RATE", 3)
    hot_reload = app()
    with TestClient(hot_reload) as client, tab(client) as (page, socket):
        for _ in range(4):
            client.get("/api", headers={HEADER: page})

        messages = fenced(hot_reload, socket)

    assert [len(message["records"]) for message in messages] == [1, 1, 1, 0, 0]
    assert [message["dropped"] for message in messages] == [0, 0, 0, 1, 1]


def test_the_rate_allows_more_in_the_next_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_logs, "RATE", 1)
    monkeypatch.setattr(_logs, "WINDOW_SECONDS", 0.0)
    hot_reload = app()
    with TestClient(hot_reload) as client, tab(client) as (page, socket):
        client.get("/api", headers={HEADER: page})

        [message] = fenced(hot_reload, socket)[1:]

    assert message["dropped"] == 0


def test_budgets_of_gone_pages_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_logs, "MAX_WAITING", 1)
    monkeypatch.setattr(_logs, "WINDOW_SECONDS", 0.0)
    hot_reload = app()
    with TestClient(hot_reload) as client:
        for _ in range(6):
            client.get("/")
    consoles = hot_reload._routes.consoles
    assert consoles is not None
    assert len(consoles._budgets) <= 5


def test_an_exception_while_rendering_reaches_the_error_page_console() -> None:
    hot_reload = app()
    with TestClient(hot_reload, raise_server_exceptions=False) as client:
        page = client.get("/fail", headers={"accept": "text/html"})
        assert page.status_code == 500
        with client.websocket_connect(f"/__hot_reload__/ws?page={page_id(page.text)}") as socket:
            socket.receive_json()
            [record] = socket.receive_json()["records"]

    assert record["level"] == "ERROR"
    assert record["method"] == "error"
    assert record["request"] == "GET /fail"
    assert record["text"].startswith("Traceback (most recent call last):")
    assert record["text"].endswith("RuntimeError: render failed")


def test_info_is_left_out_by_default_and_in_when_asked() -> None:
    views.setLevel(logging.INFO)
    try:
        with TestClient(app(browser_logs="info")) as client, tab(client) as (_, socket):
            records = socket.receive_json()["records"]
    finally:
        views.setLevel(logging.NOTSET)

    assert [record["method"] for record in records] == ["warn", "info"]


def test_browser_logs_off_captures_nothing_and_tags_have_no_page_id() -> None:
    hot_reload = app(browser_logs=False)
    with TestClient(hot_reload) as client:
        page = client.get("/").text
        with client.websocket_connect("/__hot_reload__/ws") as socket:
            socket.receive_json()
            assert fenced(hot_reload, socket) == []

    assert "data-page" not in page


def test_pages_of_other_origins_get_no_page_id() -> None:
    with TestClient(app()) as client:
        page = client.get("/", headers={"origin": "http://evil.example"}).text
        same = client.get("/", headers={"origin": "http://localhost"}).text

    assert "data-page" not in page
    assert "data-page" in same


def test_a_malformed_page_header_sends_records_to_the_new_page() -> None:
    hot_reload = app()
    with TestClient(hot_reload) as client, tab(client) as (_, socket):
        fenced(hot_reload, socket)
        page = page_id(client.get("/", headers={HEADER: "<not an id>"}).text)
        with client.websocket_connect(f"/__hot_reload__/ws?page={page}") as late:
            late.receive_json()
            assert late.receive_json()["records"][0]["text"] == "rendering index"


@pytest.mark.parametrize(
    ("value", "level"),
    [("WARNING", 30), ("info", 20), (15, 15), (True, 30), (False, None)],
)
def test_browser_logs_option_reads_levels(value: str | int | bool, level: int | None) -> None:
    assert browser_level(value) == level


@pytest.mark.parametrize("value", ["LOUD", -1, "Level 5"])
def test_bad_browser_logs_value_is_a_value_error_at_construction(value: str | int) -> None:
    with pytest.raises(ValueError, match=f"browser_logs: expected a level .* got {value!r}"):
        app(browser_logs=value)


def record(
    level: int, msg: str, *args: object, name: str = "app", exc_info: Any = None
) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args, exc_info)


def capture_at(level: int) -> Capture:
    """A request's capture, outside any request: records are added to it by hand."""
    return Consoles(Hub(), level).capture({"method": "GET", "path": "/", "headers": []})


def test_capture_keeps_its_level_and_up_and_leaves_out_access_lines() -> None:
    capture = capture_at(logging.WARNING)
    capture.add(record(logging.INFO, "below"))
    capture.add(record(logging.WARNING, "access", name="uvicorn.access"))
    capture.add(record(logging.CRITICAL, "kept"))
    capture.add(record(5, "custom", name="low"))

    assert [(r["text"], r["method"]) for r in capture.records] == [("kept", "error")]
    low = capture_at(1)
    low.add(record(5, "custom"))
    assert low.records[0]["method"] == "debug"


def test_capture_is_bounded_in_records_and_characters() -> None:
    capture = capture_at(logging.WARNING)
    for _ in range(_logs.MAX_RECORDS + 3):
        capture.add(record(logging.WARNING, "x" * (_logs.MAX_CHARS + 10)))

    assert len(capture.records) == _logs.MAX_RECORDS
    assert capture.dropped == 3
    assert len(capture.records[0]["text"]) == _logs.MAX_CHARS
    assert capture.records[0]["text"].endswith("x…")


def test_capture_survives_a_bad_format_string_and_shows_exc_info() -> None:
    capture = capture_at(logging.WARNING)
    capture.add(record(logging.WARNING, "%d apples", "many"))
    try:
        raise KeyError("gone")
    except KeyError:
        capture.add(record(logging.ERROR, "lookup failed", exc_info=sys.exc_info()))

    assert capture.records[0]["text"] == "%d apples"
    assert capture.records[1]["text"].startswith("lookup failed\nTraceback")
    assert capture.records[1]["text"].endswith("KeyError: 'gone'")


def test_a_long_exception_keeps_its_end() -> None:
    capture = capture_at(logging.WARNING)
    capture.add_exception(ValueError("y" * _logs.MAX_CHARS + " the end"))

    [entry] = capture.records
    assert entry["text"].startswith("…")
    assert entry["text"].endswith(" the end")
    assert len(entry["text"]) == _logs.MAX_CHARS


def test_the_record_factory_is_installed_once_and_keeps_the_one_before() -> None:
    made: list[str] = []
    before = logging.getLogRecordFactory()

    def outer(*args: Any, **kwargs: Any) -> logging.LogRecord:
        made.append(args[0])
        return before(*args, **kwargs)

    logging.setLogRecordFactory(outer)
    try:
        app()
        app()
        factory = logging.getLogRecordFactory()
        assert factory is not outer and getattr(factory, "_hot_reload", False)
        app()
        assert logging.getLogRecordFactory() is factory
        views.warning("made")
        assert made == ["app.views"]
    finally:
        logging.setLogRecordFactory(before)


WARNING_ROUTE = """

import logging


@app.get("/warn")
async def warn(request: Request) -> int:
    logging.getLogger("app.views").warning("low on %s", request.query_params["what"])
    return os.getpid()
"""


def test_real_server_sends_a_views_warning_to_its_tab_and_still_prints_it(app_dir: Path) -> None:
    app_py = app_dir / "app.py"
    app_py.write_text(app_py.read_text() + WARNING_ROUTE)
    server = Server(app_dir)
    try:
        page = page_id(server.get("/").text)
        with connect(f"{server.ws_url}?page={page}", open_timeout=10) as socket:
            assert json.loads(socket.recv(timeout=10))["type"] == "hello"
            headers = {HEADER: page}
            httpx.get(server.url + "/warn?what=disk", headers=headers, timeout=10)

            message = json.loads(socket.recv(timeout=10))

        assert message["records"][0]["text"] == "low on disk"
        assert message["records"][0]["request"] == "GET /warn"
        server.wait_for_log(r"^low on disk$")  # Python's own stderr output is untouched
    finally:
        server.stop()
