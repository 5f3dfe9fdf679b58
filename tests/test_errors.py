"""Errors on screen: syntax errors on save, error pages that recover."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from fastapi_hot_reload import HotReload
from fastapi_hot_reload._middleware.errors import source_around

from .support.apps import page
from .support.server import Server, Tab

BROKEN = '{% extends "base.html" %}{% block content %}\n<h1>\n{% if x %}\n</h1>{% endblock %}\n'


#: What a browser's navigation asks for; the error page goes only to requests that accept HTML.
PAGE = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def test_syntax_error_on_save_sends_one_error_and_no_reload(
    server: Server, tabs: list[Tab], app_dir: Path
) -> None:
    server.get()  # the app loads index.html: a template, checked on every save
    index = app_dir / "templates" / "index.html"
    index.write_text(BROKEN)

    messages = [tab.next() for tab in tabs]
    assert messages[0] == messages[1]
    assert messages[0]["type"] == "error"
    assert messages[0]["rev"] == 0
    error = messages[0]["error"]
    assert isinstance(error, dict)
    assert error["template"] == "index.html"
    assert error["file"] == str(index.resolve())
    assert error["line"] == 4
    assert "TemplateSyntaxError" in error["message"]
    assert "endif" in error["message"]
    assert [number for number, _ in error["source"]] == [1, 2, 3, 4]
    tabs[0].assert_quiet()
    server.wait_for_log(r"WARNING.*not reloading: TemplateSyntaxError")

    page(app_dir, "<h1>fixed</h1>")
    scope = {"templates": ["index.html"]}
    assert tabs[0].next() == {"type": "page", "rev": 1, "paths": ["index.html"], **scope}
    assert "fixed" in server.get().text


def test_tab_connecting_while_a_template_is_broken_sees_the_error(
    server: Server, tabs: list[Tab], app_dir: Path
) -> None:
    server.get()
    (app_dir / "templates" / "index.html").write_text(BROKEN)
    tabs[0].next()

    late = Tab(server.ws_url)
    assert late.next()["type"] == "error"
    late.close()


def test_saving_another_file_while_one_is_broken_keeps_the_error(
    server: Server, tabs: list[Tab], app_dir: Path
) -> None:
    server.get()
    (app_dir / "templates" / "index.html").write_text(BROKEN)
    tabs[0].next()

    (app_dir / "templates" / "other.html").write_text("fine")

    message = tabs[0].next()
    assert message["type"] == "error"
    assert message["error"]["template"] == "index.html"  # type: ignore[index]


def test_render_error_page_carries_the_client_and_recovers(server: Server, app_dir: Path) -> None:
    template = app_dir / "templates" / "broken.html"
    template.write_text("<p>line one</p>\n<p>{{ missing.attribute }}</p>\n")
    tab = Tab(server.ws_url)

    response = server.get("/broken.html", headers=PAGE)

    assert response.status_code == 500
    assert "UndefinedError: &#x27;missing&#x27; is undefined" in response.text
    assert f"{template.resolve()}:2" in response.text
    assert "{{ missing.attribute }}" in response.text
    assert re.search(
        r'<script type="module" src="/__hot_reload__/client/main.js" data-hot-reload', response.text
    )
    server.wait_for_log("Exception in ASGI application")  # the traceback is still logged

    template.write_text("<p>all good</p>\n")
    assert tab.next()["type"] == "page"
    assert server.get("/broken.html").text.startswith("<p>all good</p>")
    tab.close()


def raising_app(exc: Exception, **options: object) -> TestClient:
    def endpoint(request: Request) -> Response:
        raise exc

    app = HotReload(Starlette(routes=[Route("/", endpoint)]), **options)  # type: ignore[arg-type]
    return TestClient(app, raise_server_exceptions=False, headers=PAGE)


def test_error_text_with_html_is_shown_as_text() -> None:
    response = raising_app(ValueError("<script>alert(1)</script>")).get("/")

    assert response.status_code == 500
    assert "<script>alert(1)</script>" not in response.text
    assert "ValueError: &lt;script&gt;alert(1)&lt;/script&gt;" in response.text


def test_error_responses_are_unchanged_when_off() -> None:
    response = raising_app(ValueError("boom"), enabled=False).get("/")

    assert response.text == "Internal Server Error"


def test_error_after_the_response_started_is_left_to_the_server() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await HTMLResponse("<body>partial</body>")(scope, receive, send)
        raise RuntimeError("after the response")

    client = TestClient(HotReload(app), raise_server_exceptions=False)

    assert client.get("/").status_code == 200


def test_source_around_is_empty_without_a_readable_file(tmp_path: Path) -> None:
    assert source_around(None, 3) == []
    assert source_around(tmp_path / "nowhere.html", 3) == []


def test_template_broken_before_the_request_shows_its_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text("<p>\n{% if x %}\n</p>\n")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(tmp_path))

    def endpoint(request: Request) -> Response:
        return HTMLResponse(env.get_template("page.html").render())

    app = HotReload(Starlette(routes=[Route("/", endpoint)]), templates=env)
    response = TestClient(app, raise_server_exceptions=False).get("/", headers=PAGE)

    assert response.status_code == 500
    assert "TemplateSyntaxError" in response.text
    assert f"{(tmp_path / 'page.html').resolve()}:2" in response.text  # the block left open
