"""Editor noise filtering, folders that come, go or are swapped, and a watch that never dies."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from watchfiles import Change

from fastapi_hot_reload._middleware.changes import watcher as _watcher
from fastapi_hot_reload._middleware.changes.watcher import (
    EditorNoiseFilter,
    keep_running,
    watch_folders,
)

from .support.apps import write_app
from .support.server import Server, Tab

if sys.version_info < (3, 11):
    from exceptiongroup import ExceptionGroup

NOISE = [
    "4913",
    "5036",
    ".index.html.swp",
    ".index.html.swx",
    "index.html~",
    ".#index.html",
    "#index.html#",
    "index.html.tmp",
    ".index.html.tmp1234",
    "index.html.tmp.12.34",
    "sedAb12Cd",
    ".goutputstream-XYZ123",
    "index.html.kate-swp",
    "style.css.crswap",
]
REAL = ["index.html", "page.tmpl", "style.css", "app.js", "logo.png", "2024.md", "tmp.html"]


@pytest.mark.parametrize("name", NOISE)
def test_editor_scratch_files_are_noise(name: str) -> None:
    assert not EditorNoiseFilter()(Change.added, f"/site/templates/{name}")


@pytest.mark.parametrize("name", REAL)
def test_real_files_are_not_noise(name: str) -> None:
    assert EditorNoiseFilter()(Change.modified, f"/site/templates/{name}")


def test_files_in_ignored_folders_are_noise() -> None:
    assert not EditorNoiseFilter()(Change.added, "/site/static/node_modules/x/index.js")


async def test_folder_created_after_start_is_watched(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "later"
    seen: list[set[Path]] = []
    stop = anyio.Event()

    def on_change(paths: set[Path]) -> None:
        seen.append(paths)
        if len(seen) == 2:
            stop.set()

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(watch_folders, [folder], on_change, stop)
        with anyio.fail_after(10):
            while "no such folder" not in caplog.text:  # noqa: ASYNC110 - a log line, not an event
                await anyio.sleep(0.01)
            folder.mkdir()
            while not seen:  # noqa: ASYNC110 - polls what the callback saw
                await anyio.sleep(0.01)
            (folder / "page.html").write_text("x")
            await stop.wait()

    assert seen == [{folder}, {folder / "page.html"}]


async def test_a_watch_that_fails_to_start_is_logged_and_tried_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder can vanish between the existence check and the watch: log it, try again, and
    have what the lost watch missed found by comparing the folder's files."""
    real_awatch = _watcher.awatch  # type: ignore[attr-defined]
    calls: list[int] = []

    def flaky_awatch(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise FileNotFoundError("gone for a moment")
        return real_awatch(*args, **kwargs)

    monkeypatch.setattr(_watcher, "awatch", flaky_awatch)
    monkeypatch.setattr(_watcher, "RECHECK_MS", 10)
    seen: list[set[Path]] = []
    stop = anyio.Event()

    def on_change(paths: set[Path]) -> None:
        seen.append(paths)
        if tmp_path / "page.html" in paths:
            stop.set()

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(watch_folders, [tmp_path], on_change, stop)
        with anyio.fail_after(10):
            while len(calls) < 2:  # noqa: ASYNC110 - polls what the fake saw
                await anyio.sleep(0.01)
            await anyio.sleep(0.1)  # the second watch is set up in the same step as the call
            (tmp_path / "page.html").write_text("x")
            await stop.wait()

    assert "cannot watch" not in caplog.text
    assert "failed (FileNotFoundError: gone for a moment)" in caplog.text
    assert seen == [{tmp_path}, {tmp_path / "page.html"}]  # what the failed watch missed: a rescan


def lifespan_app(folder: Path) -> Path:
    """The shared test app, with shutdown code of its own that must run."""
    write_app(folder)
    app = folder / "app.py"
    text = app.read_text().replace(
        "app = FastAPI()",
        "from contextlib import asynccontextmanager\n\n\n"
        "@asynccontextmanager\nasync def lifespan(app):\n    yield\n"
        "    print('app shutdown code ran', flush=True)\n\n\napp = FastAPI(lifespan=lifespan)",
    )
    app.write_text(text)
    return folder


def next_naming(tab: Tab, name: str) -> dict[str, object]:
    """The first message from now on that names ``name``."""
    while name not in (found := tab.next())["paths"]:  # type: ignore[operator]
        pass
    return found


def test_a_name_that_is_not_utf8_is_skipped_with_one_warning(tmp_path: Path) -> None:
    site = lifespan_app(tmp_path / "site")
    server = Server(site)
    try:
        server.wait_for_log("hot reload on")
        tab = Tab(server.ws_url)
        bad = os.path.join(os.fsencode(site / "static"), b"bad-\xff.html")
        for text in ("one", "two"):
            with open(bad, "w") as file:
                file.write(text)
            (site / "static" / "style.css").write_text(f"h1 {{ content: '{text}'; }}\n")
            assert next_naming(tab, "style.css")["type"] == "css"  # not lost with the batch
        server.wait_for_log(r"WARNING.*skipping .*bad-.*: its name is not valid UTF-8")
        assert server.log.count("not valid UTF-8") == 1
        assert server.get().status_code == 200
        tab.close()
    finally:
        server.stop()
    assert "app shutdown code ran" in server.log  # the app's lifespan was never cancelled


@pytest.mark.parametrize("how", ["rename", "symlink"])
def test_a_folder_swapped_under_the_watch_is_watched_again(
    server: Server, tabs: list[Tab], app_dir: Path, how: str
) -> None:
    static, new = app_dir / "static", app_dir / "static.new"
    new.mkdir()
    (new / "style.css").write_text("h1 { color: green; }\n")
    server.wait_for_log("hot reload on")

    static.rename(app_dir / "static.old")
    if how == "rename":
        new.rename(static)
    else:
        static.symlink_to(new, target_is_directory=True)

    server.wait_for_log(r"INFO.*watching .*static again")
    assert next_naming(tabs[0], "style.css")["type"] == "css"  # its bytes differ from before
    (static / "style.css").write_text("h1 { color: purple; }\n")
    assert next_naming(tabs[0], "style.css")["type"] == "css"
    assert "purple" in server.get("/static/style.css").text


async def test_a_failing_task_is_logged_and_run_again(caplog: pytest.LogCaptureFixture) -> None:
    runs: list[int] = []

    async def task() -> None:
        runs.append(1)
        if len(runs) < 3:
            raise ExceptionGroup("in a group", [RuntimeError(f"bad luck {len(runs)}")])

    with anyio.fail_after(10):
        await keep_running("checking", task)

    assert len(runs) == 3
    assert "checking failed (RuntimeError: bad luck 1), trying again" in caplog.text
    assert "bad luck 2" in caplog.text


async def test_watchfiles_own_info_lines_are_silenced(tmp_path: Path) -> None:
    stop = anyio.Event()
    stop.set()
    logging.getLogger("watchfiles.main").setLevel(logging.NOTSET)

    await watch_folders([tmp_path], lambda paths: None, stop)

    assert logging.getLogger("watchfiles.main").level == logging.WARNING


async def test_a_file_where_a_folder_should_be_is_not_watched(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "static").write_text("a file, not a folder")
    stop = anyio.Event()

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(watch_folders, [tmp_path / "static"], lambda paths: None, stop)
        with anyio.fail_after(10):
            while "no such folder" not in caplog.text:  # noqa: ASYNC110 - a log line, not an event
                await anyio.sleep(0.01)
        stop.set()
