"""A real uvicorn server, real websocket clients and real file edits, as an editor makes them."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path

import pytest

from .support.apps import page
from .support.server import Server, Tab


def in_place(path: Path, text: str) -> None:
    """Overwrite the bytes of the open file, then cut what is left (VS Code, most editors)."""
    with path.open("r+") as file:
        file.write(text)
        file.truncate()


def truncate_and_write(path: Path, text: str) -> None:
    path.write_text(text)


def atomic_rename(path: Path, text: str) -> None:
    """Write a temporary file beside it, then rename it over (JetBrains, many tools)."""
    temporary = path.with_name(f".{path.name}.tmp1234")
    temporary.write_text(text)
    os.replace(temporary, path)


def vim(path: Path, text: str) -> None:
    """vim's default save: probe file 4913, move the original to a backup, write, drop backup."""
    probe = path.with_name("4913")
    probe.write_text("")
    probe.unlink()
    backup = path.with_name(path.name + "~")
    os.replace(path, backup)
    path.write_text(text)
    backup.unlink()


def delete_and_recreate(path: Path, text: str) -> None:
    path.unlink()
    path.write_text(text)


SAVES = [in_place, truncate_and_write, atomic_rename, vim, delete_and_recreate]


@pytest.mark.parametrize("save", SAVES, ids=lambda save: save.__name__)
def test_each_save_style_reloads_every_tab_once_without_restart(
    server: Server, tabs: list[Tab], app_dir: Path, save: Callable[[Path, str], None]
) -> None:
    pid = server.pid()
    assert "first" in server.get().text
    index = app_dir / "templates" / "index.html"

    save(index, '{% extends "base.html" %}{% block content %}<h1>second</h1>{% endblock %}')

    messages = [tab.next() for tab in tabs]
    assert messages[0] == messages[1]
    scope = {"templates": ["index.html"]}  # the page rendered it: only its tabs update
    assert messages[0] == {"type": "page", "rev": 1, "paths": ["index.html"], **scope}
    for tab in tabs:
        tab.assert_quiet()
    assert "<h1>second</h1>" in server.get().text
    assert server.pid() == pid


def test_base_template_change_renders_in_child_page(
    server: Server, tabs: list[Tab], app_dir: Path
) -> None:
    base = app_dir / "templates" / "base.html"
    base.write_text(base.read_text().replace("<body>", '<body><nav id="new">nav</nav>'))

    assert tabs[0].next()["paths"] == ["base.html"]
    assert '<nav id="new">nav</nav>' in server.get().text


@pytest.mark.parametrize(
    "name", ["4913", ".index.html.swp", "index.html~", ".#index.html", "#index.html#", "x.tmp"]
)
def test_editor_noise_files_reload_nothing(
    server: Server, tabs: list[Tab], app_dir: Path, name: str
) -> None:
    noise = app_dir / "templates" / name
    noise.write_text("scratch")
    noise.write_text("scratch, again")
    noise.unlink()

    tabs[0].assert_quiet()


def test_content_file_change_reloads_every_tab(
    server: Server, tabs: list[Tab], app_dir: Path
) -> None:
    (app_dir / "static" / "posts.json").write_text("[]\n")

    assert tabs[0].next() == {"type": "reload", "rev": 1, "paths": ["posts.json"]}


def test_new_tab_hears_the_current_revision(server: Server, app_dir: Path) -> None:
    first = Tab(server.ws_url)
    page(app_dir, "<h1>changed</h1>")
    assert first.next()["rev"] == 1

    later = Tab(server.ws_url)

    assert later.hello == {"type": "hello", "boot": first.hello["boot"], "rev": 1}
    first.close()
    later.close()


def test_page_carries_the_revision_it_was_rendered_under(server: Server, app_dir: Path) -> None:
    tab = Tab(server.ws_url)
    boot = tab.hello["boot"]
    assert f'data-boot="{boot}" data-rev="0"' in server.get().text

    page(app_dir, "<h1>changed</h1>")
    tab.next()

    assert f'data-boot="{boot}" data-rev="1"' in server.get().text
    tab.close()


