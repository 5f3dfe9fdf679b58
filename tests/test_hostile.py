"""Hostile input, door by door: one row per thing a stranger, a careless proxy, a broken client
or a mistyped setting sends, and what it must get. Refused or passed on untouched, or a clear
error naming it; never a 500, never a secret, and the next request is served as before.

The rows are the review's (issue 22) and those that came after; the behaviour each door has
for good input is tested beside its module (``test_trust``, ``test_proxy``, ``test_notify``...).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.types import Message
from starlette.websockets import WebSocketDisconnect

from fastapi_hot_reload import HotReload
from fastapi_hot_reload._middleware.inject import Injector
from fastapi_hot_reload._middleware.notify import notify_response

PAGE = "<html><body><p>hi</p></body></html>"
SECRET = "postgres://admin:s3cret@db/shop"
HTML = {"accept": "text/html"}
CLIENT, NOTIFY, WS, EVENTS = (f"/__hot_reload__/{route}" for route in
                              ("client/main.js", "notify", "ws", "events"))  # fmt: skip


def boom(request: Request) -> Response:
    raise RuntimeError(f"{SECRET} is down")


def site(**options: object) -> HotReload:
    routes = [Route("/", lambda r: HTMLResponse(PAGE)), Route("/boom", boom)]
    return HotReload(Starlette(routes=routes), **options)  # type: ignore[arg-type]


@pytest.fixture
def http() -> Iterator[TestClient]:
    with TestClient(site(), raise_server_exceptions=False) as client:
        client.headers["host"] = "localhost"
        yield client


def served_as_before(http: TestClient) -> None:
    """The door that was hit kept nothing broken: a page and a socket work as before."""
    assert "data-hot-reload" in http.get("/").text
    with http.websocket_connect(WS) as socket:
        assert socket.receive_json()["type"] == "hello"


# A Host no development server of this machine answers to (DNS rebinding, a shared LAN name).
STRANGE_HOSTS = [
    "evil.example", "evil.example:8000", "localhost.evil.example", "evillocalhost",
    "127.0.0.1.nip.io", "testserver", "[::1", "::1", "0x7f.1", "", "localhost:8000@evil.example",
    "evil.example#.localhost", "localhost:abc", "localhost:8o", "xn--localhost-.example",
    "local host", "localhost\\evil.example", "[::1]evil.example", "127.1", "2130706433",
    "0177.0.0.1", "[::ffff:evil]", "localhost.", "*.localhost",
]  # fmt: skip
STRANGE_HOSTS.remove("localhost.")  # the trailing dot is the same name (tested as trusted)


@pytest.mark.parametrize("host", STRANGE_HOSTS)
def test_a_strange_host_gets_the_app_untouched_and_every_door_shut(
    caplog: pytest.LogCaptureFixture, host: str
) -> None:
    with (
        caplog.at_level(logging.WARNING),
        TestClient(site(), raise_server_exceptions=False) as client,
    ):
        client.headers["host"] = host
        page = client.get("/", headers=HTML)
        failed = client.get("/boom", headers=HTML)
        assert client.get(CLIENT).status_code == 403
        assert client.post(NOTIFY).status_code == 403
        assert client.get(EVENTS).status_code == 403
        with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect(WS):
            pass  # pragma: no cover - the handshake fails
        client.headers["host"] = "localhost"
        served_as_before(client)

    assert page.content == PAGE.encode()
    assert page.headers["content-length"] == str(len(PAGE))
    assert failed.status_code == 500 and SECRET not in failed.text
    assert refused.value.code == 1008
    told = [message for message in caplog.messages if "refused host" in message]
    assert len(told) == 1 and "add '' to" not in told[0]  # a fix the user can follow


PROXY_HEADERS = [
    {"x-forwarded-for": "203.0.113.7"}, {"x-forwarded-host": "localhost"},
    {"x-forwarded-proto": "https"}, {"x-real-ip": "203.0.113.7"},
    {"forwarded": "for=203.0.113.7;host=localhost;proto=http"}, {"via": "1.1 nginx"},
    {"X-Forwarded-For": "127.0.0.1"}, {"forwarded": "for=127.0.0.1"}, {"via": ""},
]  # fmt: skip
LOCAL_NAMES = ["localhost", "127.0.0.1:8000", "10.0.0.1", "x.localhost", "[::1]:8000"]


@pytest.mark.parametrize("headers", PROXY_HEADERS, ids=lambda headers: repr(headers)[:40])
@pytest.mark.parametrize("host", LOCAL_NAMES)
def test_a_request_through_a_proxy_is_a_stranger_whatever_host_it_names(
    http: TestClient, headers: dict[str, str], host: str
) -> None:
    """nginx sends ``Host: 127.0.0.1:8000`` upstream, or the visitor's own ``Host: localhost``."""
    sent = {"host": host, **headers, **HTML}

    assert http.get("/", headers=sent).text == PAGE
    failed = http.get("/boom", headers=sent)
    assert failed.status_code == 500 and SECRET not in failed.text
    assert http.get(CLIENT, headers=sent).status_code == 403
    with pytest.raises(WebSocketDisconnect), http.websocket_connect(WS, headers=sent):
        pass  # pragma: no cover - the handshake fails
    served_as_before(http)


