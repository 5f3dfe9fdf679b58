"""Changes the watcher cannot see: the ``{path}/notify`` endpoint, and ``notify()`` for code."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from typing import Any

import anyio.from_thread
import anyio.lowlevel
from starlette.datastructures import State
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import Receive, Scope

from .changes.pipeline import Changes

#: Where the running middleware leaves its notifier: ``app.state.fastapi_hot_reload``.
STATE_KEY = "fastapi_hot_reload"
MAX_BODY = 64 * 1024
EXAMPLE = '{"paths": ["index.html", "app.css"]}'


class Notifier:
    """Tells ``Changes`` on the event loop's thread, waiting there from any other thread."""

    def __init__(self, changes: Changes) -> None:
        self._changes = changes
        self._thread = threading.get_ident()
        self._token = anyio.lowlevel.current_token()

    def __call__(self, names: list[str]) -> dict[str, Any]:
        if threading.get_ident() == self._thread:
            return self._changes.notify(names)
        return anyio.from_thread.run_sync(self._changes.notify, names, token=self._token)


def register(apps: Iterable[object], notifier: Notifier) -> None:
    """Leave ``notifier`` on each Starlette app's ``state``, where ``notify()`` finds it."""
    for app in apps:
        if isinstance(state := getattr(app, "state", None), State):
            setattr(state, STATE_KEY, notifier)


def notify(app_or_request: object, *paths: str) -> dict[str, Any] | None:
    """Update every open tab as if ``paths`` had changed on disk: for what the watcher cannot
    see (a database row a template shows, a build outside the watched folders).

    ``app_or_request``: the FastAPI/Starlette app, a ``Request``, or the ``HotReload`` instance.
    ``paths``: template names (their compiled templates are dropped) or file names such as
    ``"app.css"`` (swapped in place like a saved file); none reloads every tab and forgets every
    compiled template. Call it from async code, a sync endpoint or a background task. Returns
    the message sent, or ``None`` when hot reload is off or not started (a no-op, so the call
    can stay in production code).
    """
    for target in (app_or_request, getattr(app_or_request, "app", None)):
        notifier = getattr(getattr(target, "state", None), STATE_KEY, None)
        if isinstance(notifier, Notifier):
            return notifier(list(paths))
    return None


async def notify_response(scope: Scope, receive: Receive, notifier: Notifier | None) -> Response:
    """``POST {path}/notify``, optional body ``{"paths": [...]}``: the message sent, as JSON.

    Whoever may use the websocket may notify (the middleware refuses others first)."""
    if scope["method"] != "POST":
        return PlainTextResponse("Method Not Allowed", 405, headers={"allow": "POST"})
    body = await _body(receive)
    if isinstance(body, Response):
        return body
    paths = _paths(body)
    if isinstance(paths, str):
        return PlainTextResponse(f"{paths}; expected no body, or JSON like {EXAMPLE}", 400)
    if notifier is None:
        return PlainTextResponse("not watching yet: the app's lifespan has not started", 503)
    return JSONResponse(notifier(paths))


async def _body(receive: Receive) -> bytes | Response:
    """The whole body, or the answer to one that is too large or never ended."""
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":  # what the client meant is unknown: no change
            return PlainTextResponse("the client disconnected before its body ended", 400)
        chunk: bytes = message.get("body", b"")
        body += chunk
        if len(body) > MAX_BODY:
            return PlainTextResponse(f"body too large: over {MAX_BODY} bytes", 413)
        if not message.get("more_body", False):
            return body


def _paths(body: bytes) -> list[str] | str:
    """The paths in a notify body, or what is wrong with it."""
    if not body.strip():
        return []
    try:
        data = json.loads(body)
    except ValueError as exc:
        return f"body is not JSON ({exc})"
    except RecursionError:
        return "body is nested too deeply"
    if not isinstance(data, dict) or set(data) - {"paths"}:
        return f"body: expected an object with only a 'paths' key, got {body[:80]!r}"
    paths = data.get("paths", [])
    if not isinstance(paths, list) or not all(isinstance(p, str) and p for p in paths):
        return f"paths: expected a list of non-empty strings, got {paths!r}"[:200]
    if not all(map(_unicode, paths)):  # a lone surrogate (``"\\ud800"``) is no file name
        return f"paths: expected text, got {paths!r}"[:200]
    return paths


def _unicode(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True
