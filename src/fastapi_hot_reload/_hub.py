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

    def __len__(self) -> int:
        return len(self._queues)

    @contextmanager
    def subscribe(self) -> Iterator[MemoryObjectReceiveStream[str]]:
        """A stream of the encoded messages broadcast while the ``with`` block runs."""
        send, receive = anyio.create_memory_object_stream[str](self._buffer)
        self._queues.add(send)
        try:
            with receive:
                yield receive
        finally:
            self._queues.discard(send)
            send.close()

    def broadcast(self, message: dict[str, Any]) -> int:
        """Queue ``message`` for every tab; returns how many tabs it reached."""
        text = json.dumps(message, separators=(",", ":"))
        for queue in list(self._queues):
            try:
                queue.send_nowait(text)
            except (anyio.WouldBlock, anyio.BrokenResourceError):
                self._queues.discard(queue)
                queue.close()
        return len(self._queues)
