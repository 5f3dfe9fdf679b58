"""The app's lifespan, with hot reload's watcher running from its startup to its shutdown."""

from __future__ import annotations

import logging
import secrets
from contextlib import suppress
from pathlib import Path

import anyio
from anyio.abc import TaskGroup
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .changes.pipeline import Changes, watch
from .config import log_where_uvicorn_logs
from .hub import Hub
from .notify import Notifier, register
from .options import Options
from .tracking import Tracked

logger = logging.getLogger("fastapi_hot_reload")


class Running:
    """What this server process has for its tabs: its boot id, its changes, its notifier.

    Made anew when the lifespan starts: to a tab, a started lifespan is a new server process.
    """

    def __init__(self, options: Options, hub: Hub) -> None:
        self._options, self._hub = options, hub
        self.tracked = Tracked(options.envs)
        self.boot = secrets.token_hex(6)
        self.changes = self._new_changes()
        self.notifier: Notifier | None = None
        #: Whether the lifespan started the watcher (a request before it sees nothing fresh).
        self.watching = False
        self._stop: anyio.Event | None = None  # set when the lifespan shuts down

    def stopping(self) -> bool:
        """Whether the server is shutting down (event streams end then)."""
        return self._stop is not None and self._stop.is_set()

    def start(
        self, tasks: TaskGroup, stop: anyio.Event, stopped: anyio.Event, apps: list[object]
    ) -> None:
        """Start watching in ``tasks`` until ``stop``; set ``stopped`` once the watcher ended."""
        self._stop = stop
        self.boot = secrets.token_hex(6)  # a new server process, as far as tabs can tell
        self.changes = changes = self._new_changes()
        self.notifier = Notifier(changes)
        register(apps, self.notifier)
        self.watching = True
        folders, polling = self._options.folders, self._options.force_polling

        async def watching() -> None:
            try:
                await watch(changes, folders, stop, polling)
            finally:
                stopped.set()

        tasks.start_soon(watching)
        log_where_uvicorn_logs()
        shown = ", ".join(map(_shown, folders)) or "nothing (no folders given)"
        options = self._options
        logger.info("hot reload on (%s), watching %s; %s", options.why, shown, options.flip)

    def _new_changes(self) -> Changes:
        options = self._options
        return Changes(
            self._hub,
            options.envs,
            options.template_folders,
            options.folders,
            editor=options.editor,
            tracked=self.tracked,
        )


async def lifespan(
    app: ASGIApp, running: Running, scope: Scope, receive: Receive, send: Send
) -> None:
    """Run the app's own lifespan; watch from its startup to its shutdown.

    The server hears "shutdown complete" only once the watcher has stopped: it tears its
    loop down then, and a lifespan still running is cancelled, which uvicorn reports as
    "ASGI 'lifespan' protocol appears unsupported" at every Ctrl+C and restart.
    """
    stop, stopped = anyio.Event(), anyio.Event()
    failure: Exception | None = None
    async with anyio.create_task_group() as tasks:

        async def receive_() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                stop.set()
            return message

        async def send_(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                running.start(tasks, stop, stopped, [scope.get("app"), app])
            elif message["type"].startswith("lifespan.shutdown.") and running.watching:
                stop.set()
                await stopped.wait()
            await send(message)

        try:
            await app(scope, receive_, send_)
        except Exception as exc:  # raised below as it is, not inside an ExceptionGroup
            failure = exc
        finally:
            stop.set()
    if failure is not None:
        raise failure


async def fail(failure: Exception, scope: Scope, receive: Receive, send: Send) -> None:
    """Stop the server's startup with a configuration error, as one clear line.

    Raised after the ``startup.failed`` message too, as Starlette does: uvicorn then logs the
    message alone, and a ``TestClient`` raises it.
    """
    if scope["type"] == "lifespan":
        await receive()  # lifespan.startup
        message = f"hot reload is misconfigured: {failure}"
        await send({"type": "lifespan.startup.failed", "message": message})
    raise failure  # without a lifespan, each request fails with it


def _shown(folder: Path) -> str:
    with suppress(ValueError):
        return f"{folder.relative_to(Path.cwd()).as_posix()}/"
    return f"{folder}/"
