"""Hot reload's own routes: the client's files, the websocket, events, notify and the probe."""

from __future__ import annotations

import json
from contextlib import suppress
from urllib.parse import parse_qs

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream
from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import _protocol as wire
from .client_files import client_response
from .hub import Hub
from .lifespan import Running
from .logs import Consoles
from .notify import notify_response
from .options import Options
from .pages import Pages
from .probe import probe_response
from .sse import no_websocket, stream
from .tag import Tag
from .trust import refuse


class Routes:
    """Answers every request hot reload sees: its own routes here, the rest to ``pages`` (HTTP)
    or the app (other websockets)."""

    def __init__(
        self,
        app: ASGIApp,
        options: Options,
        running: Running,
        hub: Hub,
        tag: Tag,
        pages: Pages,
        consoles: Consoles | None,
    ) -> None:
        self._app, self._options, self._running = app, options, running
        self.hub, self._tag, self._pages, self.consoles = hub, tag, pages, consoles

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A trusted request."""
        options, route = self._options, route_path(scope)
        if scope["type"] == "websocket":
            handler = self.websocket if route == options.ws_path else self._app
        elif route.startswith(options.client_path):
            handler = client_response(scope, route[len(options.client_path) :])
        elif route == options.notify_path:
            handler = await notify_response(scope, receive, self._running.notifier)
        elif route == options.events_path:
            handler = self._events
        elif route == options.ws_path:
            handler = self._no_websocket
        else:
            handler = self._pages
        await handler(scope, receive, send)

    async def refused(self, scope: Scope, receive: Receive, send: Send) -> None:
        """An untrusted request: the app's own business, or refused if it is for our routes.

        A page of another origin on a trusted host (behind a proxy that rewrites ``Host``) still
        gets the client (public, static code) and the probe's answer: it says in the page why
        its socket is refused.
        """
        options, route = self._options, route_path(scope)
        http = scope["type"] == "http"
        if http and route == options.ws_path:
            await self._probe(scope, receive, send)
        elif (
            http
            and route.startswith(options.client_path)
            and options.trust.refusal(scope, "") is None
        ):
            name = route[len(options.client_path) :]
            await client_response(scope, name)(scope, receive, send)
        else:
            await (refuse if self._is_ours(route) else self._app)(scope, receive, send)

    def _is_ours(self, route: str) -> bool:
        """Whether ``route`` is one of hot reload's own."""
        options = self._options
        ours = (options.ws_path, options.notify_path, options.events_path)
        return route in ours or route.startswith(options.client_path)

    async def _probe(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A tab whose websocket failed asks why over plain HTTP, naming its page's origin."""
        await probe_response(self._refusal(scope))(scope, receive, send)

    def _refusal(self, scope: Scope) -> str | None:
        """Why this page may not connect (its origin from the header, else from the query)."""
        origin = Headers(scope=scope).get("origin") or _query_value(scope, wire.QUERY_ORIGIN)
        return self._options.trust.refusal(scope, origin)

    def _greeting(self, scope: Scope, page: str) -> list[str]:
        """What a tab hears first: ``hello``, the current template error, if any, then the log
        records of its page's requests that came before it.

        ``hello.missed``: the changes since the ``?rev=`` the tab connected with, when remembered.
        """
        changes = self._running.changes
        missed = changes.missed(_tab_rev(scope))
        hello = wire.hello(self._running.boot, changes.rev, missed)
        error = changes.error_message()  # as the other tabs see it
        first = page and not self.hub.claimed(page)  # a second socket gets none of them
        records = self.consoles.claim(page) if self.consoles and first else []
        return [json.dumps(message) for message in (hello, error, *records) if message is not None]

    async def _no_websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The websocket's URL over plain HTTP: a browser's websocket request that could not be
        upgraded (pages use events from now on), or a tab asking why it cannot connect."""
        tag, events = self._tag, self._options.events_path
        browser, response = no_websocket(scope, events, say=not tag.events_only)
        tag.events_only = tag.events_only or browser
        await (response if browser else self._probe)(scope, receive, send)

    async def _events(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The websocket's messages as Server-Sent Events, for when it cannot be used."""
        if scope["method"] != "GET":
            await PlainTextResponse("Method Not Allowed", 405, headers={"allow": "GET"})(
                scope, receive, send
            )
        elif (refusal := self._refusal(scope)) is not None:
            await probe_response(refusal)(scope, receive, send)
        else:
            page = _query_value(scope, wire.QUERY_PAGE)
            greeting = self._greeting(scope, page)
            with self.hub.subscribe(page) as queue:
                await stream(greeting, queue, receive, send, self._running.stopping)

    async def websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A tab's socket: its greeting, then every message the hub has for it."""
        if (await receive())["type"] != "websocket.connect":
            return  # pragma: no cover - the ASGI spec makes connect the first message
        await send({"type": "websocket.accept"})
        page = _query_value(scope, wire.QUERY_PAGE)
        greeting = self._greeting(scope, page)
        with self.hub.subscribe(page) as queue:
            for text in greeting:
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


def route_path(scope: Scope) -> str:
    """The path without the ASGI ``root_path`` (a mount or a proxy prefix)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root + "/") else path


def _query_value(scope: Scope, name: str) -> str:
    """One value of the query string, or ``""``."""
    query: bytes = scope.get("query_string", b"")
    return parse_qs(query.decode("latin-1")).get(name, [""])[0]


def _tab_rev(scope: Scope) -> int | None:
    """The ``?rev=N`` a tab's socket URL says it last saw; ``None`` when it says none (an older
    client, which compares revs itself) or no whole number (only ASCII digits: ``int`` refuses
    ``²``, which ``isdigit`` accepts; and past 4,300 digits)."""
    value = _query_value(scope, wire.QUERY_REV)
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None
