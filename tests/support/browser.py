"""One Chromium launcher (one argument list, one lookup of the binary) for tests and benchmarks,
and the browser tests' helpers: watching a page, and a cuttable TCP relay."""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Frame,
    Page,
    Route,
    expect,
    sync_playwright,
)

from . import lanes

#: Flags for a quiet, offline, headless Chromium that only ever talks to 127.0.0.1.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

#: The readiness signal once the client is connected (and not morphing or reloading).
CONNECTED = 'html[data-hot-reload="connected"]'

#: A hang guard for every wait on the page, not a timing goal: states arrive in milliseconds.
TIMEOUT_MS = 20_000

#: Runs before any page script, on every load: records each value ``data-hot-reload`` takes.
RECORD_STATES = """
window.__states = [];
new MutationObserver((records) => {
  records.forEach((record, i) => {
    const next = records[i + 1];
    window.__states.push(next ? next.oldValue : document.documentElement.dataset.hotReload);
  });
}).observe(document, {
  subtree: true, attributeFilter: ["data-hot-reload"], attributeOldValue: true,
});
"""


def find_chromium() -> str | None:
    """The system Chromium (Debian names it ``chromium``, Ubuntu ``chromium-browser``)."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def launch_options(*args: str, **options: Any) -> dict[str, Any]:
    """What ``playwright.chromium.launch`` takes, sync or async: the system Chromium, headless,
    with ``CHROMIUM_ARGS`` and ``args``."""
    lanes.check("browser")
    executable = find_chromium()
    if executable is None:
        raise LookupError("no Chromium found on PATH; install it with: apt-get install chromium")
    return {
        "executable_path": executable,
        "headless": True,
        "args": [*CHROMIUM_ARGS, *args],
        **options,
    }


def hold_first(page: Page, pattern: str) -> list[Route]:
    """Hold back the first request for ``pattern`` (``continue_()`` it from the list returned,
    once it holds it); every later one goes through: a client that arrives late, once."""
    held: list[Route] = []

    def hold_the_first(route: Route) -> None:
        if held:
            route.continue_()
        else:
            held.append(route)

    page.route(pattern, hold_the_first)
    return held


@contextmanager
def chromium(*args: str, **options: Any) -> Iterator[Browser]:
    """``launch_options(*args, **options)`` launched; skipped without a Chromium (a failure on
    CI, which must install it)."""
    try:
        launch = launch_options(*args, **options)
    except LookupError as missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{missing} (CI must install it)")
        pytest.skip(str(missing))
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(**launch)
        yield launched
        launched.close()


class Watched:
    """One open tab, with every main-frame load and every console line it has seen."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.loads: list[str] = []
        self.console: list[str] = []
        page.add_init_script(RECORD_STATES)
        page.on("framenavigated", self._navigated)
        page.on("console", self._logged)

    def _navigated(self, frame: Frame) -> None:
        if frame == self.page.main_frame:
            self.loads.append(frame.url)

    def _logged(self, message: ConsoleMessage) -> None:
        self.console.append(message.text)

    @property
    def hot_reload_lines(self) -> list[str]:
        return [line for line in self.console if line.startswith("[hot-reload] ")]

    def states(self) -> list[str]:
        states: list[str] = self.page.evaluate("window.__states")
        return states


class Relay:
    """A TCP relay in front of a server, standing in for the network between tab and server.

    ``cut()`` drops every connection through it at once, without a close frame: a network blip.
    The next connection goes through to the same server process.
    """

    def __init__(self, upstream_port: int) -> None:
        self._upstream = upstream_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections = 0
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            server = socket.create_connection(("127.0.0.1", self._upstream))
            with self._lock:
                self.connections += 1
                self._open |= {client, server}
            for source, target in ((client, server), (server, client)):
                thread = threading.Thread(target=_pump, args=(source, target), daemon=True)
                thread.start()
                self._threads.append(thread)

    def cut(self) -> None:
        """Drop every open connection, both ways, as a pulled cable would."""
        with self._lock:
            sockets, self._open = self._open, set()
        for sock in sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        with suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self._listener.close()
        self.cut()
        for thread in self._threads:
            thread.join(5)


def _pump(source: socket.socket, target: socket.socket) -> None:
    with suppress(OSError):
        while data := source.recv(65536):
            target.sendall(data)
        target.shutdown(socket.SHUT_WR)


def open_tab(context: BrowserContext, url: str) -> Watched:
    """A new tab on ``url``, once its client is connected."""
    tab = Watched(context.new_page())
    tab.page.goto(url)
    expect_connected(tab.page)
    return tab


def expect_connected(tab: Page) -> None:
    expect(tab.locator(CONNECTED)).to_be_attached()


def assert_line(lines: list[str], pattern: str) -> None:
    """One of the ``[hot-reload]`` console ``lines`` matches ``pattern`` (after the prefix)."""
    assert any(re.fullmatch(r"\[hot-reload\] " + pattern, line) for line in lines), lines
