"""Which templates each response rendered, as the page and its fetches learn it (ASGI level)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jinja2
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, StreamingResponse
from fastapi.templating import Jinja2Templates
from jinja2.nativetypes import NativeEnvironment
from jinja2.sandbox import SandboxedEnvironment
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.testclient import TestClient

from fastapi_hot_reload import HotReload
from fastapi_hot_reload._middleware import tracking
from fastapi_hot_reload._middleware.changes import outbox
from fastapi_hot_reload._middleware.changes.outbox import Outbox
from fastapi_hot_reload._middleware.changes.pipeline import Changes
from fastapi_hot_reload._middleware.hub import Hub
from fastapi_hot_reload._middleware.tracking import Rendered, Sets, Tracked
from fastapi_hot_reload._protocol import encode_names

BASE = "<!doctype html><html><body>{% block content %}{% endblock %}</body></html>"
PAGES = {
    "base.html": BASE,
    "a.html": '{% extends "base.html" %}{% block content %}<h1>a</h1>{% endblock %}',
    "b.html": '{% extends "base.html" %}{% block content %}<h1>b</h1>{% endblock %}',
    "dynamic.html": "<body>{% include widget %}</body>",
    "widget.html": "<p>widget</p>",
    "macros.html": "{% macro hi() %}hi{% endmacro %}",
    "forms.html": "{% macro field() %}<input>{% endmacro %}",
    "imports.html": '{% import "macros.html" as m %}{% from "forms.html" import field %}'
    "<body>{{ m.hi() }}{{ field() }}</body>",
    "choice.html": '<body>{% include ["missing.html", "widget.html"] %}</body>',
    "fragment.html": "<li>fragment</li>",
    "manual.html": '{% extends "base.html" %}{% block content %}{{ hot_reload_script() }}'
    "{% endblock %}",
    "odd name's & <x>.html": "<body>odd</body>",
}


def site(folder: Path) -> HotReload:
    """An app whose ``/{name}`` renders ``{name}`` from ``folder``, which holds ``PAGES``."""
    for name, text in PAGES.items():
        (folder / name).write_text(text)
    templates = Jinja2Templates(directory=folder)
    app = FastAPI()

    @app.get("/plain")
    def plain() -> HTMLResponse:  # a sync endpoint: rendered in a worker thread
        return HTMLResponse("<body>no templates</body>")

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        template = templates.env.get_template("a.html")
        return StreamingResponse(template.generate(), media_type="text/html")

    @app.get("/text")
    async def plain_text() -> PlainTextResponse:
        return PlainTextResponse("text")

    @app.get("/json")
    async def json() -> dict[str, str]:  # HTML carried in JSON, rendered with Jinja
        return {"html": templates.env.get_template("fragment.html").render()}

    @app.get("/{name:path}")
    async def page(request: Request, name: str) -> Response:
        return templates.TemplateResponse(request, name, {"widget": "widget.html"})

    return HotReload(app, templates=templates, browser_logs=False)  # no per-request page id


def templates_of(html: str) -> list[str] | None:
    """The names the injected tag carries, ``None`` without ``data-templates``."""
    tag = re.search(r"<script [^>]*data-hot-reload[^>]*>", html)
    assert tag is not None, html
    found = re.search(r' data-templates="([^"]*)"', tag[0])
    return None if found is None else found[1].split(" ")


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return TestClient(site(tmp_path))


@pytest.mark.parametrize(
    ("path", "names"),
    [
        ("/a.html", ["a.html", "base.html"]),
        ("/dynamic.html", ["dynamic.html", "widget.html"]),  # a name chosen at run time
        ("/imports.html", ["forms.html", "imports.html", "macros.html"]),
        ("/choice.html", ["choice.html", "missing.html", "widget.html"]),  # tried, then found
    ],
)
def test_page_tag_names_every_template_it_loaded(
    client: TestClient, path: str, names: list[str]
) -> None:
    with client:
        assert templates_of(client.get(path).text) == names


def test_cached_templates_are_recorded_again_and_requests_do_not_mix(client: TestClient) -> None:
    with client:
        first = client.get("/a.html").text
        assert templates_of(client.get("/b.html").text) == ["b.html", "base.html"]
        assert client.get("/a.html").text == first  # from Jinja's cache, same set


def test_html_responses_name_their_templates_in_server_timing(client: TestClient) -> None:
    """How a page learns what its fetches (htmx swaps, plain fetch) rendered."""
    with client:
        response = client.get("/fragment.html")

    assert response.headers["server-timing"] == 'hot-reload;desc="fragment.html"'


def test_other_responses_name_their_templates_only_when_they_rendered_some(
    client: TestClient,
) -> None:
    with client:
        assert "server-timing" not in client.get("/text").headers
        timing = client.get("/json").headers["server-timing"]

    assert timing == 'hot-reload;desc="fragment.html"'


@pytest.mark.parametrize(
    ("path", "names", "header"),
    [
        ("/plain", None, "*"),  # rendered outside Jinja: depends on everything
        # The header goes out before a streamed page renders; the tag goes in after.
        ("/stream", ["a.html", "base.html"], "*"),
        # hot_reload_script() runs mid-render, before the set is complete; the response's
        # Server-Timing (the page reads it from its navigation entry) has it all.
        ("/manual.html", None, "base.html manual.html"),
    ],
)
def test_tag_and_header_say_only_what_is_known_when_they_are_made(
    client: TestClient, path: str, names: list[str] | None, header: str
) -> None:
    with client:
        response = client.get(path)

    assert templates_of(response.text) == names
    assert response.headers["server-timing"] == f'hot-reload;desc="{header}"'


def test_names_are_percent_encoded_so_the_list_needs_no_escaping(client: TestClient) -> None:
    with client:
        names = templates_of(client.get("/odd name's & <x>.html").text)

    assert names == ["odd%20name%27s%20%26%20%3Cx%3E.html"]
    assert encode_names(["b c/d.html", "a.html"]) == "a.html b%20c/d.html"


@pytest.mark.parametrize("kind", [jinja2.Environment, SandboxedEnvironment, NativeEnvironment])
def test_overlay_loads_through_its_own_loader_and_is_tracked(
    kind: type[jinja2.Environment],
) -> None:
    env = kind(loader=jinja2.DictLoader({"p": "base"}))
    Tracked([env])
    overlay = env.overlay(loader=jinja2.DictLoader({"p": "overlay"}))

    with Rendered():  # as while a request renders
        assert overlay.get_template("p").render() == "overlay"
    assert isinstance(overlay, kind)
    assert type(env).__name__ == kind.__name__
    assert env.hot_reload_loaded == {"p"}  # type: ignore[attr-defined]


def test_tracking_an_environment_twice_keeps_one_record() -> None:
    env = jinja2.Environment(loader=jinja2.DictLoader({"p": "x"}))
    Tracked([env])
    with Rendered():
        env.get_template("p")
    Tracked([env])

    assert env.hot_reload_loaded == {"p"}  # type: ignore[attr-defined]


def test_loads_outside_a_request_record_nothing() -> None:
    """A check compiling a saved file, or an e-mail rendered by a task, is no page."""
    env = jinja2.Environment(loader=jinja2.DictLoader({"p": "x"}))
    Tracked([env])
    env.get_template("p")

    assert env.hot_reload_loaded == set()  # type: ignore[attr-defined]


def test_disabled_leaves_environments_alone() -> None:
    env = jinja2.Environment()
    HotReload(Starlette(), templates=env, enabled=False)

    assert type(env) is jinja2.Environment


async def sent(env: jinja2.Environment, root: Path, *saved: str) -> dict[str, object]:
    """The update (page or reload) a save of ``saved`` (paths under ``root``) sends,
    ``root/templates`` being the template folder (of ``env``) and ``root/static`` a watched one."""
    hub = Hub()
    folders = [root / "templates", root / "static"]
    changes = Changes(hub, [env], [folders[0].resolve()], [f.resolve() for f in folders])
    with hub.subscribe() as queue:
        changes.add({(root / name).resolve() for name in saved})
        await changes.step()
        messages = [
            json.loads(queue.receive_nowait())
            for _ in range(queue.statistics().current_buffer_used)
        ]
    assert not changes.outbox.broken
    updates = [message for message in messages if message["type"] in ("page", "reload")]
    assert len(updates) == 1, messages
    update: dict[str, object] = updates[0]
    return update


@pytest.fixture
def root(tmp_path: Path) -> Path:
    for name in ("templates/a.html", "templates/new.html", "templates/notes.md"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("x")
    (tmp_path / "templates" / "list.hbs").write_text("{{#each items}}<li>{{this}}</li>{{/each}}")
    (tmp_path / "static").mkdir()
    for name in ("app.js", "m.mjs", "posts.json"):
        (tmp_path / "static" / name).write_text("x")
    return tmp_path


@pytest.fixture
def rendered_a(root: Path) -> jinja2.Environment:
    """An environment whose app rendered ``a.html`` in a request."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(root / "templates"))
    Tracked([env])
    with Rendered():
        env.get_template("a.html")
    return env


