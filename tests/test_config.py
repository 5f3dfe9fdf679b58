"""Configuration: the on/off switch, the path, production-looking servers, errors at startup."""

from __future__ import annotations

import logging
import os
import re
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
from fastapi_hot_reload._middleware.config import (
    Decision,
    checked_path,
    decide,
    development_sign,
    production_signs,
    switch,
)

from .support.server import STARTED, Server


@pytest.mark.parametrize(("value", "result"), [("1", True), ("TRUE", True), (" Yes ", True),
                                               ("on", True), ("0", False), ("False", False),
                                               ("no", False), ("OFF", False), ("", None),
                                               ("  ", None)])  # fmt: skip
def test_environment_variable_says_on_off_or_nothing(value: str, result: bool | None) -> None:
    assert switch(None, {"FASTAPI_HOT_RELOAD": value}) is result


def test_explicit_enabled_wins_over_the_environment() -> None:
    assert switch(True, {"FASTAPI_HOT_RELOAD": "0"}) is True
    assert switch(False, {"FASTAPI_HOT_RELOAD": "nonsense, never read"}) is False


@pytest.mark.parametrize("path", ["/__hot_reload__", "/_dev", "/a/b-c/d.e~f"])
def test_plain_absolute_paths_are_accepted(path: str) -> None:
    assert checked_path(path) == path


@pytest.mark.parametrize(
    ("argv", "signs"),
    [
        (["uvicorn", "app:app"], []),
        (["uvicorn", "app:app", "--reload", "--host", "0.0.0.0"], []),
        (["/venv/bin/uvicorn", "app:app", "--host=127.0.0.1"], []),
        (["uvicorn", "app:app", "--host", "::1"], []),
        (["uvicorn", "app:app", "--host", "localhost", "--workers", "1"], []),
        (["uvicorn", "app:app", "--reload", "--uds", "/tmp/app.sock"], []),
        (["fastapi", "dev", "app.py", "--host", "0.0.0.0"], []),
        (["hypercorn", "-b", "[::1]:8000", "app:app"], []),
        (["hypercorn", "--bind", "127.0.0.1:8000", "-b", "localhost:8001", "app:app"], []),
        (["hypercorn", "--reload", "-b0.0.0.0:8000", "app:app"], []),
        (["granian", "--interface", "asgi", "--reload", "--host", "0.0.0.0", "app:app"], []),
        (["uvicorn", "app:app", "--host"], []),
        (["/venv/lib/uvicorn/__main__.py", "app:app", "--workers", "4"], ["4 workers"]),
        (["uvicorn", "app:app", "--host", "0.0.0.0"], ["bound to 0.0.0.0 without a reloader"]),
        (["uvicorn", "app:app", "--host", "::"], ["bound to :: without a reloader"]),
        (["uvicorn", "app:app", "--host", "shop.example"], ["bound to shop.example without a reloader"]),  # noqa: E501
        (["uvicorn", "app:app", "--uds", "/run/app.sock"], ["serving socket /run/app.sock without a reloader"]),  # noqa: E501
        (["uvicorn", "app:app", "--fd", "3"], ["serving socket 3 without a reloader"]),
        (["fastapi", "dev", "--no-reload", "--host", "10.0.0.2"], ["bound to 10.0.0.2 without a reloader"]),  # noqa: E501
        (["fastapi", "run", "app.py"], ["started with `fastapi run`"]),
        (["gunicorn", "-b", "127.0.0.1:8000", "--reload", "-k", "uvicorn.workers.UvicornWorker", "app:app"],  # noqa: E501
         ["run by gunicorn"]),
        (["gunicorn", "-w", "2", "-b", "0.0.0.0:80", "app:app"],
         ["2 workers", "run by gunicorn", "bound to 0.0.0.0:80 without a reloader"]),
        (["gunicorn", "-w4", "app:app"], ["4 workers", "run by gunicorn"]),
        (["hypercorn", "-b0.0.0.0:8000", "app:app"], ["bound to 0.0.0.0:8000 without a reloader"]),
        (["hypercorn", "-b", "unix:/run/app.sock", "app:app"], ["bound to unix:/run/app.sock without a reloader"]),  # noqa: E501
        (["hypercorn", "-b", "127.0.0.1:8000", "--bind", "[::]:8000", "app:app"],
         ["bound to [::]:8000 without a reloader"]),
        (["hypercorn", "--config", "hypercorn.toml", "app:app"], ["settings read from hypercorn.toml"]),  # noqa: E501
        (["hypercorn", "--reload", "-cprod.toml", "app:app"], ["settings read from prod.toml"]),
        (["granian", "--interface", "asgi", "--workers", "4", "app:app"], ["4 workers"]),
    ],
)  # fmt: skip
def test_production_signs_are_read_from_the_command_line(argv: list[str], signs: list[str]) -> None:
    assert production_signs(argv, {}) == signs


