"""The way out of ``changes/``: every message to the tabs is sent here, under its ``rev``.

No other module in ``changes/`` talks to the hub.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ... import _protocol as wire
from ..editor import editor_url
from ..hub import Hub
from ..tracking import MAX_KEYS, Sets
from .classify import SHOWN
from .history import History

logger = logging.getLogger("fastapi_hot_reload")


def shown(names: Sequence[str]) -> str:
    """``'a', 'b' and 12 more``: a log line never lists a whole build's output; quoted, so a
    name with a newline forges no log line."""
    listed = ", ".join(map(repr, names[:SHOWN]))
    return f"{listed} and {len(names) - SHOWN} more" if len(names) > SHOWN else listed


class Outbox:
    """The change counter (``rev``), the changes sent (for tabs that reconnect), and the
    templates that are broken now (their ``error`` goes to every tab, and to each new one)."""

    def __init__(self, hub: Hub, editor: str | None = None, sets: Sets | None = None) -> None:
        self.rev = 0
        self.history = History()  # what a tab that reconnects may have missed
        self.broken: dict[Path, dict[str, Any]] = {}  # template -> its error's body
        self._hub = hub
        self._editor = editor  # a URL template: error messages link the file and line
        self._sets = Sets() if sets is None else sets  # the pages that carry a key, not names

    def send(
        self, kind: str, names: Sequence[str], only: dict[str, list[str]] | None = None
    ) -> dict[str, Any]:
        """Broadcast one change message under a new ``rev``, and log it.

        A ``page``, ``reload``, ``css`` or ``image`` message (``wire.change``); an update that
        concerns only some tabs adds ``only``: the ``templates`` and/or ``scripts`` that say
        which, and ``sets``: the keys of the large template sets holding one of the templates.
        """
        self.rev += 1
        only = dict(only or {})
        if keys := self._sets.containing(only.get("templates", ())):
            # So many pages rendered so many sets: simpler to update every tab.
            only = {} if len(keys) > MAX_KEYS else {**only, "sets": keys}
        sent = {**wire.change(kind, self.rev, names), **only}
        self.history.add(sent)
        tabs = self._hub.broadcast(sent)
        logger.info("%s (rev %d, %d tabs): %s", kind, self.rev, tabs, shown(names))
        return sent

    def send_error(self) -> None:
        """Broadcast the first broken template's error, and log it (the ``rev`` stays)."""
        error = self.error_message()
        if error is None:  # pragma: no cover - called only while something is broken
            return
        self._hub.broadcast(error)
        body = error["error"]
        logger.warning(
            "not reloading: %s in %r, line %s", body["message"], body["file"], body["line"]
        )

    def error_message(self) -> dict[str, Any] | None:
        """The ``error`` message for the first broken template, while any is broken."""
        if not self.broken:
            return None
        error = self.broken[min(self.broken)]
        editor = editor_url(self._editor, error["file"], error["line"])
        return wire.error(self.rev, {**error, "editor": editor})

    def missed(self, rev: int | None) -> dict[str, Any]:
        """For a ``hello``: the changes since ``rev``, the one a tab connected with, if
        remembered."""
        return self.history.missed(rev, self.rev)
