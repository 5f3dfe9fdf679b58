"""A real server process on a free port of 127.0.0.1, and a websocket client standing in for
a tab."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from fastapi_hot_reload import _protocol as wire

from . import lanes

#: What Python runs by default, before ``listen`` and the server's own arguments.
UVICORN = ("-m", "uvicorn", "app:app")
UVICORN_RELOAD = (*UVICORN, "--reload", "--no-access-log")
LOCAL = ("--host", "127.0.0.1", "--port", "0")
#: What uvicorn logs once its worker serves: a reloader listens before its worker has started.
STARTED = "Application startup complete"


class Server:
    """``command`` (uvicorn serving ``app:app`` by default) run from ``folder``, on a free port
    of 127.0.0.1; it keeps every line the process logs and the pid of each worker it starts."""

    def __init__(
        self,
        folder: Path,
        *args: str,
        env: dict[str, str] | None = None,
        prefix: Sequence[str] = (),
        command: Sequence[str] = UVICORN,
        listen: Sequence[str] = LOCAL,
        ready: str | None = None,
    ) -> None:
        """``prefix`` runs the server through a wrapper command (``setpriv ...``); ``command``
        is what Python runs, before ``listen`` and ``args``. The server is up once it logs the
        address it listens on; with ``ready``, once it has also logged a line matching it and
        accepts connections (a reloader's socket accepts only once its worker listens)."""
        lanes.check("server")
        self.folder = folder
        self.process = subprocess.Popen(
            [*prefix, sys.executable, *command, *listen, *args],
            cwd=folder,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.workers: list[int] = []
        self.port = 0
        self._listening = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        try:
            if not self._listening.wait(60):
                raise AssertionError(f"the server in {folder} did not start:\n{self.log}")
            if ready is not None:  # and then it accepts (uvicorn logs just before)
                self.wait_for_log(ready, timeout=60)
                _accepting(self.port)
        except BaseException:
            self.stop()
            raise
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = self.ws(f"{wire.PREFIX}/{wire.WS}")

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            if found := re.search(r"Running on http://127\.0\.0\.1:(\d+)", line, re.IGNORECASE):
                self.port = int(found[1])
                self._listening.set()
            elif found := re.search(r"Started server process \[(\d+)\]", line):
                self.workers.append(int(found[1]))

    @property
    def log(self) -> str:
        return "".join(self.lines)

    @property
    def worker(self) -> int:
        """The pid of the worker process serving now (a reloader's own is ``process.pid``)."""
        return self.workers[-1]

    def ws(self, path: str) -> str:
        """The websocket URL of ``path`` on this server."""
        return f"ws://127.0.0.1:{self.port}{path}"

    def wait_for_log(self, pattern: str, timeout: float = 30, start: int = 0) -> str:
        """The first log line from line ``start`` on that matches ``pattern``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines[start:]:
                if re.search(pattern, line):
                    return line
            time.sleep(0.02)
        raise AssertionError(f"no log line matches {pattern!r}:\n{self.log}")

    def wait_for_worker(self, count: int, timeout: float = 30) -> None:
        """Until the reloader has started its ``count``-th worker."""
        deadline = time.monotonic() + timeout
        while len(self.workers) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"no new worker after {timeout} s:\n{self.log}")
            time.sleep(0.01)

    def get(self, path: str = "/", headers: dict[str, str] | None = None) -> httpx.Response:
        return httpx.get(self.url + path, headers=headers, timeout=10)

    def pid(self) -> int:
        return int(self.get("/pid").json())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:  # pragma: no cover - only when shutdown hangs
                self.process.kill()
                self.process.wait()
        self._reader.join(10)
        if self.process.stdout is not None:
            self.process.stdout.close()


def _accepting(port: int, timeout: float = 10) -> None:
    """Until ``port`` accepts a connection."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.01)
    raise AssertionError(f"nothing accepts connections on port {port}")  # pragma: no cover


def untimed(message: dict[str, object]) -> dict[str, object]:
    """``message`` without its ``t`` (when the server saw the change), once that is checked to
    be a time of the last minute in milliseconds since the epoch."""
    if "t" in message:
        seen = message.pop("t")
        assert isinstance(seen, int)
        assert abs(time.time() * 1000 - seen) < 60_000
    return message


class Tab:
    """A websocket client standing in for one open browser tab."""

    def __init__(self, url: str) -> None:
        self._stack = ExitStack()
        self.socket: ClientConnection = self._stack.enter_context(connect(url, open_timeout=10))
        self.hello = self.next()
        assert self.hello["type"] == "hello"

    def next(self, timeout: float = 10) -> dict[str, object]:
        return untimed(json.loads(self.socket.recv(timeout=timeout)))

    def assert_quiet(self, seconds: float = 0.5) -> None:
        """Nothing more arrives for ``seconds`` (a generous bound, not a timing goal)."""
        with pytest.raises(TimeoutError):
            extra = self.socket.recv(timeout=seconds)
            pytest.fail(f"unexpected message: {extra!r}")

    def close(self) -> None:
        self._stack.close()
