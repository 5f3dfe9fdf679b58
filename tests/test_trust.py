"""Who sees hot reload: trusted hosts, allowed origins, the error page only for pages."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import jinja2
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from fastapi_hot_reload import HotReload
from fastapi_hot_reload._middleware.trust import MAX_REFUSED, Trust

from .support.server import Server

PAGE = "<html><body><p>hi</p></body></html>"
#: What a browser's navigation asks for.
HTML = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
TRUSTED = ["localhost", "localhost:8000", "LOCALHOST.", "app.localhost:5000", "a.b.localhost",
           "127.0.0.1:8000", "[::1]:8000", "[::1]", "192.168.1.20:8000", "10.0.0.2"]  # fmt: skip


def boom(request: Request) -> Response:
    raise RuntimeError("postgres://admin:s3cret@db/shop is down")


def site(**options: object) -> HotReload:
    routes = [Route("/", lambda r: HTMLResponse(PAGE)), Route("/boom", boom)]
    return HotReload(Starlette(routes=routes), **options)  # type: ignore[arg-type]


def client_for(host: str, **options: object) -> TestClient:
    client = TestClient(site(**options), raise_server_exceptions=False)
    client.headers["host"] = host
    return client


@pytest.mark.parametrize("host", TRUSTED)
def test_trusted_hosts_get_the_tag_the_client_and_the_socket(host: str) -> None:
    with client_for(host) as client:
        assert "data-hot-reload" in client.get("/").text
        assert client.get("/__hot_reload__/client/main.js").status_code == 200
        assert client.post("/__hot_reload__/notify").status_code == 200
        with client.websocket_connect("/__hot_reload__/ws", headers={"host": host}) as ws:
            assert ws.receive_json()["type"] == "hello"


def test_other_hosts_get_the_apps_own_error_response() -> None:
    response = client_for("shop.example.com").get("/boom", headers=HTML)

    assert response.status_code == 500
    assert response.text == "Internal Server Error"


def test_api_clients_get_the_apps_own_error_response_even_from_localhost() -> None:
    response = client_for("localhost").get("/boom", headers={"accept": "application/json"})

    assert response.status_code == 500
    assert response.text == "Internal Server Error"


def test_api_clients_of_a_fastapi_app_get_its_own_error_response() -> None:
    app = FastAPI()

    @app.get("/api")
    async def api() -> None:
        raise RuntimeError("postgres://admin:s3cret@db/shop is down")

    app.add_middleware(HotReload)
    client = TestClient(app, raise_server_exceptions=False)
    response = client.get("/api")
    page = client.get("/api", headers=HTML)

    assert (response.status_code, response.text) == (500, "Internal Server Error")
    assert page.status_code == 500
    assert "s3cret" in page.text  # the developer's own browser on localhost sees the details


def test_pages_from_localhost_get_the_error_page() -> None:
    response = client_for("localhost:8000").get("/boom", headers=HTML)

    assert response.status_code == 500
    assert "RuntimeError: postgres://admin:s3cret@db/shop is down" in response.text


@pytest.mark.parametrize(
    ("allowed", "host"),
    [(["dev.example.test"], "dev.example.test:8000"), (["DEV.example.test."], "dev.example.test"),
     ([".example.test"], "example.test"), ([".example.test"], "a.b.example.test:443"),
     (["*.example.test"], "a.example.test"),
     (["*"], "anything.example")],
)  # fmt: skip
def test_allowed_hosts_open_it_to_more_names(allowed: list[str], host: str) -> None:
    assert "data-hot-reload" in client_for(host, allowed_hosts=allowed).get("/").text


@pytest.mark.parametrize(
    ("allowed", "host"),
    [(["dev.example.test"], "a.dev.example.test"), ([".example.test"], "badexample.test"),
     ([".example.test"], "example.test.evil")],
)  # fmt: skip
def test_allowed_hosts_match_whole_names_only(allowed: list[str], host: str) -> None:
    assert "data-hot-reload" not in client_for(host, allowed_hosts=allowed).get("/").text


@pytest.mark.parametrize("value", ["*", " * "])
def test_only_a_lone_star_means_any_host(value: str) -> None:
    assert "data-hot-reload" in client_for("any.example", allowed_hosts=[value]).get("/").text


def test_a_foreign_origin_gets_no_tag_and_no_socket() -> None:
    with client_for("localhost:8000") as client:
        foreign = {"origin": "http://evil.example", "host": "localhost:8000"}
        assert "data-hot-reload" not in client.get("/", headers=foreign).text
        with (
            pytest.raises(WebSocketDisconnect),
            client.websocket_connect("/__hot_reload__/ws", headers=foreign),
        ):
            pass  # pragma: no cover - the handshake fails
        own = {"origin": "http://localhost:8000", "host": "localhost:8000"}
        assert "data-hot-reload" in client.get("/", headers=own).text


def test_allowed_origins_widen_the_origin_check() -> None:
    with client_for("localhost:8000", allowed_origins=["https://Dev.example:8443/"]) as client:
        headers = {"origin": "https://dev.example:8443", "host": "localhost:8000"}
        with client.websocket_connect("/__hot_reload__/ws", headers=headers) as ws:
            assert ws.receive_json()["type"] == "hello"


def scope(host: bytes, origin: bytes | None = None) -> dict[str, object]:
    headers = [(b"host", host)] + ([(b"origin", origin)] if origin else [])
    return {"type": "http", "headers": headers}


def test_each_refused_host_is_logged_once_with_the_option_to_set(
    caplog: pytest.LogCaptureFixture,
) -> None:
    trust = Trust()
    with caplog.at_level(logging.WARNING, "fastapi_hot_reload"):
        assert not trust.allows(scope(b"evil.example:8000"))
        assert not trust.allows(scope(b"evil.example:8000"))
    assert caplog.messages == [
        "hot reload refused host 'evil.example:8000' (add 'evil.example' to allowed_hosts if it "
        "is your development server)"
    ]


def test_refused_hosts_and_origins_are_remembered_and_logged_up_to_a_cap(
    caplog: pytest.LogCaptureFixture,
) -> None:
    trust = Trust()
    with caplog.at_level(logging.WARNING, "fastapi_hot_reload"):
        for n in range(2_000):
            assert not trust.allows(scope(f"evil{n}.example".encode()))
            assert not trust.allows(scope(b"localhost", f"http://evil{n}.example".encode()))
    assert len(caplog.messages) == MAX_REFUSED + 1
    assert caplog.messages[-1] == (
        f"hot reload refused more than {MAX_REFUSED} different hosts and origins; "
        "not logging further ones"
    )
    assert len(trust._refused) == MAX_REFUSED
    assert len(trust._known_hosts) <= MAX_REFUSED


def test_a_refused_value_cannot_forge_log_lines(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "fastapi_hot_reload"):
        Trust().allows(scope(b"evil\r\nINFO:     reload (rev 1): " + b"x" * 500))
    assert len(caplog.text.splitlines()) == 1
    assert "'evil\\r\\ninfo:     reload (rev 1): xxx" in caplog.text
    assert "x" * 101 not in caplog.text


# Real uvicorn, real sockets: the Host and Origin a browser would send.


@pytest.fixture
def port(server: Server) -> int:
    return int(server.url.rpartition(":")[2])


def ws_hello(port: int, host: str, origin: str | None = None) -> str:
    """The first message on the hot reload socket, asked for as ``host``, over 127.0.0.1."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    headers = {"Origin": origin} if origin else {}
    with connect(
        f"ws://127.0.0.1:{port}/__hot_reload__/ws",
        sock=sock,
        additional_headers={"Host": host, **headers},
        open_timeout=10,
    ) as ws:
        return str(ws.recv(timeout=10))


