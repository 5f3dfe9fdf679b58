"""Injection rules, one test per rule, with the exact bytes a browser receives."""

from __future__ import annotations

import gzip
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import jinja2
import pytest
import starlette
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.testclient import TestClient
from starlette.types import Message

from fastapi_hot_reload import HotReload
from fastapi_hot_reload._middleware.inject import Injector, ascii_compatible

BOOT = "b00b"
TAG = (
    '<script type="module" src="/__hot_reload__/client/main.js" data-hot-reload data-boot="b00b" '
    'data-rev="0"></script>'
)


def serve(response: Callable[[Request], Response], **options: object) -> TestClient:
    """The app, with a tag of fixed bytes: no per-page id, which only browser logs use."""
    options = {"browser_logs": False, **options}
    app = HotReload(Starlette(routes=[Route("/", response, methods=["GET", "HEAD"])]), **options)  # type: ignore[arg-type]
    app._running.boot = BOOT
    return TestClient(app)


def html(body: str) -> Callable[[Request], Response]:
    return lambda request: HTMLResponse(body)


def test_tag_goes_before_closing_body() -> None:
    response = serve(html("<html><body><p>hi</p></body></html>")).get("/")

    assert response.content == f"<html><body><p>hi</p>{TAG}</body></html>".encode()
    assert response.headers["content-length"] == str(len(response.content))


def test_tag_goes_before_closing_body_in_any_case() -> None:
    response = serve(html("<BODY>hi</BODY>")).get("/")

    assert response.text == f"<BODY>hi{TAG}</BODY>"


def test_tag_goes_before_the_last_closing_body() -> None:
    page = "<body><pre>&lt;/body&gt; </body> in text</pre></body>"
    response = serve(html(page.replace("&lt;/body&gt; ", ""))).get("/")

    assert response.text == f"<body><pre></body> in text</pre>{TAG}</body>"


def test_tag_goes_at_the_end_of_a_document_without_closing_body() -> None:
    response = serve(html("<!DOCTYPE html><p>page")).get("/")

    assert response.text == f"<!DOCTYPE html><p>page{TAG}"
    assert response.headers["content-length"] == str(len(response.content))


def test_head_request_gets_the_length_of_the_injected_get() -> None:
    client = serve(html("<body>hi</body>"))

    head = client.head("/")

    assert head.content == b""
    assert head.headers["content-length"] == str(len(client.get("/").content))


def test_non_html_response_passes_through_untouched() -> None:
    response = serve(lambda request: JSONResponse({"body": "</body>"})).get("/")

    assert response.content == b'{"body":"</body>"}'


def test_already_compressed_html_passes_through_untouched() -> None:
    packed = gzip.compress(b"<body>hi</body>")
    response = serve(
        lambda request: Response(
            packed, media_type="text/html", headers={"content-encoding": "gzip"}
        )
    ).get("/", headers={"accept-encoding": "identity"})

    assert response.headers["content-length"] == str(len(packed))
    assert response.text == "<body>hi</body>"  # httpx decoded it: no tag was added


def test_empty_status_responses_pass_through_untouched() -> None:
    response = serve(lambda request: Response(status_code=304, media_type="text/html")).get("/")

    assert response.status_code == 304
    assert response.content == b""


def test_page_with_manual_script_is_not_injected_twice(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text("<body>{{ hot_reload_script() }}<p>x</p></body>")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(tmp_path))

    def endpoint(request: Request) -> Response:
        return HTMLResponse(env.get_template("page.html").render(request=request))

    client = serve(endpoint, templates=env)
    with client:
        response = client.get("/")

    boot = client.app._running.boot  # type: ignore[attr-defined]
    assert response.text == f"<body>{TAG.replace(BOOT, boot)}<p>x</p></body>"


def test_manual_script_renders_empty_outside_a_request(tmp_path: Path) -> None:
    env = jinja2.Environment(loader=jinja2.DictLoader({"p": "[{{ hot_reload_script() }}]"}))
    HotReload(Starlette(), templates=env, enabled=False)

    assert env.get_template("p").render() == "[]"


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def test_streamed_html_gets_the_tag_even_when_closing_body_is_split() -> None:
    parts = (b"<html><body>one ", b"two</bo", b"dy></html>")
    response = serve(lambda request: StreamingResponse(chunks(*parts), media_type="text/html")).get(
        "/"
    )

    assert response.text == f"<html><body>one two{TAG}</body></html>"
    assert "content-length" not in response.headers