FOREIGN_ORIGINS = [
    "http://evil.example", "null", "http://localhost:8001", "https://localhost:8000",
    "ws://localhost:8000", "file://", "http://localhost:8000.evil.example",
    "http://evil.example:8000", "http://localhost", "chrome-extension://abcdef",
    "http://user@localhost:8000", "HTTP://evil.example", "http://localhost:8000:8000",
]  # fmt: skip


@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
def test_another_sites_origin_is_refused_the_socket_the_stream_and_notify(
    http: TestClient, origin: str
) -> None:
    sent = {"host": "localhost:8000", "origin": origin}

    assert http.post(NOTIFY, headers=sent).status_code == 403
    assert http.get(EVENTS, headers=sent).status_code == 403
    with pytest.raises(WebSocketDisconnect), http.websocket_connect(WS, headers=sent):
        pass  # pragma: no cover - the handshake fails
    served_as_before(http)


HOST_ERROR = "allowed_hosts: expected a host name"
ORIGIN_ERROR = "allowed_origins: expected an origin like"
EDITOR_ERROR = "is neither an editor"
PATH_ERROR = "path: expected a plain absolute URL path"
ACCEPTED = "expected 1, true, yes, on \\(on\\) or 0, false, no, off \\(off\\)"
BAD_SETTINGS = [
    *[("allowed_hosts", [value], HOST_ERROR) for value in (
        "http://dev.example", "dev.example:8000", "dev.example/", "user@dev", "*example", "*.",
        ".", "..", "*..", "**", "*.*", "dev example", "[::1]:80")],
    *[("allowed_origins", [value], ORIGIN_ERROR) for value in (
        "dev.example", "https://", "ftp://dev.example", "https://dev.example/app",
        "https://dev.example?x", "https://user@dev.example", "*", "https://*.example",
        "chrome-extension://abc", "https://dev.example#x", "javascript://dev.example")],
    ("allowed_origins", ["null"], "'null' is the origin of every sandboxed iframe"),
    *[(option, value, "expected .*strings, got") for option in ("allowed_hosts", "allowed_origins")
      for value in ("dev.example", [""], [" "], [None], [b"dev.example"])],
    *[("editor", value, message) for value, message in (
        ("vscdoe", EDITOR_ERROR), ("/open?file={file}", EDITOR_ERROR),
        ("my://open?line={line}", EDITOR_ERROR),
        ("my://{file}:{row}", r"uses \{row\}: only \{file\} and \{line\} exist"),
        ("my://{file}:{}", r"uses \{\}: only"), ("my://{file}:{line", "is not a valid URL"),
        ("javascript:alert(1)//{file}", "is a javascript: URL, which would run in the page"),
        ("JavaScript:alert(1)//{file}", "is a javascript: URL"),
        (" javascript:alert(1)//{file}", "is a javascript: URL"),
        ("data:text/html,<script>alert(1)</script>{file}", "is a data: URL"),
        ("vbscript:msgbox({file})", "is a vbscript: URL"), ("file://{file}", "is a file: URL"),
        ("FILE:///{file}", "is a file: URL"),
        ("java\tscript:alert(1)//{file}", "has spaces or control characters"),
        ("java\nscript:alert(1)//{file}", "has spaces or control characters"),
        ("my://open?file={file} &line={line}", "has spaces or control characters"))],
    *[("path", value, PATH_ERROR) for value in (
        "", "hot", "/", "/hot/", "//evil.example", "/a//b", "/a\\b", "\\\\evil", "/a?x", "/a#x",
        "/a b", "/a%2fb", "/./a", "/a/..", "/a/../b", "/é", "http://evil.example/x", 42,
        "/a\x00b", "/a\nb")],
]  # fmt: skip


