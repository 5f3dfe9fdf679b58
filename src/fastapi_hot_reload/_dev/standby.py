"""The standby process: third-party modules imported once, a fresh worker forked per change."""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import json
import logging
import os
import signal
import socket
import sys
import sysconfig
import threading
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

import uvicorn

logger = logging.getLogger("fastapi_hot_reload")

#: Installed code: a module found here is never the project's, even inside the project's folder
#: (a ``.venv`` beside ``app.py``).
INSTALLED = tuple(
    Path(sysconfig.get_paths()[key]).resolve()
    for key in ("stdlib", "platstdlib", "purelib", "platlib")
)
PR_SET_PDEATHSIG = 1  # linux/prctl.h
#: Held from just before a fork until each side knows its role: a SIGTERM for the new worker
#: must not run the standby's handler in it (coverage's own after-fork hook even swallows it).
HELD = {signal.SIGTERM, signal.SIGINT, signal.SIGCHLD}


@dataclass(frozen=True)
class Settings:
    """What the supervisor tells a standby: the first line on its stdin, as JSON."""

    app: str
    socket_fd: int
    events_fd: int
    project: list[str]  # folders whose modules are imported fresh by every worker
    modules: list[str] = field(default_factory=list)  # to import before any change
    fork: bool = True
    app_dir: str = ""
    config: dict[str, Any] = field(default_factory=dict)  # keywords for uvicorn.Config

    def encode(self) -> bytes:
        return json.dumps(asdict(self)).encode() + b"\n"

    def uvicorn_config(self) -> uvicorn.Config:
        """Reads the env file and sets up logging, as ``uvicorn.Config`` does; imports nothing."""
        return uvicorn.Config(self.app, **self.config)


def module_file(module: ModuleType) -> str | None:
    """Where a module comes from: its file, the first folder of a namespace package, or None."""
    file = getattr(module, "__file__", None)
    if file is None:
        file = next(iter(getattr(module, "__path__", None) or ()), None)
    return file if isinstance(file, str) else None


def is_project(name: str, file: str | None, app: str, project: Sequence[Path]) -> bool:
    """The app's own module, and anything in a project folder that is not installed code."""
    if app.partition(":")[0].split(".")[0] == name.split(".")[0] or name == "__main__":
        return True
    if file is None:
        return False
    path = Path(file).resolve()
    inside = any(path.is_relative_to(folder) for folder in project)
    return inside and not any(path.is_relative_to(folder) for folder in INSTALLED)


def third_party(names: Iterable[str], app: str, project: Sequence[Path]) -> dict[str, str | None]:
    """The modules among ``names`` that a standby may import ahead: name -> file."""
    found = {}
    for name in names:
        file = module_file(sys.modules[name])
        if not is_project(name, file, app, project):
            found[name] = file
    return found


def warm(settings: Settings) -> None:
    """Import the listed modules; evict any project module one of them pulled in after all."""
    for name in settings.modules:
        try:
            importlib.import_module(name)
        except Exception as error:  # an old module list after an upgrade: the worker will see
            logger.debug("standby could not import %s: %r", name, error)
    project = [Path(folder) for folder in settings.project]
    for name, module in list(sys.modules.items()):
        if name != "__main__" and is_project(name, module_file(module), settings.app, project):
            logger.warning("standby: a package imported %s; workers import it afresh", name)
            del sys.modules[name]


def thread_count(tasks: str = "/proc/self/task") -> int:
    """OS threads in this process (threads started by C code too), where the OS says."""
    with contextlib.suppress(OSError):
        return len(os.listdir(tasks))
    return threading.active_count()


def fork_refusal(
    wanted: bool,
    *,
    platform: str = sys.platform,
    threads: int | None = None,
) -> str | None:
    """Why this standby must not fork, in plain words, or ``None``."""
    if not wanted:
        return "--no-fork was given"
    if platform == "darwin":
        return "macOS warns that fork is unsafe once system libraries are loaded"
    threads = thread_count() if threads is None else threads
    if threads > 1:
        return f"the app's packages started {threads - 1} thread(s) on import"
    return None


class Standby:
    """Reads commands on stdin: ``serve`` starts a worker (and stops the last one); EOF quits."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sock = socket.socket(fileno=settings.socket_fd)
        self.config = settings.uvicorn_config()
        self.worker: int | None = None  # serving, or failed and not yet stopped
        self.stopping: list[int] = []
        self.refusal: str | None = None

    def events(self, **event: object) -> None:
        os.write(self.settings.events_fd, json.dumps(event).encode() + b"\n")

    def run(self) -> None:
        warm(self.settings)
        self.refusal = fork_refusal(self.settings.fork)
        self.events(event="ready", refusal=self.refusal)
        signal.signal(signal.SIGCHLD, lambda signum, frame: self.reap())
        try:
            for _ in sys.stdin:  # each line: "serve"
                self.serve()
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            self.stop_workers()

    def serve(self) -> None:
        if self.refusal is not None:  # no fork: this process becomes the worker
            threading.Thread(target=_stop_on_eof, daemon=True).start()
            raise SystemExit(self.work())
        self.stop_workers(wait=False)
        signal.pthread_sigmask(signal.SIG_BLOCK, HELD)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child's coverage restarts for new frames only
            _become_worker()
            os._exit(self.work())
        self.worker = pid
        signal.pthread_sigmask(signal.SIG_UNBLOCK, HELD)

    def work(self) -> int:
        """Import the app, report the third-party modules it brought, serve until told to stop."""
        before, code = set(sys.modules), 0
        try:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, HELD)  # a stop sent during the fork: here
            self.config.load()
            self.report(set(sys.modules) - before)
            uvicorn.Server(self.config).run(sockets=[self.sock])
        except SystemExit as stop:  # _quit, or uvicorn saying why (no such app, lifespan failed)
            code = stop.code if isinstance(stop.code, int) else 1
        except BaseException:
            traceback.print_exc()
            logger.error("The app failed to start: fix it and save again to reload.")
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        return code

    def report(self, names: set[str]) -> None:
        project = [Path(folder) for folder in self.settings.project]
        self.events(event="modules", modules=third_party(names, self.settings.app, project))

    def stop_workers(self, *, wait: bool = True) -> None:
        """SIGTERM to the worker (uvicorn's graceful shutdown: 1012 to websockets)."""
        if self.worker is not None:
            os.kill(self.worker, signal.SIGTERM)  # never reaped before this: still ours
            self.stopping.append(self.worker)
            self.worker = None
        if wait:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            for pid in self.stopping:
                os.waitpid(pid, 0)

    def reap(self) -> None:
        """Forget the stopped workers that ended, so no zombie waits for the next change.

        In place: this runs as a signal handler, between two steps of ``stop_workers``.
        """
        self.stopping[:] = [pid for pid in self.stopping if not os.waitpid(pid, os.WNOHANG)[0]]


def _become_worker() -> None:
    """Ctrl+C reaches the worker again; it dies with the standby whatever kills that.

    uvicorn re-raises the signal that stopped it: ``_quit`` turns that into a clean exit.
    """
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, _quit)
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _stop_on_eof() -> None:
    """Without a fork, the supervisor's ``quit`` (stdin closed) becomes uvicorn's SIGTERM."""
    sys.stdin.read()
    os.kill(os.getpid(), signal.SIGTERM)


def _quit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def main() -> None:
    """Ctrl+C reaches every process of the terminal's group: the supervisor decides for us."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _quit)
    settings = Settings(**json.loads(sys.stdin.readline()))
    sys.path.insert(0, settings.app_dir)
    Standby(settings).run()


if __name__ == "__main__":
    main()
