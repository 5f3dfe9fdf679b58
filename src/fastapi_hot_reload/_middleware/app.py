"""The ASGI middleware: lifespan-owned watcher, websocket endpoint, client script, injection."""

from __future__ import annotations

import html
import json
import logging
import os
import secrets
from collections.abc import Iterable, Sequence
from contextlib import suppress
from pathlib import Path
from typing import TypeAlias
from urllib.parse import parse_qs

import anyio
import jinja2
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream
from starlette.datastructures import Headers
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .changes.pipeline import Changes, watch
from .client_files import ENTRY, client_response
from .config import ENV_VAR, checked_path, decide, inside_a_server
from .csp import Csp
from .editor import editor_template
from .errors import error_page
from .fragments import fragment_request
from .hub import Hub
from .inject import Injector
from .jinja import SCOPE_KEY, environments, hot_reload_script, loader_folders
from .logs import Consoles, browser_level
from .notify import Notifier, notify_response, register
from .probe import probe_response
from .sse import no_websocket, stream
from .tracking import Rendered, Tracked
from .trust import Trust, accepts_html, refuse

logger = logging.getLogger("fastapi_hot_reload")

Templates: TypeAlias = "Jinja2Templates | jinja2.Environment"


class HotReload:
    """Update every open tab when a template or a watched file changes, without a restart.

    ``templates``: a ``Jinja2Templates``, a ``jinja2.Environment``, or a list of them; the
    folders their loaders read are watched and their caches cleared on a change.
    ``watch``: more folders to watch (static files, content).
    ``path``: where the websocket (``{path}/ws``) and the client (``{path}/client/``) live.
    ``enabled``: ``None`` reads ``FASTAPI_HOT_RELOAD`` (``1/true/yes/on``, ``0/false/no/off``),
    and when that is unset too, is on unless the server looks like production (several
    workers, ``fastapi run``, gunicorn, a public bind without ``--reload``); off, the middleware
    passes everything through untouched.
    ``force_polling``: poll the disk instead of waiting for events (Docker/WSL bind mounts);
    ``None`` lets watchfiles read ``WATCHFILES_FORCE_POLLING``.
    ``allowed_hosts``: host names besides ``localhost``, ``*.localhost`` and IP addresses that
    may see hot reload (``"dev.example.test"``, ``".example.test"`` for subdomains too, ``"*"``).
    ``allowed_origins``: origins (``"https://dev.example:8443"``) whose pages may connect besides
    the server's own host, for proxies that rewrite the ``Host`` header.
    ``morph``: on a template save or a restart, fetch the page again and morph it in place,
    keeping scroll, focus and typed input (``True``); ``False`` reloads the page instead.
    ``editor``: link files and lines on error pages and overlays to an editor: a preset
    (``"vscode"``, ``"cursor"``, ``"pycharm"``, ...) or a URL template with ``{file}`` and
    ``{line}``; ``None`` reads ``FASTAPI_HOT_RELOAD_EDITOR`` (unset: no links).
    ``browser_logs``: records logged while serving a tab's requests, from this level up, also go
    to that tab's browser console; ``False`` turns it off.
    ``status``: show a small status element while the page is out of date (restarting, server
    not answering, cannot connect); ``False`` leaves the page alone.

    Bad options raise ``TypeError``/``ValueError`` here; inside a running server (which builds
    ``add_middleware`` middleware lazily) they fail the lifespan startup with the same message.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        templates: Templates | Sequence[Templates] | None = None,
        watch: Iterable[str | os.PathLike[str]] = (),
        path: str = "/__hot_reload__",
        enabled: bool | None = None,
        force_polling: bool | None = None,
        allowed_hosts: Iterable[str] = (),
        allowed_origins: Iterable[str] = (),
        morph: bool = True,
        editor: str | None = None,
        browser_logs: str | int | bool = "WARNING",
        status: bool = True,
    ) -> None:
        self.app = app
        self._morph = morph
        #: A configuration error found while the server imports the app or builds its
        #: middleware: reported when the lifespan starts (raised at once everywhere else).
        self._failure: Exception | None = None
        try:
            self._editor = editor_template(editor)  # before _setup, which makes the Changes
            self._setup(templates, watch, path, enabled, force_polling)
            self._trust = Trust(allowed_hosts, allowed_origins)
            self._setup_dev_loop(browser_logs, status)
        except (TypeError, ValueError) as exc:
            if not inside_a_server():
                raise
            self.enabled, self._failure = True, exc

    def _setup_dev_loop(self, logs: str | int | bool, status: bool) -> None:
        """Server logs in the browser console, the status note."""
        self._status = status
        level = browser_level(logs)
        self._consoles = Consoles(self._hub, level) if self.enabled and level is not None else None

    def _setup(
        self,
        templates: Templates | Sequence[Templates] | None,
        watch: Iterable[str | os.PathLike[str]],
        path: str,
        enabled: bool | None,
        force_polling: bool | None,
    ) -> None:
        self._envs = environments(templates)
        for env in self._envs:  # also when off, so templates that call it still render
            env.globals.setdefault("hot_reload_script", hot_reload_script)
        if isinstance(watch, (str, os.PathLike)):
            raise TypeError(f"watch: expected a list of folders, got {watch!r}")
        self._path = checked_path(path)
        self._client_path, self._ws_path = f"{path}/client/", f"{path}/ws"
        self._notify_path = f"{path}/notify"
        self._events_path = f"{path}/events"
        #: A browser's websocket request came as plain HTTP: pages start on Server-Sent Events.
        self._events_only = False
        self._stop: anyio.Event | None = None  # set when the lifespan shuts down
        self._force_polling = force_polling
        self._notifier: Notifier | None = None
        self._watching = False
        self._told_not_watching = False
        self.enabled, warning = decide(enabled)
        if warning:
            _log_where_uvicorn_logs()
            logger.warning(warning)
        if not self.enabled:
            return  # a missing folder is no error where nothing is watched
        self._template_folders = [
            folder.resolve() for env in self._envs for folder in loader_folders(env.loader)
        ]
        watched = [_watched_folder(folder) for folder in watch]
        #: Every folder watched: the templates' first, then ``watch``, each once.
        self._folders = list(dict.fromkeys(self._template_folders + watched))
        self._boot = secrets.token_hex(6)
        self._hub = Hub()
        self._templates = Tracked(self._envs)
        self._changes = self._new_changes()
        self._csp = Csp()
        self._tag_key: tuple[str, str, int, str, bool] = ("", "", -1, "", False)
        self._tag_made = ("", b"")  # the tag's start for ``_tag_key``, as text and as bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if not self.enabled or kind not in ("http", "websocket", "lifespan"):
            await self.app(scope, receive, send)
        elif (failure := self._failure) is not None:
            await _fail(failure, scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(scope, receive, send)
        elif not self._trust.allows(scope):  # not for us to show: untouched, or refused
            await self._refused(scope, receive, send)
        elif kind == "http":
            route = _route_path(scope)
            if route.startswith(self._client_path):
                name = route[len(self._client_path) :]
                await client_response(scope, name)(scope, receive, send)
            elif route == self._notify_path:
                response = await notify_response(scope, receive, self._notifier)
                await response(scope, receive, send)
            elif route == self._events_path:
                await self._events(scope, receive, send)
            elif route == self._ws_path:
                await self._no_websocket(scope, receive, send)
            else:
                await self._http(scope, receive, send)
        elif _route_path(scope) == self._ws_path:
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _refused(self, scope: Scope, receive: Receive, send: Send) -> None:
        """An untrusted request: the app's own business, or refused if it is for our routes.

        A page of another origin on a trusted host (behind a proxy that rewrites ``Host``) still
        gets the client (public, static code) and the probe's answer: it says in the page why
        its socket is refused.
        """
        route, http = _route_path(scope), scope["type"] == "http"
        if http and route == self._ws_path:
            await self._probe(scope, receive, send)
        elif (
            http and route.startswith(self._client_path) and self._trust.refusal(scope, "") is None
        ):
            name = route[len(self._client_path) :]
            await client_response(scope, name)(scope, receive, send)
        else:
            await (refuse if self._is_ours(scope) else self.app)(scope, receive, send)

    async def _probe(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A tab whose websocket failed asks why over plain HTTP, naming its page's origin."""
        await probe_response(self._refusal(scope))(scope, receive, send)

    def _is_ours(self, scope: Scope) -> bool:
        """Whether the request is for one of hot reload's own routes."""
        route = _route_path(scope)
        ours = (self._ws_path, self._notify_path, self._events_path)
        return route in ours or route.startswith(self._client_path)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The app's response with the client tag; an error page with it when the app raises."""
        if not self._watching and not self._told_not_watching:
            self._told_not_watching = True
            _log_where_uvicorn_logs()
            logger.warning(
                "hot reload got a request before the app's lifespan started, so nothing is "
                "watched: wrap the outermost app (a mounted app gets no lifespan) and run the "
                "server with its lifespan on"
            )
        if self._consoles is None:
            await self._respond(scope, receive, send)
            return
        with self._consoles.capture(scope) as page:
            await self._respond(scope, receive, send, page)

    async def _respond(self, scope: Scope, receive: Receive, send: Send, page: str = "") -> None:
        """The app's response with the client tag; an error page with it when the app raises."""
        tag, tag_start = self._tag(scope, page)
        scope[SCOPE_KEY] = tag
        rendered = Rendered(tag_start)
        injector = Injector(
            send,
            rendered.tag,
            head=scope["method"] == "HEAD",
            csp=self._csp,
            fragment=fragment_request(scope),
            timing=rendered.timing,
        )
        try:
            with rendered:  # the templates the app loads now are this response's
                await self.app(scope, receive, injector)
            await injector.finish()
        except Exception as exc:
            if not injector.started and accepts_html(scope):
                body = error_page(exc, self._template_folders, tag, self._editor)
                # The header lets the client morph into this page and back, like any page.
                headers = {"x-hot-reload": "error-page"}
                await HTMLResponse(body, status_code=500, headers=headers)(scope, receive, send)
            else:  # an API client: the app's own error response, if it sent one
                await injector.finish()
            raise  # the server logs the traceback, as it would without us

    def _tag(self, scope: Scope, page: str = "") -> tuple[str, bytes]:
        """The client tag for this request's ``root_path``, ``boot``, ``rev``, method and page id,
        and its start (without ``></script>``), which a rendered page completes with its
        templates.

        A page that answers a POST (any method but GET/HEAD) says so: the client never fetches
        or reloads it, which would send the form again.
        """
        root = scope.get("root_path", "")
        method = "" if scope["method"] in ("GET", "HEAD") else scope["method"]
        key = (root, self._boot, self._changes.rev, method, self._events_only)
        if key != self._tag_key:
            src = html.escape(f"{root}{self._client_path}{ENTRY}")
            extra = " data-events" if self._events_only else ""
            extra += f' data-method="{html.escape(method)}"' if method else ""
            extra += "" if self._morph else ' data-morph="false"'
            extra += "" if self._status else ' data-status="off"'
            start = (
                f'<script type="module" src="{src}" data-hot-reload data-boot="{self._boot}" '
                f'data-rev="{self._changes.rev}"{extra}'
            )
            self._tag_key, self._tag_made = key, (start, start.encode())
        start, encoded = self._tag_made
        if page:  # one page's own id: made for this request alone
            start += f' data-page="{page}"'
            encoded += b' data-page="%s"' % page.encode()
        return start + "></script>", encoded

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
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
                    self._start(tasks, stop, stopped, scope.get("app"))
                elif message["type"].startswith("lifespan.shutdown.") and self._watching:
                    stop.set()
                    await stopped.wait()
                await send(message)

            try:
                await self.app(scope, receive_, send_)
            except Exception as exc:  # raised below as it is, not inside an ExceptionGroup
                failure = exc
            finally:
                stop.set()
        if failure is not None:
            raise failure

    def _new_changes(self) -> Changes:
        folders = self._template_folders, self._folders
        return Changes(
            self._hub, self._envs, *folders, editor=self._editor, tracked=self._templates
        )

    def _start(
        self, tasks: TaskGroup, stop: anyio.Event, stopped: anyio.Event, app: object
    ) -> None:
        self._stop = stop
        self._boot = secrets.token_hex(6)  # a new server process, as far as tabs can tell
        self._changes = changes = self._new_changes()
        self._notifier = Notifier(changes)
        register([app, self.app], self._notifier)
        self._watching = True

        async def watching() -> None:
            try:
                await watch(changes, self._folders, stop, self._force_polling)
            finally:
                stopped.set()

        tasks.start_soon(watching)
        _log_where_uvicorn_logs()
        shown = ", ".join(map(_shown, self._folders)) or "nothing (no folders given)"
        logger.info(
            "hot reload on, watching %s; set %s=0 or enabled=False to turn it off", shown, ENV_VAR
        )

    def _greeting(self, scope: Scope, page: str) -> list[str]:
        """What a tab hears first: ``hello``, the current template error, if any, then the log
        records of its page's requests that came before it.

        ``hello.missed``: the changes since the ``?rev=`` the tab connected with, when remembered.
        """
        missed = self._changes.missed(_tab_rev(scope))
        hello = {"type": "hello", "boot": self._boot, "rev": self._changes.rev, **missed}
        error = self._changes.error_message()  # as the other tabs see it
        records = self._consoles.claim(page) if self._consoles and page else []
        return [json.dumps(message) for message in (hello, error, *records) if message is not None]

    async def _no_websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The websocket's URL over plain HTTP: a browser's websocket request that could not be
        upgraded (pages use events from now on), or a tab asking why it cannot connect."""
        browser, response = no_websocket(scope, self._events_path, say=not self._events_only)
        self._events_only = self._events_only or browser
        await (response if browser else self._probe)(scope, receive, send)

    def _refusal(self, scope: Scope) -> str | None:
        """Why this page may not connect (its origin from the header, else from the query)."""
        origin = Headers(scope=scope).get("origin") or _query_value(scope, "origin")
        return self._trust.refusal(scope, origin)

    async def _events(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The websocket's messages as Server-Sent Events, for when it cannot be used."""
        if scope["method"] != "GET":
            await PlainTextResponse("Method Not Allowed", 405, headers={"allow": "GET"})(
                scope, receive, send
            )
        elif (refusal := self._refusal(scope)) is not None:
            await probe_response(refusal)(scope, receive, send)
        else:
            page = _query_value(scope, "page")
            with self._hub.subscribe(page) as queue:
                greeting = self._greeting(scope, page)
                await stream(greeting, queue, receive, send, self._stopping)

    def _stopping(self) -> bool:
        return self._stop is not None and self._stop.is_set()

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (await receive())["type"] != "websocket.connect":
            return  # pragma: no cover - the ASGI spec makes connect the first message
        await send({"type": "websocket.accept"})
        page = _query_value(scope, "page")
        with self._hub.subscribe(page) as queue:
            for text in self._greeting(scope, page):
                await send({"type": "websocket.send", "text": text})
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(_forward, queue, send)
                # Always wait on receive(): a server shutdown (1012) must end this handler.
                # Whatever the client sends is ignored; it has nothing to say.
                while (await receive())["type"] != "websocket.disconnect":
                    pass
                tasks.cancel_scope.cancel()


