"""One save, one right update: chunked writes, identical bytes, build outputs, big batches."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from types import CodeType
from typing import Any

import anyio
import httpx
import jinja2
import pytest

from fastapi_hot_reload._middleware.changes import disk as _files
from fastapi_hot_reload._middleware.changes import pipeline as _changes
from fastapi_hot_reload._middleware.changes import snapshot as _snapshot
from fastapi_hot_reload._middleware.changes import templates as _templates
from fastapi_hot_reload._middleware.changes.classify import SHOWN, action
from fastapi_hot_reload._middleware.changes.outbox import shown
from fastapi_hot_reload._middleware.changes.pipeline import Changes
from fastapi_hot_reload._middleware.hub import Hub
from fastapi_hot_reload._middleware.tracking import Rendered
from fastapi_hot_reload._protocol import change

from .support.apps import page
from .support.server import Server, Tab, untimed

#: About 50 KB with a block left open until the end: any prefix of it fails to compile.
BIG_TEMPLATE = (
    '{% extends "base.html" %}{% block content %}<h1 id="title">big</h1>\n'
    + "".join(
        f'<p class="row">{n} {{{{ pid }}}} {{% if pid %}}yes{{% else %}}no{{% endif %}}</p>\n'
        for n in range(700)
    )
    + "{% endblock %}\n"
)
#: About 50 KB of plain HTML: every prefix of it compiles.
PLAIN = "<!doctype html><html><body>\n" + "".join(
    f"<p>plain line {n:05d} of a long page</p>\n" for n in range(1400)
)


def write_in_chunks(path: Path, text: str, pieces: int, gap: float) -> None:
    """Save in place the way editors write big files: truncate, then a few writes apart."""
    data = text.encode()
    size = -(-len(data) // pieces)
    with path.open("wb") as file:
        for start in range(0, len(data), size):
            if start:
                time.sleep(gap)  # the editor's pause between chunks: the scenario under test
            file.write(data[start : start + size])
            file.flush()


@pytest.mark.parametrize("gap_ms", [1, 5, 10, 50])
@pytest.mark.parametrize("text", [BIG_TEMPLATE, PLAIN], ids=["template", "plain"])
def test_chunked_save_gives_one_reload_and_no_error(
    server: Server, tabs: list[Tab], app_dir: Path, gap_ms: int, text: str
) -> None:
    index = app_dir / "templates" / "index.html"
    for round_ in (1, 2):
        write_in_chunks(index, f"{text}<!-- save {round_} -->", pieces=3, gap=gap_ms / 1000)

        assert tabs[0].next() == {"type": "page", "rev": round_, "paths": ["index.html"]}
        tabs[0].assert_quiet()
    body = server.get().text
    assert body.count("plain line") == 1400 or body.count('class="row"') == 700
    assert "error" not in server.log.lower()


def test_identical_rewrite_updates_nothing(server: Server, tabs: list[Tab], app_dir: Path) -> None:
    index, css = app_dir / "templates" / "index.html", app_dir / "static" / "style.css"
    server.wait_for_log("hot reload on")
    index.write_text(index.read_text())  # Ctrl+S on an unchanged file
    css.write_bytes(css.read_bytes())  # a build writing the same output again

    tabs[0].assert_quiet()
    page(app_dir, "<h1>changed</h1>")
    assert tabs[0].next() == {"type": "page", "rev": 1, "paths": ["index.html"]}
    page(app_dir, "<h1>changed</h1>")
    tabs[0].assert_quiet()


@pytest.mark.parametrize(
    "name", ["index.html___jb_old___", "index.html___jb_tmp___", ".index.html.swp-new"]
)
def test_editor_scratch_names_reach_no_tab(
    server: Server, tabs: list[Tab], app_dir: Path, name: str
) -> None:
    scratch = app_dir / "templates" / name
    scratch.write_text("{% if %} scratch")
    scratch.unlink()

    tabs[0].assert_quiet()


def build(css: Path, delay: float, text: str) -> threading.Thread:
    """A build tool (Tailwind) rewriting ``css`` ``delay`` seconds after a template save."""

    def write() -> None:
        time.sleep(delay)  # the build tool's own latency: the scenario under test
        write_in_chunks(css, text, pieces=4, gap=0.002)

    thread = threading.Thread(target=write)
    thread.start()
    return thread


def test_template_save_and_build_output_become_one_update(
    server: Server, tabs: list[Tab], app_dir: Path
) -> None:
    css = app_dir / "static" / "style.css"
    page(app_dir, '<h1 class="new-1">one</h1>')
    build(css, 0.05, ".new-1 { color: red; }\n" * 200).join()
    assert tabs[0].next()["type"] == "page"
    assert tabs[0].next() == {"type": "css", "rev": 2, "paths": ["style.css"]}
    server.wait_for_log("build output followed a template save")

    page(app_dir, '<h1 class="new-2">two</h1>')
    build(css, 0.05, ".new-2 { color: red; }\n" * 200).join()

    assert tabs[0].next() == {"type": "page", "rev": 3, "paths": ["index.html", "style.css"]}
    tabs[0].assert_quiet()
    assert ".new-2" in server.get("/static/style.css").text


def test_ten_thousand_files_stay_cheap_and_requests_flow(
    server: Server, tabs: list[Tab], app_dir: Path
) -> None:
    """Every message and log line names at most a few paths; the server answers throughout."""
    static = app_dir / "static"
    slowest = 0.0
    done = threading.Event()

    def probe() -> None:
        nonlocal slowest
        with httpx.Client(base_url=server.url, timeout=10) as client:
            while not done.is_set():
                started = time.monotonic()
                assert client.get("/pid").status_code == 200
                slowest = max(slowest, time.monotonic() - started)

    prober = threading.Thread(target=probe)
    prober.start()
    for n in range(10_000):
        (static / f"page-{n:05d}.js").write_text(f"// {n}\n")
    messages: list[dict[str, Any]] = []
    while sum(len(m["paths"]) + m.get("more", 0) for m in messages) < 10_000:
        messages.append(tabs[0].next(timeout=30))
    done.set()
    prober.join()

    assert all(m["type"] == "reload" and len(m["paths"]) <= SHOWN for m in messages)
    assert max(len(line) for line in server.lines) < 1000
    assert slowest < 5  # a hang guard; the latency itself is a benchmark row


def test_message_names_a_few_paths_and_counts_the_rest() -> None:
    names = [f"{n}.css" for n in range(SHOWN + 5)]

    expected = {"type": "css", "rev": 3, "paths": names[:SHOWN], "more": 5}
    assert untimed(change("css", 3, names)) == expected
    assert untimed(change("reload", 1, ["a"])) == {"type": "reload", "rev": 1, "paths": ["a"]}
    assert shown(names).endswith(f"'{names[SHOWN - 1]}' and 5 more")
    assert action("app.css") == "css"


class CountingEnvironment(jinja2.Environment):
    """A real environment that counts what it compiles."""

    compiled: list[str]

    def _compile(self, source: str, filename: str) -> CodeType:
        self.compiled.append(Path(filename).name)
        return super()._compile(source, filename)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "a.html").write_text("<p>a {{ x }}</p>")
    (tmp_path / "b.html").write_text("<p>b</p>")
    return tmp_path


def checker(folder: Path, env: jinja2.Environment) -> tuple[Changes, Hub]:
    """Changes for ``folder``, once a request rendered ``b.html``: the app's templates are
    ``.html`` files, which are compiled on save (other files there never are)."""
    hub = Hub()
    changes = Changes(hub, [env], [folder], [folder])
    with Rendered():
        env.get_template("b.html")
    return changes, hub


async def test_a_save_compiles_once_into_the_cache_and_evicts_nothing_else(folder: Path) -> None:
    env = CountingEnvironment(loader=jinja2.FileSystemLoader(folder), auto_reload=True)
    env.compiled = []
    b = env.get_template("b.html")
    env.compiled = []
    changes, _ = checker(folder, env)
    (folder / "a.html").write_text("<p>new {{ x }}</p>")

    changes.add({folder / "a.html"})
    await changes.step()
    compiled_by_the_save = list(env.compiled)

    assert env.get_template("a.html").render(x=1) == "<p>new 1</p>"
    assert env.get_template("b.html") is b
    assert compiled_by_the_save == ["a.html"]
    assert env.compiled == ["a.html"]  # the render compiled nothing


async def test_without_leases_a_slow_chunked_template_settles_before_it_is_judged(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the writer cannot be seen (not Linux, another owner), settling alone must do."""
    monkeypatch.setattr(_files, "being_written", lambda path: False)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(folder))
    changes, hub = checker(folder, env)
    page = folder / "a.html"
    with hub.subscribe() as queue, anyio.fail_after(10):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(changes.run)
            for text in ("{% if x %}half", "{% if x %}whole{% endif %}"):
                page.write_text(text)
                changes.add({page})
                await anyio.sleep(0.05)  # the editor's pause between chunks
            assert json.loads(await queue.receive())["type"] == "page"
            page.write_text("{% if x %}broken for good")
            changes.add({page})
            error = json.loads(await queue.receive())
            tasks.cancel_scope.cancel()

    assert error["type"] == "error"
    assert error["error"]["template"] == "a.html"
    assert changes.error_message() == error