@pytest.mark.parametrize("name", ["localhost", "127.0.0.1", "[::1]", "app.localhost"])
def test_real_server_answers_its_own_names(server: Server, port: int, name: str) -> None:
    host = f"{name}:{port}"
    page = httpx.get(f"{server.url}/", headers={"host": host}, timeout=10)
    assert "data-hot-reload" in page.text
    assert '"hello"' in ws_hello(port, host, origin=f"http://{host}")


@pytest.mark.parametrize(
    ("host", "origin"),
    [("evil.example:{port}", "http://evil.example:{port}"),  # DNS rebinding
     ("evil.example:{port}", None), ("localhost:{port}", "http://evil.example:{port}"),
     ("localhost:{port}", "null"), ("127.0.0.1:{port}", "http://localhost:{port}")],
)  # fmt: skip
def test_real_server_refuses_other_names_and_origins(
    server: Server, port: int, host: str, origin: str | None
) -> None:
    host, origin = host.format(port=port), origin and origin.format(port=port)
    with pytest.raises(InvalidStatus) as refused:
        ws_hello(port, host, origin)
    assert refused.value.response.status_code == 403
    headers = {"host": host, **({"origin": origin} if origin else {})}
    page = httpx.get(f"{server.url}/", headers=headers, timeout=10)
    assert page.status_code == 200
    assert "data-hot-reload" not in page.text


@pytest.fixture
def custom_host_server(app_dir: Path) -> Iterator[Server]:
    app = app_dir / "app.py"
    app.write_text(
        app.read_text().replace(
            'watch=["static"]', 'watch=["static"], allowed_hosts=["myapp.test"]'
        )
    )
    running = Server(app_dir)
    yield running
    running.stop()


def test_real_server_answers_an_allowed_custom_name(custom_host_server: Server) -> None:
    port = int(custom_host_server.url.rpartition(":")[2])
    host = f"myapp.test:{port}"
    assert '"hello"' in ws_hello(port, host, origin=f"http://{host}")
    with pytest.raises(InvalidStatus):
        ws_hello(port, f"other.test:{port}")


def test_a_changed_file_name_cannot_forge_log_lines(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = site(watch=[tmp_path])
    with (
        caplog.at_level(logging.INFO, "fastapi_hot_reload"),
        TestClient(app) as client,
        client.websocket_connect("/__hot_reload__/ws") as ws,
    ):
        ws.receive_json()
        (tmp_path / "a\nINFO:     reload (rev 9, 9 tabs): b.js").write_text("")
        assert ws.receive_json()["type"] == "reload"
    line = next(message for message in caplog.messages if message.startswith("reload"))
    assert line == "reload (rev 1, 1 tabs): 'a\\nINFO:     reload (rev 9, 9 tabs): b.js'"


def test_a_hand_placed_tag_renders_nothing_for_other_hosts() -> None:
    env = jinja2.Environment(
        loader=jinja2.DictLoader({"p": "<body>{{ hot_reload_script() }}</body>"})
    )

    def endpoint(request: Request) -> Response:
        return HTMLResponse(env.get_template("p").render(request=request))

    app = HotReload(Starlette(routes=[Route("/", endpoint)]), templates=env)
    with TestClient(app) as client:
        assert client.get("/", headers={"host": "shop.example"}).text == "<body></body>"
        assert "data-hot-reload" in client.get("/", headers={"host": "localhost"}).text