@pytest.mark.parametrize(
    ("saved", "kind", "only"),
    [
        (["templates/a.html"], "page", {"templates": ["a.html"]}),
        (["static/app.js", "static/m.mjs"], "reload", {"scripts": ["app.js", "m.mjs"]}),
        (
            ["templates/a.html", "static/app.js"],
            "reload",  # a script changed: morphing would not run it
            {"templates": ["a.html"], "scripts": ["app.js"]},
        ),
        (["templates/new.html"], "page", {"templates": ["new.html"]}),  # like a.html: no tab has it
        (["templates/a.html", "static/posts.json"], "reload", {}),  # data any page may read
        (["templates/notes.md"], "page", {}),  # in a template folder, but no template: every tab
        (["templates/list.hbs"], "page", {}),  # never compiled: its {{#each}} blocks nothing
    ],
)
async def test_an_update_names_the_templates_and_scripts_it_concerns(
    root: Path,
    rendered_a: jinja2.Environment,
    saved: list[str],
    kind: str,
    only: dict[str, list[str]],
) -> None:
    message = await sent(rendered_a, root, *saved)

    assert message["type"] == kind
    assert {key: message[key] for key in ("templates", "scripts") if key in message} == only


async def test_a_rendered_template_deleted_updates_the_tabs_that_showed_it(
    root: Path, rendered_a: jinja2.Environment
) -> None:
    (root / "templates" / "a.html").unlink()

    message = await sent(rendered_a, root, "templates/a.html")

    assert message["templates"] == ["a.html"]


