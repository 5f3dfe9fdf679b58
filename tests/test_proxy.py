"""A request that came through a reverse proxy is a stranger unless the options name it."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from fastapi_hot_reload import HotReload

from .support.apps import write_app
from .support.nginx import PROXY_PARAMS, Nginx
from .support.server import Server

PAGE = "<html><body><p>hi</p></body></html>"
HTML = {"accept": "text/html"}
SECRET = "postgres://admin:s3cret@db/shop"
PROXIED = [
    {"x-forwarded-for": "203.0.113.7"},
    {"x-forwarded-host": "localhost"},
    {"x-forwarded-proto": "https"},
    {"x-real-ip": "203.0.113.7"},
    {"forwarded": "for=203.0.113.7;host=localhost;proto=http"},
    {"via": "1.1 nginx"},
]


def boom(request: Request) -> Response:
    raise RuntimeError(f"{SECRET} is down")


def client(**options: object) -> TestClient:
    routes = [Route("/", lambda r: HTMLResponse(PAGE)), Route("/boom", boom)]
    app = HotReload(Starlette(routes=routes), **options)  # type: ignore[arg-type]
    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("headers", PROXIED, ids=lambda headers: next(iter(headers)))
@pytest.mark.parametrize("host", ["localhost", "127.0.0.1:8000", "10.0.0.1", "x.localhost"])
def test_a_proxied_request_to_a_local_name_is_a_stranger(
    caplog: pytest.LogCaptureFixture, headers: dict[str, str], host: str
) -> None:
    name = next(iter(headers))
    headers = {"host": host, **headers, **HTML}
    with caplog.at_level(logging.WARNING, "fastapi_hot_reload"), client() as http:
        assert http.get("/", headers=headers).text == PAGE
        failed = http.get("/boom", headers=headers)
        assert failed.status_code == 500
        assert SECRET not in failed.text
        assert "Traceback" not in failed.text
        assert http.get("/__hot_reload__/client/main.js", headers=headers).status_code == 403
        with (
            pytest.raises(WebSocketDisconnect),
            http.websocket_connect("/__hot_reload__/ws", headers=dict(headers)),
        ):
            pass  # pragma: no cover - the handshake fails
    served = "localhost" if name in ("x-forwarded-host", "forwarded") else host
    assert caplog.messages == [  # once, however often refused
        f"hot reload refused a request through a proxy (it carries {name}) for host "
        f"{served!r} (name that host in allowed_hosts, or the origin the proxy serves in "
        "allowed_origins, if the proxy is your development setup)"
    ]


@pytest.mark.parametrize(
    ("options", "headers"),
    [
        ({"allowed_hosts": ["dev.example"]}, {"host": "dev.example:8443", "x-real-ip": "1.2.3.4"}),
        ({"allowed_hosts": [".example"]}, {"host": "dev.example", "via": "1.1 nginx"}),
        ({"allowed_hosts": ["*"]}, {"host": "localhost", "x-forwarded-for": "1.2.3.4"}),
        ({"allowed_hosts": ["dev.example"]},
         {"host": "127.0.0.1:8000", "x-forwarded-host": "dev.example:8443"}),
        ({"allowed_hosts": ["dev.example"]},
         {"host": "127.0.0.1:8000", "forwarded": 'for=1.2.3.4;host="dev.example:8443"'}),
        ({"allowed_origins": ["https://dev.example:8443"]},
         {"host": "localhost", "x-forwarded-host": "dev.example:8443", "x-forwarded-proto": "https"}),  # noqa: E501
        ({"allowed_origins": ["https://dev.example:8443"]},
         {"host": "localhost", "forwarded": "host=dev.example:8443;proto=https"}),
    ],
)  # fmt: skip
def test_a_proxy_the_options_name_is_trusted(
    options: dict[str, object], headers: dict[str, str]
) -> None:
    with client(**options) as http:
        assert "data-hot-reload" in http.get("/", headers={**headers, **HTML}).text
        failed = http.get("/boom", headers={**headers, **HTML})
        assert SECRET in failed.text  # the development error page
        with http.websocket_connect("/__hot_reload__/ws", headers=headers) as ws:
            assert ws.receive_json()["type"] == "hello"


@pytest.mark.parametrize(
    ("options", "headers"),
    [
        ({"allowed_hosts": ["dev.example"]}, {"host": "localhost", "x-forwarded-host": "evil.example"}),  # noqa: E501
        ({"allowed_origins": ["https://dev.example:8443"]},
         {"host": "localhost", "x-forwarded-host": "dev.example:8443", "x-forwarded-proto": "http"}),  # noqa: E501
        ({"allowed_origins": ["https://dev.example:8443"]}, {"host": "localhost", "x-real-ip": "1.2.3.4"}),  # noqa: E501
    ],
)  # fmt: skip
def test_a_proxy_for_a_name_the_options_do_not_give_is_refused(
    options: dict[str, object], headers: dict[str, str]
) -> None:
    with client(**options) as http:
        assert http.get("/", headers={**headers, **HTML}).text == PAGE


@pytest.mark.parametrize(
    ("origin", "headers", "allowed"),
    [
        ("http://localhost:8000", {}, True),
        ("https://localhost:8000", {}, False),  # the scheme counts
        ("ws://localhost:8000", {}, False),
        ("http://localhost:8001", {}, False),
        ("https://dev.example:8443", {"x-forwarded-proto": "https"}, True),
        ("http://dev.example:8443", {"x-forwarded-proto": "https"}, True),  # the server's own
        ("ftp://dev.example:8443", {"x-forwarded-proto": "https"}, False),
    ],
)  # fmt: skip
def test_the_origin_check_compares_scheme_host_and_port(
    origin: str, headers: dict[str, str], allowed: bool
) -> None:
    host = "localhost:8000" if "localhost" in origin else "dev.example:8443"
    with client(allowed_hosts=["dev.example"]) as http:
        sent = {"host": host, "origin": origin, **headers}
        assert (http.post("/__hot_reload__/notify", headers=sent).status_code == 200) is allowed


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[Server]:
    """A plain ``uvicorn app:app`` with hot reload turned on by the environment variable."""
    routes = (
        f'\n\n@app.get("/boom")\nasync def boom() -> None:\n    raise RuntimeError("{SECRET}")\n'
    )
    server = Server(write_app(tmp_path / "app", routes=routes))
    yield server
    server.stop()


def through(proxy: Nginx, host: str, origin: str | None = None) -> ClientConnection:
    """A websocket to hot reload through ``proxy``, asking for ``host`` (its ``Host``)."""
    return connect(
        f"ws://{host}/__hot_reload__/ws",
        sock=socket.create_connection(("127.0.0.1", proxy.port), 10),
        open_timeout=10,
        origin=origin,  # type: ignore[arg-type]
    )


def test_behind_a_real_nginx_a_visitor_gets_the_app_as_without_hot_reload(
    tmp_path: Path, upstream: Server
) -> None:
    """Debian's usual ``proxy_params``: a visitor who sends ``Host: localhost`` is still one."""
    proxy = Nginx(tmp_path / "nginx", upstream.port, PROXY_PARAMS)
    try:
        headers = {"host": "localhost", **HTML}
        page = httpx.get(proxy.url, headers=headers, timeout=10)
        assert page.status_code == 200
        assert "<h1" in page.text
        assert "data-hot-reload" not in page.text
        failed = httpx.get(f"{proxy.url}/boom", headers=headers, timeout=10)
        assert failed.status_code == 500
        assert SECRET not in failed.text
        with pytest.raises(InvalidStatus) as refused:
            through(proxy, "localhost")
        assert refused.value.response.status_code == 403
    finally:
        proxy.stop()
    upstream.wait_for_log("refused a request through a proxy \\(it carries x-real-ip\\)")
    assert upstream.get("/", headers=HTML).text.count("data-hot-reload") == 1  # direct: on


def test_behind_a_real_nginx_the_host_named_in_allowed_hosts_works(tmp_path: Path) -> None:
    app = write_app(tmp_path / "app")
    source = (app / "app.py").read_text()
    named = 'watch=["static"], allowed_hosts=["dev.example"]'
    (app / "app.py").write_text(source.replace('watch=["static"]', named))
    upstream = Server(app)
    proxy = Nginx(tmp_path / "nginx", upstream.port, PROXY_PARAMS)
    try:
        page = httpx.get(proxy.url, headers={"host": "dev.example", **HTML}, timeout=10)
        assert "data-hot-reload" in page.text
        with through(proxy, "dev.example", origin="http://dev.example") as tab:
            assert '"hello"' in str(tab.recv(timeout=10))
    finally:
        proxy.stop()
        upstream.stop()