@pytest.mark.parametrize(
    ("argv", "environ", "signs"),
    [
        (["uvicorn", "app:app"], {"WEB_CONCURRENCY": "3"}, ["3 workers"]),
        (["uvicorn", "app:app", "--workers", "1"], {"WEB_CONCURRENCY": "3"}, []),
        (["uvicorn", "app:app"], {"UVICORN_WORKERS": "2"}, ["2 workers"]),
        (["uvicorn", "app:app"], {"UVICORN_HOST": "0.0.0.0"}, ["bound to 0.0.0.0 without a reloader"]),  # noqa: E501
        (["uvicorn", "app:app", "--host", "127.0.0.1"], {"UVICORN_HOST": "0.0.0.0"}, []),
        (["uvicorn", "app:app"], {"UVICORN_HOST": "0.0.0.0", "UVICORN_RELOAD": "true"}, []),
        (["uvicorn", "app:app"], {"UVICORN_UDS": "/run/a.sock"}, ["serving socket /run/a.sock without a reloader"]),  # noqa: E501
        (["granian", "app:app"], {"GRANIAN_WORKERS": "4"}, ["4 workers"]),
        (["granian", "app:app"], {"GRANIAN_HOST": "0.0.0.0"}, ["bound to 0.0.0.0 without a reloader"]),  # noqa: E501
        (["hypercorn", "app:app"], {"UVICORN_HOST": "0.0.0.0"}, []),  # not hypercorn's variable
        ([], {}, []),
    ],
)  # fmt: skip
def test_production_signs_are_read_from_the_servers_environment_variables(
    argv: list[str], environ: dict[str, str], signs: list[str]
) -> None:
    assert production_signs(argv, environ) == signs


@pytest.mark.parametrize(
    ("argv", "environ", "reloader"),
    [
        (["uvicorn", "app:app", "--reload"], {}, "uvicorn --reload"),
        (["/venv/lib/python3.11/site-packages/uvicorn/__main__.py", "app:app", "--reload"], {},
         "uvicorn --reload"),
        (["uvicorn", "app:app"], {"UVICORN_RELOAD": "true"}, "uvicorn --reload"),
        (["uvicorn", "app:app"], {"UVICORN_RELOAD": "0"}, None),
        (["fastapi", "dev", "app.py"], {}, "fastapi dev"),
        (["fastapi", "dev", "--no-reload", "app.py"], {}, None),
        (["fastapi", "run", "app.py"], {}, None),
        (["fastapi-hot-reload", "dev", "app:app"], {}, "fastapi-hot-reload dev"),
        (["/x/fastapi_hot_reload/__main__.py", "dev", "app:app"], {}, "fastapi-hot-reload dev"),
        (["/x/fastapi_hot_reload/_dev/standby.py"], {}, "fastapi-hot-reload dev"),
        (["hypercorn", "--reload", "app:app"], {}, "hypercorn --reload"),
        (["granian", "--interface", "asgi", "--reload", "app:app"], {}, "granian --reload"),
        (["granian", "app:app"], {"GRANIAN_RELOAD": "yes"}, "granian --reload"),
        (["gunicorn", "--reload", "app:app"], {}, None),
        (["uvicorn", "app:app"], {}, None),
        (["pytest"], {}, None),
        (["python", "app.py", "--reload"], {}, None),
    ],
)  # fmt: skip
def test_a_reloader_or_dev_command_is_read_as_its_server_reads_it(
    argv: list[str], environ: dict[str, str], reloader: str | None
) -> None:
    assert development_sign(argv, environ) == reloader


RELOADERS = (
    "uvicorn --reload, fastapi dev, fastapi-hot-reload dev, hypercorn --reload, granian --reload"
)
EXPOSED = "anyone reaching it by a trusted host name sees source lines and tracebacks"


@pytest.mark.parametrize(
    ("enabled", "argv", "environ", "decision"),
    [
        (None, ["uvicorn", "app:app", "--reload"], {},
         Decision(True, "started by `uvicorn --reload`", flip="FASTAPI_HOT_RELOAD=0 or enabled=False turns it off")),  # noqa: E501
        (None, ["uvicorn", "app:app"], {},
         Decision(False, f"no reloader started this process ({RELOADERS})", flip="FASTAPI_HOT_RELOAD=1 turns it on")),  # noqa: E501
        (None, ["uvicorn", "app:app"], {"FASTAPI_HOT_RELOAD": "1"},
         Decision(True, "FASTAPI_HOT_RELOAD=1", flip="FASTAPI_HOT_RELOAD=0 or enabled=False turns it off")),  # noqa: E501
        (None, ["uvicorn", "app:app", "--reload"], {"FASTAPI_HOT_RELOAD": "off"},
         Decision(False, "FASTAPI_HOT_RELOAD=off", flip="unset FASTAPI_HOT_RELOAD for the default")),  # noqa: E501
        (None, ["fastapi", "run", "app.py"], {},
         Decision(False, "this looks like a production server (started with `fastapi run`)", flip="only enabled=True in code turns it on here")),  # noqa: E501
        (None, ["uvicorn", "app:app", "--workers", "2"], {"FASTAPI_HOT_RELOAD": "on"},
         Decision(False, "this looks like a production server (2 workers)", True, "only enabled=True in code turns it on here")),  # noqa: E501
        (True, ["uvicorn", "app:app", "--workers", "2"], {"FASTAPI_HOT_RELOAD": "0"},
         Decision(True, f"enabled=True in code, although this looks like a production server (2 workers): {EXPOSED}", True, "enabled=False turns it off")),  # noqa: E501
        (True, ["uvicorn", "app:app"], {"FASTAPI_HOT_RELOAD": "0"},
         Decision(True, "enabled=True in code", flip="enabled=False turns it off")),
        (False, ["uvicorn", "app:app", "--reload"], {"FASTAPI_HOT_RELOAD": "1"},
         Decision(False, "enabled=False in code", flip="enabled=True turns it on")),
    ],
)  # fmt: skip
def test_it_is_on_by_default_only_under_a_reloader_and_never_quietly_in_production(
    enabled: bool | None, argv: list[str], environ: dict[str, str], decision: Decision
) -> None:
    assert decide(enabled, argv, environ) == decision


