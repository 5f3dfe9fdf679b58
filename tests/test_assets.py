"""Static assets: each kind of save gives the right message, once; file responses revalidate."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.testclient import TestClient

from fastapi_hot_reload import HotReload
from fastapi_hot_reload._middleware.changes.classify import action

from .support.server import Server, Tab


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


def test_stylesheet_among_templates_updates_the_page(
    server: Server, tabs: list[Tab], app_dir: Path
) -> None:
    (app_dir / "templates" / "inline.css").write_text("h1 { color: red; }\n")

    assert tabs[0].next()["type"] == "page"


def test_action_by_kind() -> None:
    """By place is tested above: a stylesheet among templates updates the page."""
    assert action("a.CSS") == "css"
    assert action("img/a.webp") == "image"
    assert action("font.woff2") == "reload"
    assert action("static") == "reload"


def test_static_files_are_revalidated_while_hot_reload_is_on(app_dir: Path) -> None:
    static = StaticFiles(directory=app_dir / "static")
    on = TestClient(HotReload(Starlette(routes=[Mount("/static", static)])))
    off = TestClient(HotReload(Starlette(routes=[Mount("/static", static)]), enabled=False))

    assert on.get("/static/style.css").headers["cache-control"] == "no-cache"
    assert "cache-control" not in off.get("/static/style.css").headers