@pytest.mark.parametrize(("option", "value", "message"), BAD_SETTINGS)
def test_a_bad_setting_is_an_error_that_names_it(option: str, value: object, message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message) as error:
        site(**{option: value})
    named = value[0] if isinstance(value, list) else value
    assert str(error.value).startswith(f"{option}: ")
    shown = {repr(named), repr(named.strip()) if isinstance(named, str) else ""}
    assert any(text and text in str(error.value) for text in shown)  # the value, maybe trimmed


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [*[("FASTAPI_HOT_RELOAD", value, ACCEPTED) for value in
       ("disable", "disabled", "n", "f", "none", "2", "of", "1 1", "ON!")],
     ("FASTAPI_HOT_RELOAD_EDITOR", "notepad", EDITOR_ERROR),
     ("FASTAPI_HOT_RELOAD_EDITOR", "javascript:alert(1)//{file}", "is a javascript: URL")],
)  # fmt: skip
def test_a_bad_environment_variable_is_an_error_that_names_it(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=message) as error:
        site()
    assert variable in str(error.value)


@pytest.mark.parametrize(
    ("query", "rev"),
    [("rev=%C2%B2", None), ("rev=" + "9" * 5000, None), ("rev=-1", None), ("rev=1e3", None),
     ("rev=", None), ("rev=0x10", None), ("rev=%00", None), ("rev=1&rev=2", 1),
     ("page=" + "x" * 5000, None), ("page=%3Cscript%3E", None), ("page=%FF%FE", None),
     ("origin=javascript:alert(1)", None), ("%ZZ=%ZZ", None), ("rev=%F0%9F%92%A9", None)],
)  # fmt: skip
def test_junk_in_a_tabs_query_gets_a_plain_hello(http: TestClient, query: str, rev: int) -> None:
    """A ``rev`` that is no whole number is no rev: the tab gets ``hello`` and nothing missed."""
    with http.websocket_connect(f"{WS}?{query}") as socket:
        hello = socket.receive_json()
    with http.stream("GET", f"{EVENTS}?{query}", headers={"origin": "http://localhost"}) as stream:
        status = stream.status_code
        first = next(stream.iter_lines())

    assert hello["type"] == "hello" and "missed" not in hello
    assert status == 200 and first.startswith(("event:", "data:", ":", "retry:"))
    served_as_before(http)


DEEP = b"[" * 100_000 + b"]" * 100_000
BAD_NOTIFY_BODIES = [
    (b"{not json", 400, "body is not JSON"), (b"\xff\xfe", 400, "body is not JSON"),
    (b"null", 400, "expected an object"), (b'"index.html"', 400, "expected an object"),
    (b'["index.html"]', 400, "expected an object"), (b"[]", 400, "expected an object"),
    (b'{"path": ["index.html"]}', 400, "expected an object with only a 'paths' key"),
    (b'{"paths": "index.html"}', 400, "expected a list of non-empty strings"),
    (b'{"paths": [""]}', 400, "expected a list of non-empty strings"),
    (b'{"paths": [1]}', 400, "expected a list of non-empty strings"),
    (b'{"paths": [null]}', 400, "expected a list of non-empty strings"),
    (b'{"paths": {"a": 1}}', 400, "expected a list of non-empty strings"),
    (b'{"paths": ["\\ud800"]}', 400, "paths: expected text"),
    (b'{"paths": [NaN]}', 400, "expected a list of non-empty strings"),
    (b'{"paths": ' + b"[" * 30_000 + b"]" * 30_000 + b"}", 400, "nested too deeply"),
    (DEEP, 413, "body too large"), (b"x" * 70_000, 413, "body too large"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "status", "reason"), BAD_NOTIFY_BODIES, ids=lambda value: repr(value)[:30]
)
def test_a_bad_notify_body_gets_a_reason_and_changes_nothing(
    http: TestClient, body: bytes, status: int, reason: str
) -> None:
    with http.websocket_connect(WS) as socket:
        socket.receive_json()
        response = http.post(NOTIFY, content=body)
        http.post(NOTIFY, json={"paths": ["after.txt"]})
        after = socket.receive_json()  # the first message since: nothing came of the bad body

    assert response.status_code == status
    assert reason in response.text and len(response.text) < 400
    assert after["paths"] == ["after.txt"] and after["rev"] == 1


