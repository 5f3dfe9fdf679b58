"""The dev server's supervisor: holds the socket, watches files, hands each change to a standby."""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import IO, Any

import uvicorn
import watchfiles
from uvicorn.supervisors.watchfilesreload import FileFilter

from .standby import Settings

logger = logging.getLogger("fastapi_hot_reload")

#: watchfiles yields a batch after this many ms of quiet (uvicorn's reloader: 50).
STEP_MS = 10
#: How long a stopping standby may take (its worker finishing requests) before it is killed.
GRACE_S = 5.0


@dataclass(frozen=True)
class Options:
    """The command line, as uvicorn spells its options."""

    app: str
    host: str = "127.0.0.1"
    port: int = 8000
    reload_dirs: list[str] = field(default_factory=list)
    reload_includes: list[str] = field(default_factory=list)
    reload_excludes: list[str] = field(default_factory=list)
    app_dir: str = ""
    factory: bool = False
    root_path: str = ""
    env_file: str | None = None
    log_level: str | None = None
    access_log: bool = True
    fork: bool = True


def log_config(level: str | None) -> dict[str, Any]:
    """uvicorn's logging, with this library's logger printed beside uvicorn's own lines."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    ours = {"handlers": ["default"], "level": (level or "info").upper(), "propagate": False}
    config["loggers"]["fastapi_hot_reload"] = ours
    return config


class StandbyProcess:
    """One standby as the supervisor sees it: a pipe for commands, a thread reading its events."""

    def __init__(
        self, settings: Settings, files: dict[str, str | None], events: queue.SimpleQueue[Any]
    ) -> None:
        read, write = os.pipe()
        self.files = files  # the modules it imports ahead, and where each comes from
        self.started = time.time()
        self.refusal: str | None = None
        self.ready = self.served = False
        self.process = subprocess.Popen(
            [sys.executable, "-m", "fastapi_hot_reload._dev.standby"],
            stdin=subprocess.PIPE,
            pass_fds=(settings.socket_fd, write),
        )
        os.close(write)
        self._send(replace(settings, events_fd=write, modules=list(files)).encode())
        reader = threading.Thread(target=self._read, args=(read, events), daemon=True)
        reader.start()

    def _read(self, fd: int, events: queue.SimpleQueue[Any]) -> None:
        with open(fd, "rb") as pipe:
            for line in pipe:
                event = json.loads(line)
                events.put((event.pop("event"), self, event))
        self.process.wait()  # every writer has gone: it and its workers ended; reap it

    @property
    def stdin(self) -> IO[bytes]:
        assert self.process.stdin is not None  # Popen(stdin=PIPE)
        return self.process.stdin

    def _send(self, data: bytes) -> None:
        with contextlib.suppress(OSError):  # it died: its exit is reported, the next one serves
            self.stdin.write(data)
            self.stdin.flush()

    def serve(self) -> None:
        """Start a worker: forked, or this process itself when it cannot fork."""
        self.served = True
        self._send(b"serve\n")

    @property
    def consumed(self) -> bool:
        """It became a worker itself: the next change needs another standby."""
        return self.served and self.ready and self.refusal is not None

    def quit(self) -> None:
        """Stop it and its worker (which finishes the requests it has)."""
        with contextlib.suppress(OSError):
            self.stdin.close()

    def stale(self) -> bool:
        """An installed module it imported has changed on disk since it started."""
        return changed_since(self.files, self.started)

    def wait(self, timeout: float) -> None:
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:  # pragma: no cover - a worker's shutdown hung for GRACE_S
            logger.warning("standby %d did not stop in %.0f s: killed", self.process.pid, timeout)
            self.process.kill()
            self.process.wait()


class Supervisor:
    """Holds the listening socket for the whole session, as uvicorn's reloader does."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.config = uvicorn.Config(
            options.app,
            host=options.host,
            port=options.port,
            reload=True,
            reload_dirs=options.reload_dirs or None,
            reload_includes=options.reload_includes or None,
            reload_excludes=options.reload_excludes or None,
            log_level=options.log_level,
            log_config=log_config(options.log_level),
        )
        self.filter = FileFilter(self.config)
        self.env_file = Path(options.env_file).resolve() if options.env_file else None
        self.events: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.stopping = threading.Event()
        self.files: dict[str, str | None] = {}  # third-party modules the app imports
        self.retired: list[StandbyProcess] = []
        self.pending: StandbyProcess | None = None
        self.serving: StandbyProcess | None = None
        self.told = False

    def run(self) -> int:
        sock = self.config.bind_socket()
        sock.listen(self.config.backlog)  # connections wait in the queue while no worker serves
        self.settings = self._settings(sock.fileno())
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._on_signal)
        logger.info("Started the dev server [%d]: a warm standby forks each worker", os.getpid())
        self.standby = self._spawn()
        self._switch()
        threading.Thread(target=self._watch, daemon=True).start()
        try:
            while (item := self.events.get()) is not None:
                self._handle(*item)
        finally:
            self._shutdown()
            sock.close()
        return 0

    def _settings(self, fd: int) -> Settings:
        folders = {*self.config.reload_dirs, Path.cwd(), Path(self.options.app_dir or ".")}
        options = self.options
        return Settings(
            app=options.app,
            socket_fd=fd,
            events_fd=-1,
            project=sorted({str(folder.resolve()) for folder in folders}),
            fork=options.fork,
            app_dir=options.app_dir,
            config={
                "factory": options.factory,
                "root_path": options.root_path,
                "env_file": options.env_file,
                "log_level": options.log_level,
                "access_log": options.access_log,
                "log_config": log_config(options.log_level),
            },
        )

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        # A SimpleQueue: its put() is reentrant. A signal handler runs in the main thread,
        # maybe while it holds a Queue's lock inside get(): Queue.put() would wait forever.
        self.events.put(None)

    def _spawn(self) -> StandbyProcess:
        return StandbyProcess(self.settings, dict(self.files), self.events)

    def _watch(self) -> None:
        folders = [*self.config.reload_dirs]
        if self.env_file and not any(self.env_file.is_relative_to(f) for f in folders):
            folders.append(self.env_file.parent)
        for changes in watchfiles.watch(
            *folders, step=STEP_MS, stop_event=self.stopping, ignore_permission_denied=True
        ):
            paths = sorted({Path(path) for _, path in changes if self._wanted(Path(path))})
            if paths:
                self.events.put(("change", None, paths))

    def _wanted(self, path: Path) -> bool:
        return path == self.env_file or self.filter(path)

    def _handle(self, kind: str, standby: Any, event: Any) -> None:
        if kind == "change":
            self._change(event)
        elif kind == "ready":
            self._ready(standby, event["refusal"])
        else:
            self._learn(event["modules"])

    def _change(self, paths: list[Path]) -> None:
        shown = ", ".join(_shown(path) for path in paths)
        if self.env_file in paths or self.standby.stale():
            logger.warning("%s changed: a new standby imports everything again", shown)
            self._drop_pending()
            self._replace(self._spawn())
        else:
            logger.warning("%s changed: reloading", shown)
        self._switch()

    def _switch(self) -> None:
        """The standby starts a new worker; the last one stops after its in-flight requests."""
        target = self.standby
        if self.serving is not None and self.serving is not target:
            self._retire(self.serving)
        target.serve()
        self.serving = target
        if target.consumed:
            self.standby = self._spawn()

    def _ready(self, standby: StandbyProcess, refusal: str | None) -> None:
        standby.ready, standby.refusal = True, refusal
        if refusal and not self.told:
            self.told = True
            logger.warning("No fork (%s): each reload starts a fresh worker process.", refusal)
        if standby is self.pending:
            logger.info("Standby ready: %d modules imported ahead", len(standby.files))
            self.pending = None
            self._replace(standby)
        elif standby is self.standby and standby.consumed:
            self.standby = self._spawn()

    def _learn(self, files: dict[str, str | None]) -> None:
        """A worker imported third-party modules its standby lacks: warm a standby with them."""
        self.files.update(files)
        if set(files) - set((self.pending or self.standby).files):
            self._drop_pending()
            self.pending = self._spawn()

    def _drop_pending(self) -> None:
        if self.pending is not None:
            self._retire(self.pending)
            self.pending = None

    def _replace(self, standby: StandbyProcess) -> None:
        if self.standby is not self.serving:
            self._retire(self.standby)
        self.standby = standby

    def _retire(self, standby: StandbyProcess) -> None:
        standby.quit()
        self.retired.append(standby)

    def _shutdown(self) -> None:
        self.stopping.set()
        maybe = [*self.retired, self.standby, self.serving, self.pending]
        everyone = {standby for standby in maybe if standby is not None}
        for standby in everyone:
            standby.quit()
        for standby in everyone:
            standby.wait(GRACE_S)


def changed_since(files: dict[str, str | None], started: float) -> bool:
    """Any of these module files modified after ``started`` (a vanished one does not count)."""
    for file in filter(None, files.values()):
        with contextlib.suppress(OSError):
            if os.stat(file).st_mtime > started:
                return True
    return False


def _shown(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.relative_to(Path.cwd()))
    return str(path)
