"""A contestant's app on disk, served by a real reloading dev server process on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

APPS = Path(__file__).parent / "apps"


def write_site(folder: Path, app_file: str, script_file: str | None) -> Path:
    """``folder/app.py`` and ``folder/templates/index.html`` for one contestant."""
    (folder / "templates").mkdir(parents=True)
    shutil.copy(APPS / app_file, folder / "app.py")
    script = (APPS / script_file).read_text() if script_file else ""
    page = (APPS / "page.html").read_text().replace("{# SCRIPT #}\n", script)
    (folder / "templates" / "index.html").write_text(page)
    return folder


def _listening(port: int, timeout: float = 10) -> bool:
    """The worker logs "startup complete" just before it listens: wait for that too."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return True
        time.sleep(0.01)
    return False


#: What Python runs by default, before ``--host 127.0.0.1 --port 0 *args``.
UVICORN_RELOAD = ("-m", "uvicorn", "app:app", "--reload", "--no-access-log")


class Server:
    """``uvicorn app:app --reload`` (or ``command``) in ``folder``, on a free port; knows its
    current worker."""

    def __init__(
        self,
        folder: Path,
        *args: str,
        env: dict[str, str] | None = None,
        command: tuple[str, ...] = UVICORN_RELOAD,
    ) -> None:
        self.folder = folder
        self.process = subprocess.Popen(
            [sys.executable, *command, "--host", "127.0.0.1", "--port", "0", *args],
            cwd=folder,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.port = 0
        self.workers: list[int] = []
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not (self._ready.wait(60) and _listening(self.port)):
            self.stop()
            raise RuntimeError(f"uvicorn did not start in {folder}:\n{self.log}")

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            if found := re.search(r"Uvicorn running on http://127\.0\.0\.1:(\d+)", line):
                self.port = int(found[1])
            elif found := re.search(r"Started server process \[(\d+)\]", line):
                self.workers.append(int(found[1]))
            elif "Application startup complete" in line and self.port:
                self._ready.set()

    @property
    def log(self) -> str:
        return "".join(self.lines)

    @property
    def worker(self) -> int:
        """The pid of the worker process serving now (the reloader is ``process.pid``)."""
        return self.workers[-1]

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def ws_url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    def wait_for_log(self, text: str, timeout: float = 60) -> None:
        """Until a line holding ``text`` has been logged."""
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            if time.monotonic() > deadline:
                raise RuntimeError(f"no {text!r} after {timeout} s:\n{self.log}")
            time.sleep(0.02)

    def wait_for_worker(self, count: int, timeout: float = 30) -> None:
        """Until the reloader has started its ``count``-th worker."""
        deadline = time.monotonic() + timeout
        while len(self.workers) < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"no new worker after {timeout} s:\n{self.log}")
            time.sleep(0.01)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(5)
        if self.process.stdout is not None:
            self.process.stdout.close()