def test_root_path_prefixes_the_script_src() -> None:
    app = HotReload(Starlette(routes=[Route("/", html("<body></body>"))]), browser_logs=False)
    app._running.boot = BOOT

    response = TestClient(app, root_path="/app").get("/app/")

    prefixed = TAG.replace('src="/', 'src="/app/')
    assert response.text == f"<body>{prefixed}</body>"


def gzip_app(hot_reload_inside: bool) -> TestClient:
    options = {"minimum_size": 1}
    hot_reload = Middleware(HotReload, browser_logs=False)
    gzip_ = Middleware(GZipMiddleware, **options)  # type: ignore[arg-type]
    # Starlette runs the first middleware of the list outermost.
    stack = [gzip_, hot_reload] if hot_reload_inside else [hot_reload, gzip_]
    app = Starlette(routes=[Route("/", html("<body>" + "x" * 600 + "</body>"))], middleware=stack)
    return TestClient(app)


def test_hot_reload_inside_gzip_injects_then_compresses() -> None:
    response = gzip_app(hot_reload_inside=True).get("/")

    assert response.headers["content-encoding"] == "gzip"
    assert response.text.endswith('data-rev="0"></script></body>')


def test_hot_reload_outside_gzip_passes_the_compressed_page_and_says_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, "fastapi_hot_reload"):
        response = gzip_app(hot_reload_inside=False).get("/")

    assert response.headers["content-encoding"] == "gzip"
    assert response.text == "<body>" + "x" * 600 + "</body>"
    assert "add HotReload before GZipMiddleware" in caplog.text


def html_start() -> Message:
    """The start of a streamed HTML response: no ``Content-Length``."""
    return {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-type", b"text/html")],
    }


def recording_injector() -> tuple[list[Message], Injector]:
    """An injector for the tag ``<tag>`` whose server records every message it is sent."""
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    return sent, Injector(send, lambda: b"<tag>", head=False)


async def test_streamed_responses_are_passed_on_before_they_end() -> None:
    """A streamed page reaches the browser chunk by chunk; only its tail is held back."""
    sent, injector = recording_injector()
    start = html_start()
    await injector(start)
    await injector(
        {"type": "http.response.body", "body": b"<body>" + b"x" * 100, "more_body": True}
    )

    assert [m.get("body") for m in sent] == [None, b"<body>" + b"x" * 95]  # "</bod" may follow
    await injector({"type": "http.response.body", "body": b"</body>", "more_body": False})
    assert b"".join(m.get("body", b"") for m in sent) == b"<body>" + b"x" * 100 + b"<tag></body>"


async def test_event_stream_is_passed_on_as_it_comes() -> None:
    sent, injector = recording_injector()
    headers = [(b"content-type", b"text/event-stream")]
    await injector({"type": "http.response.start", "status": 200, "headers": headers})
    await injector({"type": "http.response.body", "body": b"data: </body>\n\n", "more_body": True})

    assert sent[-1] == {
        "type": "http.response.body",
        "body": b"data: </body>\n\n",
        "more_body": True,
    }


def test_server_error_returned_without_raising_is_sent_as_it_is() -> None:
    busy = serve(lambda request: Response("busy", status_code=503)).get("/")
    page = serve(lambda request: HTMLResponse("<body>oops</body>", status_code=500)).get("/")

    assert (busy.status_code, busy.text) == (503, "busy")
    assert page.status_code == 500
    assert page.text == f"<body>oops{TAG}</body>"


async def test_html_with_a_length_sent_in_chunks_is_held_whole_then_fixed() -> None:
    sent, injector = recording_injector()
    headers = [(b"content-type", b"text/html"), (b"content-length", b"16")]
    await injector({"type": "http.response.start", "status": 200, "headers": headers})
    await injector({"type": "http.response.body", "body": b"<body>one", "more_body": True})
    assert sent == []  # nothing yet: the length is not known until the end
    await injector({"type": "http.response.body", "body": b"</body>", "more_body": False})

    assert sent[0]["headers"] == [
        (b"content-type", b"text/html"),
        (b"content-length", b"21"),
        (b"vary", b"HX-Request, Turbo-Frame, X-Up-Target"),
    ]
    assert sent[1] == {
        "type": "http.response.body",
        "body": b"<body>one<tag></body>",
        "more_body": False,
    }


