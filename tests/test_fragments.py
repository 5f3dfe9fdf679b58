"""Fragments stay fragments: no tag for htmx, Turbo Frame and Unpoly swaps, nor for bare HTML."""

from __future__ import annotations

import pytest
from starlette.requests import Request
from starlette.responses import HTMLResponse, StreamingResponse
from starlette.types import Message

from fastapi_hot_reload._middleware.fragments import SNIFF_BYTES, VARY, add_headers, is_document

from .test_inject import TAG, chunks, html, recording_injector, serve

PAGE = "<!doctype html><html><body><p>page</p></body></html>"


@pytest.mark.parametrize(
    "body",
    [
        b"<!DOCTYPE html><p>x",
        b"\n\n  <html lang='en'>",
        b"<!-- generated --><body class='x'>",
        b"<meta charset='utf-8'><title>t</title></head><BODY>",
        b"<p>only a closing tag</p></body>",
    ],
)
def test_documents_are_told_by_their_first_bytes(body: bytes) -> None:
    assert is_document(body, complete=False) is True


@pytest.mark.parametrize(
    "body",
    [b"", b"3", b"<tr><td>row</td></tr>", b"<header>x</header>", b"<body-part>x</body-part>"],
)
def test_bodies_without_document_tags_are_fragments(body: bytes) -> None:
    assert is_document(body, complete=True) is False


def test_a_streamed_body_is_undecided_until_the_sniff_window_fills() -> None:
    assert is_document(b"<p>" + b"x" * 100, complete=False) is None
    assert is_document(b" " * 5000 + b"<p>" + b"x" * SNIFF_BYTES, complete=False) is False


def test_a_document_tag_past_the_sniff_window_is_not_looked_for() -> None:
    assert is_document(b"<p>" + b"x" * SNIFF_BYTES + b"<body>", complete=True) is False


def start(*headers: tuple[bytes, bytes]) -> Message:
    return {"type": "http.response.start", "status": 200, "headers": list(headers)}


def test_fragment_headers_vary_and_keep_it_out_of_the_cache() -> None:
    message = start((b"content-type", b"text/html"))
    add_headers(message, fragment=True)

    assert message["headers"][1:] == [(b"vary", VARY), (b"cache-control", b"no-store")]


def test_page_headers_vary_and_leave_caching_alone() -> None:
    message = start((b"Vary", b"Accept-Encoding"))
    add_headers(message, fragment=False)

    assert message["headers"] == [(b"Vary", b"Accept-Encoding"), (b"vary", VARY)]


def test_the_apps_own_cache_control_and_vary_star_are_kept() -> None:
    message = start((b"Cache-Control", b"max-age=60"), (b"vary", b"*"))
    add_headers(message, fragment=True)

    assert message["headers"] == [(b"Cache-Control", b"max-age=60"), (b"vary", b"*")]


@pytest.mark.parametrize(
    "headers",
    [
        {"HX-Request": "true"},
        {"HX-Request": "true", "HX-Boosted": "true"},  # the page already runs the client
        {"HX-Request": "true", "HX-History-Restore-Request": "true"},
        {"Turbo-Frame": "items"},
        {"X-Up-Target": "#items"},
    ],
)
def test_fragment_requests_get_no_tag_even_for_a_whole_page(headers: dict[str, str]) -> None:
    response = serve(html(PAGE)).get("/", headers=headers)

    assert response.text == PAGE
    assert response.headers["content-length"] == str(len(PAGE))
    assert response.headers["vary"] == VARY.decode()
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("body", ["3", "", "<tr><td>row</td></tr>", "  <li>one</li>\n"])
def test_html_that_is_not_a_document_gets_no_tag(body: str) -> None:
    response = serve(html(body)).get("/")

    assert response.text == body
    assert response.headers["cache-control"] == "no-store"


def test_a_full_page_gets_the_tag_and_stays_cacheable() -> None:
    response = serve(html(PAGE)).get("/")

    assert response.text == PAGE.replace("</body>", TAG + "</body>")
    assert response.headers["vary"] == VARY.decode()
    assert "cache-control" not in response.headers


def test_a_streamed_fragment_gets_no_tag() -> None:
    parts = (b"<tr>", b"<td>one</td>", b"</tr>")
    response = serve(lambda request: StreamingResponse(chunks(*parts), media_type="text/html"))

    assert response.get("/").text == "<tr><td>one</td></tr>"


def test_a_streamed_document_split_before_its_doctype_gets_the_tag() -> None:
    parts = (b"\n", b"<!DOC", b"TYPE html><body>x", b"</body>")
    response = serve(lambda request: StreamingResponse(chunks(*parts), media_type="text/html"))

    assert response.get("/").text == f"\n<!DOCTYPE html><body>x{TAG}</body>"


async def test_a_long_streamed_fragment_flows_once_the_window_is_full() -> None:
    sent, injector = recording_injector()
    await injector(start((b"content-type", b"text/html")))
    row = b"<tr><td>" + b"x" * SNIFF_BYTES + b"</td></tr>"
    await injector({"type": "http.response.body", "body": row, "more_body": True})
    await injector({"type": "http.response.body", "body": b"<tr></tr>", "more_body": False})

    assert sent[0]["headers"][-1] == (b"cache-control", b"no-store")
    assert b"".join(m.get("body", b"") for m in sent) == row + b"<tr></tr>"


def test_a_fragment_server_error_is_held_and_sent_as_it_is() -> None:
    def failing(request: Request) -> HTMLResponse:
        return HTMLResponse("<p>busy</p>", status_code=503)

    response = serve(failing).get("/")

    assert (response.status_code, response.text) == (503, "<p>busy</p>")
