"""Editor noise filtering, and folders that come and go."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from watchfiles import Change

from fastapi_hot_reload import _watcher
from fastapi_hot_reload._watcher import EditorNoiseFilter, watch_folders

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
    """A folder can vanish between the existence check and the watch: log it, try again."""
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
        stop.set()

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(watch_folders, [tmp_path], on_change, stop)
        with anyio.fail_after(10):
            while len(calls) < 2:  # noqa: ASYNC110 - polls what the fake saw
                await anyio.sleep(0.01)
            await anyio.sleep(0.1)  # the second watch is set up in the same step as the call
            (tmp_path / "page.html").write_text("x")
            await stop.wait()

    assert "cannot watch" in caplog.text
    assert "gone for a moment" in caplog.text
    assert seen == [{tmp_path / "page.html"}]
