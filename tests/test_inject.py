"""Injection rules, one test per rule, with the exact bytes a browser receives."""

from __future__ import annotations

import gzip
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import jinja2
import pytest
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
from fastapi_hot_reload._inject import Injector

BOOT = "b00b"
TAG = (
    '<script type="module" src="/__hot_reload__/client/main.js" data-hot-reload data-boot="b00b" '
    'data-rev="0"></script>'
)


def serve(response: Callable[[Request], Response], **options: object) -> TestClient:
    app = HotReload(Starlette(routes=[Route("/", response, methods=["GET", "HEAD"])]), **options)  # type: ignore[arg-type]
    app._boot = BOOT
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


def test_tag_goes_at_the_end_without_closing_body() -> None:
    response = serve(html("<p>fragment</p>")).get("/")

    assert response.text == f"<p>fragment</p>{TAG}"
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

    boot = client.app._boot  # type: ignore[attr-defined]
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
    app = HotReload(Starlette(routes=[Route("/", html("<body></body>"))]))
    app._boot = BOOT

    response = TestClient(app, root_path="/app").get("/app/")

    prefixed = TAG.replace('src="/', 'src="/app/')
    assert response.text == f"<body>{prefixed}</body>"


def gzip_app(hot_reload_inside: bool) -> TestClient:
    options = {"minimum_size": 1}
    hot_reload = Middleware(HotReload)
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
    headers = [(b"content-type", b"text/html"), (b"content-length", b"18")]
    await injector({"type": "http.response.start", "status": 200, "headers": headers})
    await injector({"type": "http.response.body", "body": b"<p>one", "more_body": True})
    assert sent == []  # nothing yet: the length is not known until the end
    await injector({"type": "http.response.body", "body": b"</p></body>", "more_body": False})

    assert sent[0]["headers"] == [(b"content-type", b"text/html"), (b"content-length", b"22")]
    assert sent[1] == {
        "type": "http.response.body",
        "body": b"<p>one</p><tag></body>",
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
    await injector({"type": "http.response.body", "body": b"<p>", "more_body": True})

    assert sent == [start]


def test_upper_case_closing_body_after_a_lower_case_one_is_the_last() -> None:
    response = serve(html("<body><pre></body></pre></BODY>")).get("/")

    assert response.text == f"<body><pre></body></pre>{TAG}</BODY>"
