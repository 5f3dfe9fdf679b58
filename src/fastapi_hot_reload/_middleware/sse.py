"""Server-Sent Events: the websocket's messages for servers or proxies that cannot upgrade."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Iterable
from contextlib import suppress

import anyio
from anyio import CancelScope
from anyio.streams.memory import MemoryObjectReceiveStream
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

logger = logging.getLogger("fastapi_hot_reload")

#: A comment line this often keeps proxies from closing an idle stream.
KEEPALIVE_S = 15.0
#: How often an open stream checks whether the server is shutting down.
EXIT_POLL_S = 0.1
FIX = "pip install 'uvicorn[standard]'"
_END = {"type": "http.response.body", "body": b"", "more_body": False}
_HEADERS = [
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-store"),
    (b"x-accel-buffering", b"no"),  # nginx: pass each event on at once
]


def no_websocket(scope: Scope, events_path: str, *, say: bool) -> tuple[bool, Response]:
    """Whether a browser's websocket request reached us as plain HTTP (the server or a proxy
    could not upgrade it; said in the log when ``say``), and the answer to it."""
    names = {name for name, _ in scope["headers"]}
    browser = b"sec-websocket-key" in names
    why = (
        f"the server has no websocket support (for uvicorn: {FIX})"
        if b"upgrade" in names
        else "the request arrived without its upgrade (a proxy in between may drop it)"
    )
    if browser and say:
        logger.warning(
            "hot reload cannot use its websocket: %s; tabs use Server-Sent Events at %s instead",
            why,
            events_path,
        )
    text = f"Upgrade Required: {why}\n"
    return browser, PlainTextResponse(text, 426, headers={"upgrade": "websocket"})


def find_server() -> object | None:
    """The uvicorn server running this app, for its ``should_exit`` flag: uvicorn waits for open
    responses *before* the lifespan shutdown, so a stream must notice the shutdown by itself.
    uvicorn 0.29+ handles SIGTERM with a method of the server; older ones give that method to
    the event loop, where the server is the ``self`` of the main task's coroutine."""
    found = getattr(signal.getsignal(signal.SIGTERM), "__self__", None)
    if _is_server(found):
        return found
    with suppress(RuntimeError):  # not on asyncio
        for task in asyncio.all_tasks():
            frame = getattr(task.get_coro(), "cr_frame", None)
            if _is_server(found := frame and frame.f_locals.get("self")):
                return found
    return None


def _is_server(thing: object) -> bool:
    """uvicorn's ``Server`` (its lifespan runner has a ``should_exit`` of its own, too)."""
    return hasattr(thing, "should_exit") and hasattr(thing, "force_exit")


async def stream(
    first: Iterable[str],
    queue: MemoryObjectReceiveStream[str],
    receive: Receive,
    send: Send,
    stopping: Callable[[], bool],
) -> None:
    """Send ``first``, then each queued message, as events; end when the tab goes, the hub
    drops it, the lifespan ends (``stopping``) or the server shuts down."""
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    with suppress(OSError):  # the tab went away
        for text in first:
            await _event(send, text)
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_until_gone, receive, tasks.cancel_scope)
            tasks.start_soon(_until_exit, stopping, tasks.cancel_scope)
            await _forward(queue, send)
            tasks.cancel_scope.cancel()
        # It runs (the keepalive test checks its bytes), but after a task group that cancelled
        # its own scope, Python 3.11 reports no line event for it to coverage.
        await send(_END)  # pragma: no cover


async def _event(send: Send, text: str) -> None:
    body = f"data: {text}\n\n".encode()
    await send({"type": "http.response.body", "body": body, "more_body": True})


async def _forward(queue: MemoryObjectReceiveStream[str], send: Send) -> None:
    while True:
        with anyio.move_on_after(KEEPALIVE_S) as idle:
            try:
                text = await queue.receive()
            except anyio.EndOfStream:  # dropped by the hub: the client reconnects
                return
        if idle.cancelled_caught:
            await send({"type": "http.response.body", "body": b":\n\n", "more_body": True})
        else:
            await _event(send, text)


async def _until_gone(receive: Receive, scope: CancelScope) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    scope.cancel()


async def _until_exit(stopping: Callable[[], bool], scope: CancelScope) -> None:
    server = find_server()
    while not (stopping() or getattr(server, "should_exit", False)):  # noqa: ASYNC110 - flags
        await anyio.sleep(EXIT_POLL_S)
    scope.cancel()
