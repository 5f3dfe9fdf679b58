"""The connected tabs of one server process, and the broadcast that reaches them all."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream


class Hub:
    """A bounded queue per tab; a broadcast never waits for the slowest one.

    A tab whose queue is full cannot keep up: its queue is closed, which ends its socket, and its
    client reconnects and catches up through the ``hello`` message's ``rev``.
    """

    def __init__(self, buffer: int = 16) -> None:
        self._buffer = buffer
        self._queues: set[MemoryObjectSendStream[str]] = set()
        self._named: dict[str, MemoryObjectSendStream[str]] = {}

    def __len__(self) -> int:
        return len(self._queues)

    @contextmanager
    def subscribe(self, name: str = "") -> Iterator[MemoryObjectReceiveStream[str]]:
        """A stream of the encoded messages broadcast while the ``with`` block runs, and of
        those sent to ``name`` (a page id), if given and no other subscriber holds it: a page's
        messages go to the first socket that claims its id, never to a second one."""
        send, receive = anyio.create_memory_object_stream[str](self._buffer)
        self._queues.add(send)
        if name and name not in self._named:
            self._named[name] = send
        try:
            with receive:
                yield receive
        finally:
            self._queues.discard(send)
            if self._named.get(name) is send:
                del self._named[name]
            send.close()

    def claimed(self, name: str) -> bool:
        """Whether a subscriber holds ``name``."""
        return name in self._named

    def broadcast(self, message: dict[str, Any]) -> int:
        """Queue ``message`` for every tab; returns how many tabs it reached."""
        text = json.dumps(message, separators=(",", ":"))
        for queue in list(self._queues):
            self._put(queue, text)
        return len(self._queues)

    def send(self, name: str, message: dict[str, Any]) -> bool:
        """Queue ``message`` for the one tab subscribed as ``name``; whether it is there."""
        queue = self._named.get(name)
        if queue is None or queue not in self._queues:
            return False
        self._put(queue, json.dumps(message, separators=(",", ":")))
        return True

    def _put(self, queue: MemoryObjectSendStream[str], text: str) -> None:
        try:
            queue.send_nowait(text)
        except (anyio.WouldBlock, anyio.BrokenResourceError):
            self._queues.discard(queue)
            queue.close()
