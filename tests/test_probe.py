"""The plain-HTTP probe a tab sends when its websocket fails: refused (and why), or accepted."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.testclient import TestClient

from fastapi_hot_reload import HotReload
from fastapi_hot_reload._probe import NOT_THROUGH

PROBE = "/__hot_reload__/ws"


def test_probe_from_a_foreign_origin_is_refused_with_the_reason() -> None:
    client = TestClient(HotReload(Starlette()))

    response = client.get(PROBE, params={"origin": "http://evil.example"})

    assert response.status_code == 403
    assert response.text == (
        "refused a hot reload connection from http://evil.example: only pages of this server "
        "(testserver) may connect (add it to allowed_origins if it is yours)"
    )
    assert response.headers["cache-control"] == "no-store"


def test_probe_from_an_accepted_page_says_websockets_do_not_get_through() -> None:
    app = HotReload(Starlette(), allowed_origins=["http://dev.example"])
    client = TestClient(app)

    for origin in ("http://testserver", "http://dev.example", None):
        params = {"origin": origin} if origin else {}
        response = client.get(PROBE, params=params)
        assert response.status_code == 426
        assert response.text == NOT_THROUGH
        assert response.headers["upgrade"] == "websocket"


def test_probe_answers_without_the_app() -> None:
    app = HotReload(Starlette())
    app.app = None  # type: ignore[assignment] # would raise if the probe reached it

    assert TestClient(app).get(PROBE).status_code == 426