async def test_a_changed_template_beyond_the_compile_limit_is_only_evicted(
    folder: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(_templates, "COMPILE_LIMIT", 1)
    caplog.set_level(logging.INFO, "fastapi_hot_reload")
    env = CountingEnvironment(loader=jinja2.FileSystemLoader(folder))
    env.compiled = []
    b = env.get_template("b.html")
    changes, _ = checker(folder, env)
    (folder / "b.html").write_text("<p>b again</p>")
    (folder / "a.html").write_text("<p>a again</p>")

    changes.add({folder / "a.html", folder / "b.html"})
    await changes.step()

    assert env.compiled == ["b.html", "a.html"]  # b's first load, then a's recompile only
    assert env.get_template("b.html") is not b
    assert "2 templates changed: compiled 1 now" in caplog.text


async def test_a_failing_template_that_compiles_once_settled_is_never_reported(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(folder))
    changes, hub = checker(folder, env)
    with hub.subscribe() as queue:
        (folder / "a.html").write_text("{% if x %}half")
        changes.add({folder / "a.html"})
        await changes.step()  # fails: waits to settle
        (folder / "a.html").write_text("{% if x %}whole{% endif %}")  # its event still on its way
        monkeypatch.setattr(_changes, "SETTLE_MS", 0)
        await changes.step()

        assert untimed(json.loads(queue.receive_nowait())) == {
            "type": "page",
            "rev": 1,
            "paths": ["a.html"],
            "templates": ["a.html"],
        }
    assert changes.error_message() is None


async def test_a_folder_too_big_to_compare_reloads_as_a_whole(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_snapshot, "SNAPSHOT_LIMIT", 1)
    changes, hub = checker(folder, jinja2.Environment(loader=jinja2.FileSystemLoader(folder)))
    with hub.subscribe() as queue:
        changes.add({folder})
        await changes.step()

        assert json.loads(queue.receive_nowait())["paths"] == [folder.name]


async def test_a_build_that_stops_answering_is_no_longer_waited_for(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "fastapi_hot_reload")
    templates, static = tmp_path / "templates", tmp_path / "static"
    templates.mkdir()
    static.mkdir()
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(templates))
    hub = Hub()
    changes = Changes(hub, [env], [templates], [templates, static])
    page, css = templates / "a.html", static / "app.css"
    sent: list[dict[str, Any]] = []
    with hub.subscribe() as queue, anyio.fail_after(10):

        async def save(path: Path, then: Path | None = None) -> None:
            path.write_text(f"{len(sent)}")  # noqa: ASYNC240 - a tiny file; nothing else waits
            changes.add({path})
            if then is not None:
                await anyio.sleep(0.005)  # the build tool's latency: the scenario under test
                then.write_text(f"{len(sent)}")  # noqa: ASYNC240
                changes.add({then})
            sent.append(json.loads(await queue.receive()))

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(changes.run)
            await save(page)
            await save(css)  # soon after: the build is learned
            await save(page, then=css)
            await save(page)  # no build output this time
            tasks.cancel_scope.cancel()

    assert [m["type"] for m in sent] == ["page", "css", "page", "page"]
    assert sent[2]["paths"] == ["a.html", "app.css"]  # the second pair went out as one
    assert "build output followed a template save" in caplog.text
    assert "no build output followed this template save" in caplog.text