def test_head_of_a_file_page_gets_the_length_of_the_injected_get(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text("<body>static page</body>")
    app = HotReload(Starlette(routes=[Mount("/", StaticFiles(directory=tmp_path))]))
    client = TestClient(app)

    head = client.head("/page.html")

    assert head.content == b""
    assert head.headers["content-length"] == str(len(client.get("/page.html").content))


async def test_tiny_streamed_chunks_are_held_until_they_cannot_start_closing_body() -> None:
    sent, injector = recording_injector()
    start = html_start()
    await injector(start)
    await injector({"type": "http.response.body", "body": b"<body></body", "more_body": True})
    await injector({"type": "http.response.body", "body": b">", "more_body": True})

    assert sent == [start, {"type": "http.response.body", "body": b"<body>", "more_body": True}]


def test_upper_case_closing_body_after_a_lower_case_one_is_the_last() -> None:
    response = serve(html("<body><pre></body></pre></BODY>")).get("/")

    assert response.text == f"<body><pre></body></pre>{TAG}</BODY>"


@pytest.mark.skipif(
    tuple(map(int, starlette.__version__.split(".")[:2])) < (0, 39),
    reason="StaticFiles answers Range requests from Starlette 0.39 on",
)
def test_partial_content_passes_through_untouched(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text("<body>static page</body>")
    client = TestClient(HotReload(Starlette(routes=[Mount("/", StaticFiles(directory=tmp_path))])))

    response = client.get("/page.html", headers={"range": "bytes=0-9"})

    assert response.status_code == 206
    assert response.content == b"<body>stat"
    assert response.headers["content-length"] == "10"
    assert response.headers["content-range"] == "bytes 0-9/24"


def test_a_content_range_keeps_any_response_untouched() -> None:
    headers = {"content-range": "bytes 0-14/99"}
    response = serve(lambda request: HTMLResponse("<body>hi</body>", headers=headers)).get("/")

    assert response.content == b"<body>hi</body>"


@pytest.mark.parametrize(
    "charset", ["utf-16", "UTF-16LE", '"utf-16be"', "utf-32", "utf-7", "x-no-such-charset"]
)
def test_html_in_a_charset_that_is_not_ascii_compatible_passes_through(charset: str) -> None:
    body = "<body>hi</body>".encode("utf-16")
    content_type = f"text/html; version=5; charset={charset}"

    response = serve(lambda request: Response(body, headers={"content-type": content_type})).get(
        "/"
    )

    assert response.content == body
    assert response.headers["content-length"] == str(len(body))


def test_a_charset_name_that_is_not_ascii_is_no_charset_we_know() -> None:
    assert ascii_compatible(b"utf-\xe9") is False
    assert ascii_compatible(b"") is True  # none given: HTML's default is ASCII-compatible


@pytest.mark.parametrize("charset", ["utf-8", '"UTF-8"', "iso-8859-1", "windows-1252", "shift_jis"])
def test_html_in_an_ascii_compatible_charset_gets_the_tag(charset: str) -> None:
    content_type = f"text/html;charset={charset}"
    response = serve(
        lambda request: Response(b"<body>hi</body>", headers={"content-type": content_type})
    ).get("/")

    assert response.content == f"<body>hi{TAG}</body>".encode()


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_html_that_starts_with_a_utf16_or_utf32_mark_passes_through(encoding: str) -> None:
    body = "\ufeff<body>hi</body>".encode(encoding).replace(b"\xff\xfe\xff\xfe", b"\xff\xfe")
    response = serve(lambda request: HTMLResponse(body)).get("/")  # says charset=utf-8

    assert response.content == body


def test_a_page_whose_policy_asks_a_nonce_gets_it_on_the_tag() -> None:
    policy = "default-src 'self'; script-src 'nonce-r4nd0m+/=' 'strict-dynamic'"
    response = serve(
        lambda request: HTMLResponse("<body>hi</body>", headers={"content-security-policy": policy})
    ).get("/")

    nonced = TAG.replace("<script ", '<script nonce="r4nd0m+/=" ')
    assert response.content == f"<body>hi{nonced}</body>".encode()
    assert response.headers["content-length"] == str(len(response.content))