async def test_files_go_by_their_names_under_prefix_and_choice_loaders(root: Path) -> None:
    (root / "admin").mkdir()
    (root / "admin" / "a.html").write_text("x")
    loader = jinja2.ChoiceLoader(
        [
            jinja2.FileSystemLoader(root / "templates"),
            jinja2.PrefixLoader({"admin": jinja2.FileSystemLoader(root / "admin")}),
        ]
    )
    env = jinja2.Environment(loader=loader)
    Tracked([env])
    assert not Tracked.template(env, "admin/a.html")  # nothing rendered yet
    with Rendered():
        env.get_template("admin/a.html")

    hub = Hub()
    folders = [root / "templates", root / "admin"]
    changes = Changes(hub, [env], folders, folders)
    with hub.subscribe() as queue:
        changes.add({root / "admin" / "a.html"})
        await changes.step()
        message = json.loads(queue.receive_nowait())

    assert message["templates"] == ["admin/a.html"]
    assert Tracked.rendered(env, "admin/a.html")
    assert not Tracked.rendered(env, "a.html")
    assert Tracked.template(env, "a.html")  # named like a rendered one


def test_save_of_a_page_template_reaches_its_tab_with_the_templates_it_touches(
    tmp_path: Path,
) -> None:
    hot = site(tmp_path)
    with TestClient(hot) as client, client.websocket_connect("/__hot_reload__/ws") as socket:
        socket.receive_json()
        client.get("/a.html")
        (tmp_path / "a.html").write_text(PAGES["a.html"].replace("<h1>", "<h1>new "))

        message = socket.receive_json()

    assert message["templates"] == ["a.html"]


