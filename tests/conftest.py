"""Shared fixtures (a real app on disk, served by a real uvicorn process on 127.0.0.1) and the
lanes; the helpers themselves are in ``support/``."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from contextlib import suppress
from functools import partialmethod
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
from playwright.sync_api import Browser, BrowserContext
from starlette.testclient import TestClient

from .support import lanes
from .support.apps import write_app
from .support.browser import TIMEOUT_MS
from .support.server import Server, Tab


@pytest.fixture(autouse=True, scope="session")
def _switched_on() -> Iterator[None]:
    """Hot reload is on, as a developer turns it on under a plain ``uvicorn app:app``: no
    reloader starts pytest (or the servers the tests start). For every fixture, module-scoped
    ones too; the tests of the default unset it with ``monkeypatch``."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FASTAPI_HOT_RELOAD", "1")
        yield


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


@pytest.fixture
def tabs(server: Server) -> Iterator[list[Tab]]:
    opened = [Tab(server.ws_url), Tab(server.ws_url)]
    yield opened
    for tab in opened:
        tab.close()


#: Modules whose tests run the tools themselves (ruff, mypy, a wheel build, the benchmarks).
SLOW_MODULES = {"test_quality", "test_package", "test_benchmarks"}
#: What in a test, or in a fixture it uses, starts a real server process or drives Chromium.
_SERVER_SIGNS = ("Server(", "Nginx(", "Popen(", "subprocess.run(", "uvicorn.run(", "Hypercorn")
_BROWSER_SIGNS = ("chromium(",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The lanes: ``server`` (a real server process), ``browser`` (a real Chromium), ``slow``
    (the tools, the benchmarks), read off what each test and its fixtures do; the quick lane
    runs ``-m "not server and not browser and not slow"``."""
    for item in items:
        if not isinstance(item, pytest.Function):
            continue  # pragma: no cover - every test here is a function
        source = _sources(item)
        if any(sign in source for sign in _BROWSER_SIGNS) or "browser" in item.fixturenames:
            item.add_marker(pytest.mark.browser)
        if any(sign in source for sign in _SERVER_SIGNS) or "server" in item.fixturenames:
            item.add_marker(pytest.mark.server)
        if item.module is not None and item.module.__name__.rsplit(".", 1)[-1] in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


def _sources(item: pytest.Function) -> str:
    """The source of the test, of every fixture it uses, and of every test helper they call
    (a function of ``tests``, not of the code under test), and so on."""
    definitions = item._fixtureinfo.name2fixturedefs  # pytest has no public way
    pending = [item.function, *(d[-1].func for d in definitions.values())]
    seen: set[object] = set()
    texts = []
    while pending:
        function = pending.pop()
        if function in seen:
            continue
        seen.add(function)
        with suppress(OSError, TypeError):
            text = inspect.getsource(function)
            texts.append(text)
            module = vars(inspect.getmodule(function) or object)
            for name in re.findall(r"\b(\w+)\(", text):
                called = module.get(name)
                if inspect.isfunction(called) and called.__module__.startswith("tests."):
                    pending.append(called)
    return "\n".join(texts)


@pytest.fixture(autouse=True)
def _lane(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that starts a server or a browser without its lane's marker fails: the quick lane
    never starts one by accident."""
    with lanes.entered(
        server=request.node.get_closest_marker("server") is not None,
        browser=request.node.get_closest_marker("browser") is not None,
    ):
        yield


@pytest.fixture
def anyio_backend() -> str:
    """asyncio only: anyio's default runs trio too wherever trio is installed."""
    return "asyncio"
