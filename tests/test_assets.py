"""Static assets: each kind of save gives the right message, once; file responses revalidate."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.testclient import TestClient

from fastapi_hot_reload import HotReload
from fastapi_hot_reload._watcher import action

from .conftest import Server, Tab


def test_stylesheet_save_sends_css_with_path_relative_to_its_folder(
    server: Server, tabs: list[Tab], app_dir: Path
) -> None:
    (app_dir / "static" / "css").mkdir()
    tabs[0].next()  # the new folder itself
    (app_dir / "static" / "css" / "site.css").write_text("h1 { color: red; }\n")

    assert tabs[0].next() == {"type": "css", "rev": 2, "paths": ["css/site.css"]}
    tabs[0].assert_quiet()


def test_image_save_sends_image(server: Server, tabs: list[Tab], app_dir: Path) -> None:
    (app_dir / "static" / "logo.png").write_bytes(b"\x89PNG not really")

    assert tabs[0].next() == {"type": "image", "rev": 1, "paths": ["logo.png"]}
    tabs[0].assert_quiet()


def test_script_save_reloads(server: Server, tabs: list[Tab], app_dir: Path) -> None:
    (app_dir / "static" / "app.js").write_text("console.log(1)\n")

    assert tabs[0].next() == {
        "type": "reload",
        "rev": 1,
        "paths": ["app.js"],
        "scripts": ["app.js"],
    }


def test_stylesheet_among_templates_reloads(server: Server, tabs: list[Tab], app_dir: Path) -> None:
    (app_dir / "templates" / "inline.css").write_text("h1 { color: red; }\n")

    assert tabs[0].next()["type"] == "reload"


def test_reload_covers_a_swap_in_the_same_batch(app_dir: Path) -> None:
    app = HotReload(Starlette(), watch=[app_dir / "static"])
    with TestClient(app) as client, client.websocket_connect("/__hot_reload__/ws") as socket:
        socket.receive_json()
        app._changed({app_dir / "static" / "style.css", app_dir / "static" / "data.json"})
        assert socket.receive_json() == {
            "type": "reload",
            "rev": 1,
            "paths": ["data.json", "style.css"],
        }


@pytest.mark.parametrize(
    ("other", "second"),
    [
        ("logo.svg", {"type": "image", "rev": 2, "paths": ["logo.svg"]}),
        # Tabs that do not load app.js still need the new stylesheet: the swap goes first.
        ("app.js", {"type": "reload", "rev": 2, "paths": ["app.js"], "scripts": ["app.js"]}),
    ],
)
def test_stylesheet_with_an_image_or_a_script_is_a_swap_then_the_other(
    app_dir: Path, other: str, second: dict[str, object]
) -> None:
    app = HotReload(Starlette(), watch=[app_dir / "static"])
    with TestClient(app) as client, client.websocket_connect("/__hot_reload__/ws") as socket:
        socket.receive_json()
        app._changed({app_dir / "static" / "style.css", app_dir / "static" / other})
        assert socket.receive_json() == {"type": "css", "rev": 1, "paths": ["style.css"]}
        assert socket.receive_json() == second


def test_action_by_kind_and_place(tmp_path: Path) -> None:
    templates = [tmp_path / "templates"]

    assert action(tmp_path / "templates" / "a.css", templates) == "reload"
    assert action(tmp_path / "static" / "a.CSS", templates) == "css"
    assert action(tmp_path / "static" / "a.webp", templates) == "image"
    assert action(tmp_path / "static" / "font.woff2", templates) == "reload"
    assert action(tmp_path / "static", templates) == "reload"


def test_static_files_are_revalidated_while_hot_reload_is_on(app_dir: Path) -> None:
    static = StaticFiles(directory=app_dir / "static")
    on = TestClient(HotReload(Starlette(routes=[Mount("/static", static)])))
    off = TestClient(HotReload(Starlette(routes=[Mount("/static", static)]), enabled=False))

    assert on.get("/static/style.css").headers["cache-control"] == "no-cache"
    assert "cache-control" not in off.get("/static/style.css").headers