async def test_async_environment_is_tracked() -> None:
    env = jinja2.Environment(
        loader=jinja2.DictLoader({"p": '{% include "q" %}', "q": "q"}), enable_async=True
    )
    Tracked([env])

    with Rendered() as rendered:
        assert await env.get_template("p").render_async() == "q"

    assert rendered.names == {"p", "q"}
    assert env.hot_reload_loaded == {"p", "q"}  # type: ignore[attr-defined]


def big_site(folder: Path, count: int) -> HotReload:
    """``site`` plus ``big.html``, which includes ``count`` templates ``parts/p{i}.html``."""
    (folder / "parts").mkdir()
    for i in range(count):
        (folder / "parts" / f"p{i}.html").write_text(f"<i>{i}</i>")
    includes = "".join(f'{{% include "parts/p{i}.html" %}}' for i in range(count))
    (folder / "big.html").write_text(f"<body>{includes}</body>")
    return site(folder)


@pytest.mark.parametrize("count", [100, 300, 3000])
def test_a_large_set_travels_as_a_short_key_that_changes_name(tmp_path: Path, count: int) -> None:
    """nginx's default proxy buffer holds 4 KB of response headers: the tag and Server-Timing
    stay under 1 KB whatever the set, and a change still says which pages it touches."""
    client = TestClient(big_site(tmp_path, count))
    with client, client.websocket_connect("/__hot_reload__/ws") as socket:
        socket.receive_json()
        big = client.get("/big.html")
        assert templates_of(client.get("/a.html").text) == ["a.html", "base.html"]
        (tmp_path / "parts" / "p7.html").write_text("<i>seven</i>")
        in_big = socket.receive_json()
        (tmp_path / "a.html").write_text("<p>a</p>")
        not_in_big = socket.receive_json()

    key = templates_of(big.text)
    assert key is not None and len(key) == 1 and re.fullmatch("#[0-9a-f]{16}", key[0])
    assert big.headers["server-timing"] == f'hot-reload;desc="{key[0]}"'
    assert in_big["templates"] == ["parts/p7.html"] and in_big["sets"] == key
    assert not_in_big["templates"] == ["a.html"] and "sets" not in not_in_big


def test_a_set_keeps_its_key_in_a_restarted_server_and_a_small_one_has_none() -> None:
    """A tab's page was rendered by the server before a restart: the same set, the same key."""
    names = frozenset(f"parts/p{i}.html" for i in range(100))

    key = Sets().encoded(names)

    assert key == Sets().encoded(names) and key.startswith(b"#")
    assert Sets().encoded(frozenset({"a.html", "b c.html"})) == b"a.html b%20c.html"


def test_past_max_kept_sets_a_new_large_one_depends_on_everything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tracking, "MAX_KEPT", 2)
    sets = Sets()
    first, second, third = (
        frozenset(f"{n}/p{i}.html" for i in range(100)) for n in ("a", "b", "c")
    )
    kept = [sets.encoded(names) for names in (first, second)]

    assert sets.encoded(third) == b"*"  # never a wrong scope: every change touches it
    assert [sets.encoded(names) for names in (first, second)] == kept  # still known
    assert sets.containing(["b/p3.html", "c/p3.html"]) == [kept[1].decode()]


def test_a_change_in_very_many_large_sets_goes_to_every_tab(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(outbox, "MAX_KEYS", 1)
    sets = Sets()
    for other in ("b", "c"):
        sets.encoded(frozenset({"a.html", *(f"{other}/p{i}.html" for i in range(100))}))
    box = Outbox(Hub(), sets=sets)

    assert "templates" not in box.send("page", ["a.html"], {"templates": ["a.html"]})
    assert box.send("page", ["b/p1.html"], {"templates": ["b/p1.html"]})["sets"] == [
        sets.encoded(frozenset({"a.html", *(f"b/p{i}.html" for i in range(100))})).decode()
    ]
