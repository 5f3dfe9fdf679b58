"""Shared fixtures: a real app on disk, served by a real uvicorn process on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from functools import partialmethod
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext
from starlette.testclient import TestClient
from websockets.sync.client import ClientConnection, connect

from ._browser import TIMEOUT_MS

APP = """
import os
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from fastapi_hot_reload import HotReload

templates = Jinja2Templates(directory="templates")
app = FastAPI()
app.add_middleware(HotReload, templates=templates, watch=["static"])
app.mount("/static", StaticFiles(directory="static"), name="static")


@app.get("/", response_class=HTMLResponse)
async def index(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "index.html", {"pid": os.getpid()})


@app.get("/{name}.html", response_class=HTMLResponse)
async def page(request: Request, name: str) -> HTMLResponse:
    return templates.TemplateResponse(request, name + ".html", {"pid": os.getpid()})


@app.get("/pid")
async def pid() -> int:
    return os.getpid()
"""

BASE = """<!doctype html>
<html><head><title>test</title><link rel="stylesheet" href="/static/style.css"></head>
<body>{% block content %}{% endblock %}</body></html>
"""


def write_app(folder: Path, body: str = '<h1 id="title">first</h1>') -> Path:
    """A FastAPI app with a base template, a page extending it and a static folder."""
    (folder / "templates").mkdir(parents=True, exist_ok=True)
    (folder / "static").mkdir(exist_ok=True)
    (folder / "app.py").write_text(textwrap.dedent(APP))
    (folder / "templates" / "base.html").write_text(BASE)
    page(folder, body)
    (folder / "static" / "style.css").write_text("h1 { color: rgb(0, 0, 255); }\n")
    return folder


def page(folder: Path, body: str) -> Path:
    """Write ``templates/index.html`` with ``body`` as its content block."""
    path = folder / "templates" / "index.html"
    text = '{% extends "base.html" %}{% block content %}' + body + "{% endblock %}\n"
    path.write_text(text)
    return path


class Server:
    """A uvicorn process serving ``app:app`` from a folder, on a free port of 127.0.0.1."""

    def __init__(
        self,
        folder: Path,
        *args: str,
        env: dict[str, str] | None = None,
        prefix: Sequence[str] = (),
        command: Sequence[str] = ("-m", "uvicorn", "app:app"),
        listen: Sequence[str] = ("--host", "127.0.0.1", "--port", "0"),
    ) -> None:
        """``prefix`` runs the server through a wrapper command (``setpriv ...``); ``command``
        is what Python runs, before ``listen`` (a free port of 127.0.0.1) and ``args``."""
        self.process = subprocess.Popen(
            [*prefix, sys.executable, *command, *listen, *args],
            cwd=folder,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._started = threading.Event()
        self._port = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._started.wait(30):
            self.stop()
            raise RuntimeError("uvicorn did not start:\n" + self.log)
        self.url = f"http://127.0.0.1:{self._port}"
        self.ws_url = f"ws://127.0.0.1:{self._port}/__hot_reload__/ws"

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            if found := re.search(r"Running on http://127\.0\.0\.1:(\d+)", line, re.IGNORECASE):
                self._port = int(found[1])
                self._started.set()

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def wait_for_log(self, pattern: str, timeout: float = 30, start: int = 0) -> str:
        """The first log line from line ``start`` on that matches ``pattern``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines[start:]:
                if re.search(pattern, line):
                    return line
            time.sleep(0.02)
        raise AssertionError(f"no log line matches {pattern!r}:\n{self.log}")

    def get(self, path: str = "/", headers: dict[str, str] | None = None) -> httpx.Response:
        return httpx.get(self.url + path, headers=headers, timeout=10)

    def pid(self) -> int:
        return int(self.get("/pid").json())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:  # pragma: no cover - only when shutdown hangs
                self.process.kill()
                self.process.wait()
        self._reader.join(10)
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture(autouse=True)
def _requests_to_localhost(monkeypatch: pytest.MonkeyPatch) -> None:
    """``TestClient`` asks for ``localhost``, as the developer's browser does.

    Its own default host, ``testserver``, is no host hot reload trusts; the tests of untrusted
    hosts give their host in full URLs.
    """
    monkeypatch.setattr(
        TestClient, "__init__", partialmethod(TestClient.__init__, base_url="http://localhost")
    )
    connect = TestClient.websocket_connect

    def websocket_connect(self: TestClient, url: str, *args: Any, **kwargs: Any) -> Any:
        return connect(self, urljoin("ws://localhost", url), *args, **kwargs)

    monkeypatch.setattr(TestClient, "websocket_connect", websocket_connect)


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    return write_app(tmp_path / "site")


@pytest.fixture
def server(app_dir: Path) -> Iterator[Server]:
    running = Server(app_dir)
    yield running
    running.stop()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile on the module's ``browser`` (each browser test module has one)."""
    opened = browser.new_context()
    opened.set_default_timeout(TIMEOUT_MS)
    yield opened
    opened.close()


class Tab:
    """A websocket client standing in for one open browser tab."""

    def __init__(self, url: str) -> None:
        self._stack = ExitStack()
        self.socket: ClientConnection = self._stack.enter_context(connect(url, open_timeout=10))
        self.hello = self.next()
        assert self.hello["type"] == "hello"

    def next(self, timeout: float = 10) -> dict[str, object]:
        message: dict[str, object] = json.loads(self.socket.recv(timeout=timeout))
        return message

    def assert_quiet(self, seconds: float = 0.5) -> None:
        """Nothing more arrives for ``seconds`` (a generous bound, not a timing goal)."""
        with pytest.raises(TimeoutError):
            extra = self.socket.recv(timeout=seconds)
            pytest.fail(f"unexpected message: {extra!r}")

    def close(self) -> None:
        self._stack.close()


@pytest.fixture
def tabs(server: Server) -> Iterator[list[Tab]]:
    opened = [Tab(server.ws_url), Tab(server.ws_url)]
    yield opened
    for tab in opened:
        tab.close()


@pytest.fixture
def anyio_backend() -> str:
    """asyncio only: anyio's default runs trio too wherever trio is installed."""
    return "asyncio"