@pytest.mark.parametrize(
    ("argv", "environ", "line"),
    [
        (["uvicorn", "app:app", "--host", "0.0.0.0"], {},
         "INFO hot reload is off: this looks like a production server (bound to 0.0.0.0 without a "
         "reloader); a reloader (--reload) or enabled=True in code turns it on here"),
        (["uvicorn", "app:app", "--host", "0.0.0.0"], {"FASTAPI_HOT_RELOAD": "1"},
         "WARNING hot reload is off: this looks like a production server (bound to 0.0.0.0 "
         "without a reloader); a reloader (--reload) or enabled=True in code turns it on here"),
        (["pytest"], {}, f"INFO hot reload is off: no reloader started this process ({RELOADERS}); "
         "FASTAPI_HOT_RELOAD=1 turns it on"),
    ],
)  # fmt: skip
def test_the_start_up_line_of_an_off_decision_is_logged_at_construction(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    argv: list[str],
    environ: dict[str, str],
    line: str,
) -> None:
    monkeypatch.setattr(sys, "argv", argv)
    monkeypatch.delenv("FASTAPI_HOT_RELOAD")
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    with caplog.at_level(logging.INFO, "fastapi_hot_reload"):
        app = HotReload(Starlette(routes=[Route("/", lambda r: HTMLResponse("<body></body>"))]))
    assert [f"{r.levelname} {r.getMessage()}" for r in caplog.records] == [line]
    assert TestClient(app).get("/").text == "<body></body>"


def test_turned_on_in_code_where_it_looks_like_production_it_says_so_loudly(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(sys, "argv", ["gunicorn", "app:app"])
    with caplog.at_level(logging.INFO, "fastapi_hot_reload"):
        app = HotReload(Starlette(), enabled=True)
    assert [f"{r.levelname} {r.getMessage()}" for r in caplog.records] == [
        "WARNING HOT RELOAD IS ON: enabled=True in code, although this looks like a production "
        f"server (run by gunicorn): {EXPOSED}; enabled=False turns it off"
    ]
    assert TestClient(app).get("/__hot_reload__/client/main.js").status_code == 200


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


@pytest.mark.parametrize(
    ("args", "environ", "on", "line"),
    [
        ((), {"FASTAPI_HOT_RELOAD": ""}, False,
         "INFO:     hot reload is off: no reloader started this process"),
        (("--reload",), {"FASTAPI_HOT_RELOAD": ""}, True,
         "INFO:     hot reload on (started by `uvicorn --reload`), watching"),
        ((), {"FASTAPI_HOT_RELOAD": "", "UVICORN_RELOAD": "true"}, True,
         "INFO:     hot reload on (started by `uvicorn --reload`), watching"),
        ((), {}, True, "INFO:     hot reload on (FASTAPI_HOT_RELOAD=1), watching"),
    ],
    ids=["plain uvicorn", "--reload", "UVICORN_RELOAD", "FASTAPI_HOT_RELOAD=1"],
)  # fmt: skip
def test_a_real_uvicorn_turns_it_on_only_under_its_reloader_or_when_asked(
    app_dir: Path, args: tuple[str, ...], environ: dict[str, str], on: bool, line: str
) -> None:
    server = Server(app_dir, *args, env=environ, ready=STARTED)
    try:
        page = server.get("/")
        server.wait_for_log(re.escape(line))
    finally:
        server.stop()
    assert page.status_code == 200
    assert ("data-hot-reload" in page.text) is on


def assert_one_error(log: str, message: str) -> None:
    """The log says ``message`` in one ERROR line, then uvicorn's own line, and nothing else."""
    lines = [line for line in log.splitlines() if line.startswith("ERROR")]
    assert len(lines) == 2, log
    assert lines[0].startswith(f"ERROR:    hot reload is misconfigured: {message}"), log
    assert lines[1] == "ERROR:    Application startup failed. Exiting."
    assert "Traceback" not in log
    assert "unsupported" not in log


def test_uvicorn_workers_keep_it_off_even_when_asked_and_say_so(app_dir: Path) -> None:
    """Spawned workers see the command line too: each one says it is off, and is, although
    ``FASTAPI_HOT_RELOAD=1`` (set for every test) asks for it."""
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
            "only enabled=True in code turns it on here"
        )
        == 2
    )
