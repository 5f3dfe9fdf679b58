"""Configuration: the on/off switch, the path, production-looking servers, errors at startup."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.types import Message

from fastapi_hot_reload import HotReload
from fastapi_hot_reload._middleware.config import checked_path, decide, production_signs, switch

from .support.server import Server

ACCEPTED = "expected 1, true, yes, on \\(on\\) or 0, false, no, off \\(off\\)"


@pytest.mark.parametrize(("value", "result"), [("1", True), ("TRUE", True), (" Yes ", True),
                                               ("on", True), ("0", False), ("False", False),
                                               ("no", False), ("OFF", False), ("", None),
                                               ("  ", None)])  # fmt: skip
def test_environment_variable_says_on_off_or_nothing(value: str, result: bool | None) -> None:
    assert switch(None, {"FASTAPI_HOT_RELOAD": value}) is result


@pytest.mark.parametrize("value", ["disable", "disabled", "n", "f", "none", "2", "of"])
def test_other_environment_values_are_an_error_naming_the_accepted_ones(value: str) -> None:
    with pytest.raises(ValueError, match=f"FASTAPI_HOT_RELOAD={value!r}: {ACCEPTED}"):
        switch(None, {"FASTAPI_HOT_RELOAD": value})


def test_explicit_enabled_wins_over_the_environment() -> None:
    assert switch(True, {"FASTAPI_HOT_RELOAD": "0"}) is True
    assert switch(False, {"FASTAPI_HOT_RELOAD": "nonsense, never read"}) is False


def test_a_bad_environment_value_fails_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FASTAPI_HOT_RELOAD", "disable")
    with pytest.raises(ValueError, match="FASTAPI_HOT_RELOAD='disable'"):
        HotReload(Starlette())


@pytest.mark.parametrize("path", ["/__hot_reload__", "/_dev", "/a/b-c/d.e~f"])
def test_plain_absolute_paths_are_accepted(path: str) -> None:
    assert checked_path(path) == path


@pytest.mark.parametrize(
    "path",
    ["", "hot", "/", "/hot/", "//evil.example", "/a//b", "/a\\b", "\\\\evil", "/a?x", "/a#x",
     "/a b", "/a%2fb", "/./a", "/a/..", "/a/../b", "/é", "http://evil.example/x", 42],
)  # fmt: skip
def test_other_paths_are_an_error(path: object) -> None:
    with pytest.raises(ValueError, match=r"path: expected a plain absolute URL path") as error:
        checked_path(path)
    assert str(error.value).endswith(f"got {path!r}")


def test_a_bad_path_fails_construction() -> None:
    with pytest.raises(ValueError, match=r"got '//evil\.example'"):
        HotReload(Starlette(), path="//evil.example")


@pytest.mark.parametrize(
    ("argv", "signs"),
    [
        (["uvicorn", "app:app"], []),
        (["uvicorn", "app:app", "--reload", "--host", "0.0.0.0"], []),
        (["/venv/bin/uvicorn", "app:app", "--host=127.0.0.1"], []),
        (["uvicorn", "app:app", "--host", "::1"], []),
        (["uvicorn", "app:app", "--host", "localhost", "--workers", "1"], []),
        (["uvicorn", "app:app", "--uds", "/tmp/app.sock"], []),
        (["fastapi", "dev", "app.py", "--host", "0.0.0.0"], []),
        (["hypercorn", "-b", "unix:/tmp/app.sock", "app:app"], []),
        (["hypercorn", "-b", "[::1]:8000", "app:app"], []),
        (["gunicorn", "-b", "0.0.0.0:8000", "--reload", "app:app"], []),
        (["hypercorn", "--bind", "127.0.0.1:8000", "app:app"], []),
        (["uvicorn", "app:app", "--host"], []),
        (["/venv/lib/uvicorn/__main__.py", "app:app", "--workers", "4"], ["4 workers"]),
        (["uvicorn", "app:app", "--host", "0.0.0.0"], ["bound to 0.0.0.0 without --reload"]),
        (["uvicorn", "app:app", "--host", "::"], ["bound to :: without --reload"]),
        (["uvicorn", "app:app", "--host", "shop.example"], ["bound to shop.example without --reload"]),  # noqa: E501
        (["fastapi", "dev", "--no-reload", "--host", "10.0.0.2"], ["bound to 10.0.0.2 without --reload"]),  # noqa: E501
        (["fastapi", "run", "app.py"], ["started with `fastapi run`"]),
        (["gunicorn", "-w", "2", "-b", "0.0.0.0:80", "app:app"],
         ["2 workers", "run by gunicorn", "bound to 0.0.0.0:80 without --reload"]),
    ],
)  # fmt: skip
def test_production_signs_are_read_from_the_command_line(argv: list[str], signs: list[str]) -> None:
    assert production_signs(argv, {}) == signs


def test_web_concurrency_counts_as_workers_unless_the_command_line_says() -> None:
    assert production_signs(["uvicorn", "app:app"], {"WEB_CONCURRENCY": "3"}) == ["3 workers"]
    assert (
        production_signs(["uvicorn", "app:app", "--workers", "1"], {"WEB_CONCURRENCY": "3"}) == []
    )
    assert production_signs([], {}) == []


def test_default_is_on_for_a_development_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["uvicorn", "app:app", "--reload"])
    monkeypatch.delenv("FASTAPI_HOT_RELOAD", raising=False)
    assert decide(None) == (True, None)
    assert decide(False) == (False, None)


def test_default_is_off_where_it_looks_like_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["fastapi", "run", "app.py"])
    monkeypatch.delenv("FASTAPI_HOT_RELOAD", raising=False)
    assert decide(None) == (
        False,
        "hot reload is off: this looks like a production server (started with `fastapi run`); "
        "set FASTAPI_HOT_RELOAD=1 or enabled=True to turn it on",
    )


def test_turned_on_where_it_looks_like_production_it_says_so_loudly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "argv", ["uvicorn", "app:app", "--workers", "2"])
    monkeypatch.setenv("FASTAPI_HOT_RELOAD", "on")
    enabled, warning = decide(None)
    assert enabled is True
    assert warning == (
        "HOT RELOAD IS ON, but this looks like a production server (2 workers): anyone reaching "
        "it by a trusted host name sees source lines and tracebacks; set FASTAPI_HOT_RELOAD=0 "
        "or enabled=False to turn it off"
    )


def test_the_production_warning_is_logged_at_construction(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(sys, "argv", ["uvicorn", "app:app", "--host", "0.0.0.0"])
    with caplog.at_level(logging.WARNING, "fastapi_hot_reload"):
        app = HotReload(Starlette(routes=[Route("/", lambda r: HTMLResponse("<body></body>"))]))
    assert "hot reload is off: this looks like a production server" in caplog.text
    assert TestClient(app).get("/").text == "<body></body>"


async def test_an_error_found_inside_the_server_fails_the_lifespan_startup() -> None:
    """Constructed while a loop runs (uvicorn importing the app, Starlette building its
    middleware), a bad option fails the startup with one message, not as "lifespan unsupported".
    """
    app = HotReload(Starlette(), path="/hot/")
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        sent.append(message)

    with pytest.raises(ValueError, match="got '/hot/'"):  # as Starlette does after a failure
        await app({"type": "lifespan"}, receive, send)
    assert sent == [
        {
            "type": "lifespan.startup.failed",
            "message": "hot reload is misconfigured: path: expected a plain absolute URL path "
            "like '/__hot_reload__' (letters, digits and -._~ between single slashes, no slash "
            "at the end), got '/hot/'",
        }
    ]
    with pytest.raises(ValueError, match="got '/hot/'"):  # a server without a lifespan
        await app({"type": "http", "headers": []}, receive, send)


def test_a_configuration_error_of_add_middleware_is_raised_by_the_test_client() -> None:
    app = FastAPI()
    app.add_middleware(HotReload, path="/hot/")  # built inside the client's event loop

    with pytest.raises(ValueError, match="got '/hot/'"), TestClient(app):
        pass  # pragma: no cover - the startup fails


MISCONFIGURED = """
from fastapi import FastAPI
from fastapi_hot_reload import HotReload