async def test_a_notify_whose_client_leaves_mid_body_changes_nothing() -> None:
    """200 aborted POSTs used to reload every tab 200 times (a real server: ``test_notify``)."""
    chunks: list[Message] = [
        {"type": "http.request", "body": b'{"paths": ["a', "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> Message:
        return chunks.pop(0)

    response = await notify_response({"method": "POST"}, receive, None)

    assert response.status_code == 400  # not 503: nothing would have been sent
    assert b"disconnected before its body ended" in response.body


@pytest.mark.parametrize(
    "frame",
    [
        "",
        "not json",
        "{}",
        '{"type": "hello"}',
        '{"type": "reload"}',
        "[" * 10_000,
        "\x00",
        "x" * 1_000_000,
        '{"rev": 1e999}',
    ],
    ids=lambda frame: repr(frame)[:20],
)
def test_what_a_tab_sends_on_its_socket_is_ignored(http: TestClient, frame: str) -> None:
    """The socket is one way: a broken or hostile client's frames change nothing."""
    with http.websocket_connect(WS) as socket, http.websocket_connect(WS) as other:
        socket.receive_json(), other.receive_json()
        socket.send_text(frame)
        socket.send_bytes(frame.encode())
        http.post(NOTIFY, json={"paths": ["after.txt"]})
        assert socket.receive_json()["rev"] == other.receive_json()["rev"] == 1


# What an app's own response may carry that looks like the place for the tag, or lies.
FAKE_BODY_ENDS = [
    (b"<body>a</body><!-- old </body> -->", b"<body>a<tag></body><!-- old </body> -->"),
    (b"<body><textarea></body></textarea></body>", b"<body><textarea></body></textarea><tag></body>"),  # noqa: E501
    (b"<body><TEXTAREA rows=2></BODY></TEXTAREA></BODY>", b"<body><TEXTAREA rows=2></BODY></TEXTAREA><tag></BODY>"),  # noqa: E501
    (b"<body><script>s='</body>'</script></body>", b"<body><script>s='</body>'</script><tag></body>"),  # noqa: E501
    (b"<body><style>/*</body>*/</style></body>", b"<body><style>/*</body>*/</style><tag></body>"),
    (b"<body><script-loader></script-loader></body>", b"<body><script-loader></script-loader><tag></body>"),  # noqa: E501
    (b"<body><!-- a --> b</body>", b"<body><!-- a --> b<tag></body>"),
    (b"<body><!-- </body> -->", b"<body><!-- </body> --><tag>"),  # none is real: at the end
    (b"<body><textarea></body>", b"<body><textarea></body><tag>"),
    (b"<body><title></body></title></body>", b"<body><title></body></title><tag></body>"),
    (b"<body><xmp></body></xmp></body>", b"<body><xmp></body></xmp><tag></body>"),
    (b"<body><noscript></body></noscript></body>", b"<body><noscript></body></noscript><tag></body>"),  # noqa: E501
    (b"<body><iframe></body></iframe></body>", b"<body><iframe></body></iframe><tag></body>"),
]  # fmt: skip


def recording() -> tuple[list[Message], Injector]:
    """An injector for the tag ``<tag>`` whose server records every message it is sent."""
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    return sent, Injector(send, lambda: b"<tag>", head=False)


@pytest.mark.parametrize(("page", "tagged"), FAKE_BODY_ENDS)
async def test_the_tag_goes_before_the_real_closing_body_only(page: bytes, tagged: bytes) -> None:
    sent, injector = recording()
    headers = [(b"content-type", b"text/html"), (b"content-length", str(len(page)).encode())]
    await injector({"type": "http.response.start", "status": 200, "headers": headers})
    await injector({"type": "http.response.body", "body": page})
    assert sent[1]["body"] == tagged


@pytest.mark.parametrize(
    "length", [b"10", b"99", b"0", b"abc", b"-1", b"1_5", b"+15", b"", b"15, 15", b"\xff", b"1e2",
               b" 15", b"9" * 5000]
)  # fmt: skip
async def test_a_length_that_is_not_the_bodys_passes_the_response_as_sent(
    caplog: pytest.LogCaptureFixture, length: bytes
) -> None:
    sent, injector = recording()
    headers = [(b"content-type", b"text/html"), (b"content-length", length)]
    start = {"type": "http.response.start", "status": 200, "headers": headers}
    body = {"type": "http.response.body", "body": b"<body>one</body>", "more_body": False}
    with caplog.at_level(logging.WARNING, "fastapi_hot_reload"):
        await injector(dict(start))
        await injector(dict(body))
        await injector.finish()

    assert sent[0]["headers"][:2] == headers and sent[1] == body  # as the app sent it
    if length.isdigit() and len(length) < 19:  # a number that is not the body's: said once
        assert caplog.messages == [
            f"an HTML response says Content-Length: {int(length)} but its body has 16 bytes: "
            "passed on as the app sent it, without the hot reload script"
        ]
    else:  # no number: nothing to compare, nothing to say
        assert caplog.messages == []
