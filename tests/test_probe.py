"""The plain-HTTP probe a tab sends when its websocket fails: refused (and why), or accepted."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.testclient import TestClient

from fastapi_hot_reload import HotReload
from fastapi_hot_reload._middleware.probe import NOT_THROUGH

PROBE = "/__hot_reload__/ws"


def test_probe_for_a_page_of_another_origin_gets_the_reason() -> None:
    client = TestClient(HotReload(Starlette()))

    response = client.get(PROBE, params={"origin": "http://evil.example"})

    assert response.status_code == 403
    assert response.text == (
        "hot reload refused origin 'http://evil.example' (add it to allowed_origins if that page "
        "is yours)"
    )
    assert response.headers["cache-control"] == "no-store"


def test_probe_to_an_untrusted_host_gets_the_reason() -> None:
    client = TestClient(HotReload(Starlette()))

    response = client.get("http://myapp.test" + PROBE, params={"origin": "http://myapp.test"})

    assert response.status_code == 403
    assert response.text == (
        "hot reload refused host 'myapp.test' (add 'myapp.test' to allowed_hosts if it is your "
        "development server)"
    )


def test_probe_with_an_origin_header_is_judged_by_it() -> None:
    client = TestClient(HotReload(Starlette()))

    response = client.get(PROBE, headers={"origin": "http://evil.example"})

    assert response.status_code == 403
    assert "refused origin 'http://evil.example'" in response.text


def test_probe_from_an_accepted_page_says_websockets_do_not_get_through() -> None:
    app = HotReload(Starlette(), allowed_origins=["http://dev.example"])
    client = TestClient(app)

    for origin in ("http://localhost", "http://dev.example", None):
        params = {"origin": origin} if origin else {}
        response = client.get(PROBE, params=params)
        assert response.status_code == 426
        assert response.text == NOT_THROUGH
        assert response.headers["upgrade"] == "websocket"


def test_probe_answers_without_the_app() -> None:
    app = HotReload(Starlette())
    app.app = None  # type: ignore[assignment] # would raise if the probe reached it

    assert TestClient(app).get(PROBE).status_code == 426


def test_a_page_of_another_origin_on_a_trusted_host_still_gets_the_client() -> None:
    """Behind a proxy that rewrites ``Host``: the client loads, and says why it cannot connect."""
    client = TestClient(HotReload(Starlette()))
    foreign = {"origin": "http://dev.example:3000"}

    assert client.get("/__hot_reload__/client/main.js", headers=foreign).status_code == 200
    untrusted = client.get("http://myapp.test/__hot_reload__/client/main.js", headers=foreign)
    assert untrusted.status_code == 403
