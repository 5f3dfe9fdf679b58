"""What the server tells the morphing client, at ASGI level: the tag's settings, the error page."""

from __future__ import annotations

import re

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from fastapi_hot_reload import HotReload


async def form(request: Request) -> HTMLResponse:
    return HTMLResponse("<body>thanks</body>")


async def boom(request: Request) -> HTMLResponse:
    raise RuntimeError("broken page")


def app(**options: object) -> HotReload:
    routes = [Route("/", form, methods=["GET", "POST", "PUT"]), Route("/boom", boom)]
    return HotReload(Starlette(routes=routes), **options)  # type: ignore[arg-type]


def tag(body: str) -> str:
    found = re.search(r"<script [^>]*data-hot-reload [^>]*></script>", body)
    assert found, body
    return found[0]


def test_page_for_a_get_carries_no_method_and_no_morph_setting() -> None:
    with TestClient(app()) as client:
        shown = tag(client.get("/").text)
    assert "data-method" not in shown
    assert "data-morph" not in shown


def test_page_answering_a_post_says_so_in_its_tag() -> None:
    with TestClient(app()) as client:
        assert 'data-method="POST"' in tag(client.post("/").text)
        assert 'data-method="PUT"' in tag(client.put("/").text)
        assert "data-method" not in tag(client.get("/").text)  # not the POST's tag, cached


def test_morph_off_is_in_the_tag() -> None:
    with TestClient(app(morph=False)) as client:
        assert tag(client.get("/").text).endswith(' data-morph="false"></script>')


def test_error_page_is_marked_for_the_client() -> None:
    with TestClient(app(), raise_server_exceptions=False) as client:
        response = client.get("/boom", headers={"accept": "text/html"})
    assert response.status_code == 500
    assert response.headers["x-hot-reload"] == "error-page"
    assert "RuntimeError: broken page" in response.text


def test_page_with_a_permanent_element_still_gets_the_tag() -> None:
    page = '<body><div data-hot-reload-permanent id="map"></div></body>'
    routes = [Route("/", lambda request: HTMLResponse(page))]
    with TestClient(HotReload(Starlette(routes=routes))) as client:
        assert tag(client.get("/").text)
