"""The last changes sent, so that a tab that (re)connects catches up on exactly what it missed."""

from __future__ import annotations

from collections import deque
from typing import Any

#: Changes remembered; a tab further behind than this simply updates.
SIZE = 100


class History:
    """Change messages by ``rev``, oldest first, at most ``size`` of them."""

    def __init__(self, size: int = SIZE) -> None:
        self._changes: deque[dict[str, Any]] = deque(maxlen=size)

    def add(self, message: dict[str, Any]) -> None:
        self._changes.append(message)

    def since(self, rev: int, now: int) -> list[dict[str, Any]] | None:
        """The changes after ``rev``, or ``None`` when some of them are no longer remembered."""
        missed = [message for message in self._changes if message["rev"] > rev]
        return missed if len(missed) == now - rev else None

    def missed(self, rev: int | None, now: int) -> dict[str, Any]:
        """What to add to a ``hello`` for a tab that last saw ``rev``: the changes it missed, as
        ``{"missed": [...]}``; nothing when it did not say (``None``), is too far behind, or
        names a ``rev`` from the future (another server process)."""
        if rev is None or rev > now:
            return {}
        missed = self.since(rev, now)
        return {} if missed is None else {"missed": missed}