def test_deleted_and_recreated_folder_is_watched_again(
    server: Server, tabs: list[Tab], app_dir: Path
) -> None:
    static = app_dir / "static"
    shutil.rmtree(static)
    server.wait_for_log(r"not watching .*static: no such folder")
    deleted = tabs[0].next()
    assert deleted["type"] == "reload"
    assert "style.css" in deleted["paths"]  # type: ignore[operator]

    static.mkdir()
    server.wait_for_log(r"watching .*static again")
    assert tabs[0].next()["paths"] == ["static"]
    (static / "style.css").write_text("h1 { color: red; }\n")

    assert tabs[0].next()["paths"] == ["style.css"]
    assert server.get().status_code == 200


def test_missing_template_folder_is_logged_not_fatal(app_dir: Path) -> None:
    shutil.rmtree(app_dir / "templates")
    server = Server(app_dir)
    try:
        server.wait_for_log(r"WARNING.*not watching .*templates: no such folder")
        tab = Tab(server.ws_url)
        (app_dir / "static" / "style.css").write_text("h1 { color: red; }\n")
        assert tab.next()["paths"] == ["style.css"]
        tab.close()
    finally:
        server.stop()


def test_startup_says_what_is_watched_and_how_to_turn_it_off(server: Server) -> None:
    line = server.wait_for_log("hot reload on")
    assert "templates/" in line
    assert "static/" in line
    assert "FASTAPI_HOT_RELOAD=0" in line


def test_reload_is_logged_with_paths(server: Server, tabs: list[Tab], app_dir: Path) -> None:
    page(app_dir, "<h1>changed</h1>")
    tabs[0].next()

    server.wait_for_log(r"INFO.*page \(rev 1, 2 tabs\): 'index\.html'")


def test_disabled_by_environment_adds_nothing(app_dir: Path) -> None:
    server = Server(app_dir, env={"FASTAPI_HOT_RELOAD": "0"})
    try:
        assert "<script" not in server.get().text
        assert server.get("/__hot_reload__/client/main.js").status_code == 404
        assert "hot reload on" not in server.log
    finally:
        server.stop()


def test_shutdown_closes_open_tabs_with_1012_and_does_not_hang(server: Server) -> None:
    tab = Tab(server.ws_url)
    server.process.terminate()

    server.process.wait(10)  # uvicorn re-raises SIGTERM after a clean shutdown
    server.wait_for_log("Finished server process")
    with pytest.raises(Exception) as closed:
        tab.next()
    assert "1012" in str(closed.value)


@pytest.mark.parametrize(
    "command",
    [
        ("-m", "uvicorn", "app:app", "--reload"),
        pytest.param(
            ("-m", "fastapi", "dev", "app.py"),
            marks=pytest.mark.skipif(
                find_spec("fastapi.__main__") is None, reason="`fastapi dev` needs fastapi 0.111+"
            ),
        ),
    ],
    ids=["uvicorn --reload", "fastapi dev"],
)
def test_python_save_restarts_the_server_and_tabs_see_a_new_boot(
    app_dir: Path, command: tuple[str, ...]
) -> None:
    server = Server(app_dir, command=command)
    try:
        server.wait_for_log("Application startup complete")  # only then does the socket listen
        tab = Tab(server.ws_url)
        pid = server.pid()
        page(app_dir, "<h1>template</h1>")
        assert tab.next()["type"] == "page"
        assert server.pid() == pid  # a template save never restarts

        app = app_dir / "app.py"
        logged = len(server.lines)
        app.write_text(app.read_text() + "\n# changed\n")

        with pytest.raises(Exception, match="1012"):
            tab.next()
        server.wait_for_log("Application startup complete", start=logged)
        again = Tab(server.ws_url)
        assert again.hello["boot"] != tab.hello["boot"]
        assert again.hello["rev"] == 0
        assert server.pid() != pid
        again.close()
    finally:
        server.stop()
