"""Open in editor: presets, URL templates, the environment variable, and the links they make."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import anyio
import jinja2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from fastapi_hot_reload import HotReload
from fastapi_hot_reload._middleware.changes.pipeline import Changes
from fastapi_hot_reload._middleware.editor import ENV_VAR, PRESETS, editor_template, editor_url
from fastapi_hot_reload._middleware.hub import Hub
from fastapi_hot_reload._middleware.tracking import Rendered

#: What a browser navigation asks for: only such requests get the error page.
PAGE = {"accept": "text/html"}


@pytest.fixture(autouse=True)
def no_editor_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)


@pytest.mark.parametrize(
    ("editor", "expected"),
    [
        ("vscode", "vscode://file/srv/app/templates/index.html:12"),
        ("Cursor", "cursor://file/srv/app/templates/index.html:12"),
        ("zed", "zed://file/srv/app/templates/index.html:12"),
        ("pycharm", "pycharm://open?file=/srv/app/templates/index.html&line=12"),
        ("idea", "idea://open?file=/srv/app/templates/index.html&line=12"),
        ("sublime", "subl://open?url=file:///srv/app/templates/index.html&line=12"),
        ("my://open?path={file}&at={line}", "my://open?path=/srv/app/templates/index.html&at=12"),
    ],
)
def test_presets_and_templates_link_the_absolute_path_and_line(editor: str, expected: str) -> None:
    assert editor_url(editor_template(editor), "/srv/app/templates/index.html", 12) == expected


def test_path_characters_that_mean_something_in_a_url_are_encoded() -> None:
    url = editor_url(PRESETS["pycharm"], "/srv/my app/a&b#c?.html", 3)

    assert url == "pycharm://open?file=/srv/my%20app/a%26b%23c%3F.html&line=3"


def test_link_uses_the_real_path_behind_symlinks_and_relative_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "page.html").write_text("x")
    (tmp_path / "link").symlink_to(real)
    monkeypatch.chdir(tmp_path)

    url = editor_url(PRESETS["vscode"], "link/page.html", 5)

    assert url == f"vscode://file{real / 'page.html'}:5"


def test_unknown_line_opens_the_first() -> None:
    assert editor_url(PRESETS["vscode"], "/a.html", None) == "vscode://file/a.html:1"


def test_no_editor_makes_no_link() -> None:
    assert editor_template(None) is None
    assert editor_template("  ") is None
    assert editor_url(None, "/a.html", 1) is None


def test_environment_variable_chooses_the_editor_when_the_option_is_not_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENV_VAR, "cursor")

    assert editor_template(None) == PRESETS["cursor"]
    assert editor_template("vscode") == PRESETS["vscode"]  # the option wins
    assert editor_template("") is None  # and "" turns links off whatever the environment says


def failing_view(request: Request) -> HTMLResponse:
    raise RuntimeError("the view failed")


def test_error_page_links_the_template_line_and_each_traceback_frame(tmp_path: Path) -> None:
    (tmp_path / "broken.html").write_text("<p>one</p>\n<p>{{ missing.attribute }}</p>\n")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(tmp_path))
    view = Route("/", lambda request: HTMLResponse(env.get_template("broken.html").render()))
    app = HotReload(Starlette(routes=[view]), templates=env, editor="vscode")

    page = TestClient(app, raise_server_exceptions=False).get("/", headers=PAGE).text

    template = tmp_path.resolve() / "broken.html"
    where = f'<p class=where><a href="vscode://file{template}:2">{template}:2</a></p>'
    assert where in page
    frames = re.findall(r'<a href="vscode://file([^"]+):(\d+)">File &quot;([^&]+)&quot;', page)
    assert (str(template), "2", str(template)) in frames
    assert any(file == __file__ for file, _, _ in frames)  # the view above
    assert all(link == shown for link, _, shown in frames)


def test_traceback_frames_that_are_no_file_are_not_linked() -> None:
    namespace: dict[str, Any] = {}
    exec(
        compile("def view(request):\n    raise RuntimeError('x')\n", "<generated>", "exec"),
        namespace,
    )
    app = HotReload(Starlette(routes=[Route("/", namespace["view"])]), editor="zed")

    page = TestClient(app, raise_server_exceptions=False).get("/", headers=PAGE).text

    assert "File &quot;&lt;generated&gt;&quot;, line 2" in page
    assert "zed://file/" in page  # starlette's own frames are files: linked
    assert "zed://file<" not in page and "&lt;generated&gt;:" not in page


def test_error_page_without_an_editor_has_no_links() -> None:
    app = HotReload(Starlette(routes=[Route("/", failing_view)]))

    page = TestClient(app, raise_server_exceptions=False).get("/", headers=PAGE).text

    assert "RuntimeError: the view failed" in page
    assert "<a " not in page


async def test_error_message_for_the_overlay_carries_the_editor_link(tmp_path: Path) -> None:
    broken = tmp_path / "index.html"  # pytest's tmp_path is already the real path
    broken.write_text("<h1>\n{% if x %}\n</h1>\n")
    (tmp_path / "other.html").write_text("<p>fine</p>")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(tmp_path))
    hub = Hub()
    changes = Changes(hub, [env], [broken.parent], [broken.parent], editor=PRESETS["idea"])
    with Rendered():  # a request rendered an .html template: .html files are checked on save
        env.get_template("other.html")
    with hub.subscribe() as queue, anyio.fail_after(10):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(changes.run)
            changes.add({broken})
            error = json.loads(await queue.receive())["error"]
            tasks.cancel_scope.cancel()

    assert error["line"] == 2
    assert error["editor"] == f"idea://open?file={broken}&line=2"