app = FastAPI()
app.add_middleware(HotReload, path="//evil.example")
"""


@pytest.mark.parametrize(
    ("app", "env", "error"),
    [
        (MISCONFIGURED, {}, "path: expected a plain absolute URL path"),
        (MISCONFIGURED.replace('path="//evil.example"', ""), {"FASTAPI_HOT_RELOAD": "disable"},
         "FASTAPI_HOT_RELOAD='disable': expected"),
    ],
    ids=["option", "environment"],
)  # fmt: skip
def test_a_configuration_error_stops_uvicorn_with_one_clear_error_line(
    tmp_path: Path, app: str, env: dict[str, str], error: str
) -> None:
    (tmp_path / "app.py").write_text(app)
    done = subprocess.run(
        [sys.executable, "-m", "uvicorn", "app:app", "--port", "0"],
        cwd=tmp_path,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3  # uvicorn's exit code for a failed startup
    assert_one_error(done.stderr, error)


def test_a_configuration_error_at_import_under_reload_is_one_clear_error_line(
    tmp_path: Path,
) -> None:
    (tmp_path / "app.py").write_text(
        "from fastapi_hot_reload import HotReload\napp = HotReload(None, watch='static')\n"
    )
    server = Server(tmp_path, "--reload")
    try:
        server.wait_for_log("Application startup failed")
    finally:
        server.stop()
    assert_one_error(server.log, "watch: expected a list of folders, got 'static'")


def assert_one_error(log: str, message: str) -> None:
    """The log says ``message`` in one ERROR line, then uvicorn's own line, and nothing else."""
    lines = [line for line in log.splitlines() if line.startswith("ERROR")]
    assert len(lines) == 2, log
    assert lines[0].startswith(f"ERROR:    hot reload is misconfigured: {message}"), log
    assert lines[1] == "ERROR:    Application startup failed. Exiting."
    assert "Traceback" not in log
    assert "unsupported" not in log


def test_uvicorn_workers_switch_it_off_by_default_and_say_so(app_dir: Path) -> None:
    """Spawned workers see the command line too: each one says it is off, and is."""
    server = Server(app_dir, "--workers", "2")
    try:
        # The workers listen once their startup is complete.
        first = server.wait_for_log("Application startup complete")
        server.wait_for_log("Application startup complete", start=server.lines.index(first) + 1)
        page = server.get("/")
    finally:
        server.stop()
    assert page.status_code == 200
    assert "data-hot-reload" not in page.text
    assert (
        server.log.count(
            "WARNING:  hot reload is off: this looks like a production server (2 workers); "
            "set FASTAPI_HOT_RELOAD=1 or enabled=True to turn it on"
        )
        == 2
    )