async def _forward(queue: MemoryObjectReceiveStream[str], send: Send) -> None:
    """Send a tab its messages; when the hub drops it (too slow), close its socket."""
    # The tab went away; receive() sees the disconnect. uvicorn < 0.29 (ASGI < 2.4) raises
    # RuntimeError, not OSError, for a send after the client closed.
    with suppress(OSError, RuntimeError):
        async for text in queue:
            await send({"type": "websocket.send", "text": text})
        await send({"type": "websocket.close", "code": 1013, "reason": "too slow, reconnect"})


def _query_value(scope: Scope, name: str) -> str:
    """One value of the query string, or ``""``."""
    query: bytes = scope.get("query_string", b"")
    return parse_qs(query.decode("latin-1")).get(name, [""])[0]


def _tab_rev(scope: Scope) -> int | None:
    """The ``?rev=N`` a tab's socket URL says it last saw; ``None`` when it says none (an older
    client, which compares revs itself) or no whole number (only ASCII digits: ``int`` refuses
    ``²``, which ``isdigit`` accepts)."""
    value = _query_value(scope, "rev")
    return int(value) if value.isascii() and value.isdigit() else None


async def _fail(failure: Exception, scope: Scope, receive: Receive, send: Send) -> None:
    """Stop the server's startup with a configuration error, as one clear line.

    Raised after the ``startup.failed`` message too, as Starlette does: uvicorn then logs the
    message alone, and a ``TestClient`` raises it.
    """
    if scope["type"] == "lifespan":
        await receive()  # lifespan.startup
        message = f"hot reload is misconfigured: {failure}"
        await send({"type": "lifespan.startup.failed", "message": message})
    raise failure  # without a lifespan, each request fails with it


def _route_path(scope: Scope) -> str:
    """The path without the ASGI ``root_path`` (a mount or a proxy prefix)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root + "/") else path


def _watched_folder(folder: str | os.PathLike[str]) -> Path:
    """A folder to watch; one that does not exist yet is watched once it does."""
    path = Path(folder)
    if path.exists() and not path.is_dir():
        raise ValueError(f"watch: {os.fspath(folder)!r} is a file, not a folder")
    return path.resolve()


def _log_where_uvicorn_logs() -> None:
    """Unless the app configured logging for us, show our lines the way uvicorn shows its own."""
    if logger.hasHandlers() or logger.level != logging.NOTSET:
        return
    uvicorn = logging.getLogger("uvicorn")
    for handler in uvicorn.handlers:
        logger.addHandler(handler)
    if uvicorn.handlers:
        logger.setLevel(logging.INFO)


def _shown(folder: Path) -> str:
    with suppress(ValueError):
        return f"{folder.relative_to(Path.cwd()).as_posix()}/"
    return f"{folder}/"
