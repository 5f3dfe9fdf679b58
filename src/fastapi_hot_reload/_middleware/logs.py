"""Server log records of a tab's requests, sent to that tab's browser console.

Each page gets an id in its script tag. Records logged while the server handles a request are
captured (a ``ContextVar`` marks the request; a log record factory collects them, so the app's
own handlers and Python's last-resort stderr output are untouched) and go to the tab named by the
request's ``X-Hot-Reload-Page`` header (the client adds it to its ``fetch`` and
``XMLHttpRequest`` calls to the same origin, htmx included), or else to the page being rendered.
Records for a tab that is not connected yet wait for it, briefly and bounded.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
import traceback
from contextvars import ContextVar
from typing import Any

from starlette.datastructures import Headers
from starlette.types import Scope

from .. import _protocol as wire
from .hub import Hub

HEADER = wire.HEADER_PAGE
#: Records kept per request, and characters per record (its traceback included).
MAX_RECORDS = 20
MAX_CHARS = 4000
#: Records a tab gets per ``WINDOW_SECONDS``; those beyond are only counted.
RATE = 60
WINDOW_SECONDS = 10.0
#: How long, and for how many pages, records wait for a tab that has not connected yet.
KEEP_SECONDS = 30.0
MAX_WAITING = 64
#: Loggers left out: the server's access lines say nothing the browser's network panel does not.
SKIPPED = ("uvicorn.access",)

#: Random bytes per page id (128 bits): no one can guess another page's id from their own.
ID_BYTES = 16
_PAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_capture: ContextVar[Capture | None] = ContextVar("fastapi_hot_reload_capture", default=None)


def browser_level(value: str | int | bool) -> int | None:
    """The lowest level sent to the browser, from the ``browser_logs`` option; ``None``: off."""
    if value is False:
        return None
    if value is True:
        return logging.WARNING
    level = logging.getLevelName(value.upper()) if isinstance(value, str) else value
    if not isinstance(level, int) or isinstance(level, bool) or level < 0:
        raise ValueError(
            f"browser_logs: expected a level ('DEBUG', 'INFO', 'WARNING', 'ERROR', a number) "
            f"or False, got {value!r}"
        )
    return level


def _method(levelno: int) -> str:
    """The ``console`` method that shows a record of this level."""
    for floor, method in ((logging.ERROR, "error"), (logging.WARNING, "warn")):
        if levelno >= floor:
            return method
    return "info" if levelno >= logging.INFO else "debug"


def _text(record: logging.LogRecord) -> str:
    try:
        text = record.getMessage()
    except Exception:  # a bad format string: the app's own handler reports it
        text = str(record.msg)
    if record.exc_info and record.exc_info[1] is not None:
        text += "\n" + "".join(traceback.format_exception(record.exc_info[1])).rstrip()
    return _shortened(text)


def _shortened(text: str, *, keep_end: bool = False) -> str:
    """``text`` cut to ``MAX_CHARS``: its start, or its end (a traceback's last lines)."""
    if len(text) <= MAX_CHARS:
        return text
    return "…" + text[1 - MAX_CHARS :] if keep_end else text[: MAX_CHARS - 1] + "…"


class Capture:
    """One request's records at or above the level, at most ``MAX_RECORDS``; as a context
    manager, it collects what is logged inside and hands it to its ``Consoles`` at the end."""

    __slots__ = ("_consoles", "_scope", "_token", "dropped", "page", "records")

    def __init__(self, consoles: Consoles, scope: Scope, page: str) -> None:
        self._consoles = consoles
        self._scope = scope
        self.page = page
        self.records: list[dict[str, str]] = []
        self.dropped = 0

    def __enter__(self) -> str:
        self._token = _capture.set(self)
        return self.page

    def __exit__(self, kind: object, exc: BaseException | None, traceback: object) -> None:
        _capture.reset(self._token)
        if isinstance(exc, Exception):
            self.add_exception(exc)
        if self.records or self.dropped:
            self._consoles.deliver(self)

    def add(self, record: logging.LogRecord) -> None:
        if record.levelno < self._consoles.level or record.name.startswith(SKIPPED):
            return
        if len(self.records) >= MAX_RECORDS:
            self.dropped += 1
            return
        self._append(record.levelname, _method(record.levelno), record.name, _text(record))

    def add_exception(self, exc: BaseException) -> None:
        """An exception that escaped the app: the server logs it after the request is over."""
        text = "".join(traceback.format_exception(exc)).rstrip()
        self._append("ERROR", "error", "exception", _shortened(text, keep_end=True))

    def _append(self, level: str, method: str, logger: str, text: str) -> None:
        request = f"{self._scope['method']} {self._scope['path']}"
        entry = {"level": level, "method": method, "logger": logger, "text": text}
        self.records.append({**entry, "request": request})

    def target(self) -> str:
        """The tab the records go to: the one whose request this was, else the new page."""
        header = Headers(scope=self._scope).get(HEADER)
        return header if header is not None and _PAGE_ID.fullmatch(header) else self.page


def _install_factory() -> None:
    """Collect each record made while a request is captured; once per process."""
    old = logging.getLogRecordFactory()
    if getattr(old, "_hot_reload", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = old(*args, **kwargs)
        if (capture := _capture.get()) is not None:
            capture.add(record)
        return record

    factory._hot_reload = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


class Consoles:
    """Routes captured records to the browser console of the tab they belong to."""

    def __init__(self, hub: Hub, level: int) -> None:
        self._hub = hub
        self.level = level
        self._waiting: dict[str, tuple[float, list[dict[str, Any]]]] = {}
        self._budgets: dict[str, tuple[float, int]] = {}
        _install_factory()

    def capture(self, scope: Scope) -> Capture:
        """``with consoles.capture(scope) as page:`` collects what is logged while serving
        ``scope``, for the tab that made the request; ``page`` is the id of the new page."""
        return Capture(self, scope, secrets.token_urlsafe(ID_BYTES))

    def deliver(self, capture: Capture) -> None:
        page = capture.target()
        records, dropped = self._spend(page, capture.records, capture.dropped)
        message = wire.log(records, dropped)
        if not self._hub.send(page, message):
            self._wait(page, message)

    def _spend(
        self, page: str, records: list[dict[str, str]], dropped: int
    ) -> tuple[list[dict[str, str]], int]:
        """At most ``RATE`` records per tab per window; the rest only counted."""
        now = time.monotonic()
        start, used = self._budgets.get(page, (now, 0))
        if now - start >= WINDOW_SECONDS:
            start, used = now, 0
        kept = records[: max(0, RATE - used)]
        self._budgets[page] = (start, used + len(kept))
        if len(self._budgets) > 4 * MAX_WAITING:
            self._budgets = {
                key: value
                for key, value in self._budgets.items()
                if now - value[0] < WINDOW_SECONDS
            }
        return kept, dropped + len(records) - len(kept)

    def _wait(self, page: str, message: dict[str, Any]) -> None:
        now = time.monotonic()
        self._waiting = {
            key: value for key, value in self._waiting.items() if now - value[0] < KEEP_SECONDS
        }
        messages = self._waiting.setdefault(page, (now, []))[1]
        if len(messages) < MAX_RECORDS:  # a message per request: more only while not connected
            messages.append(message)
        while len(self._waiting) > MAX_WAITING:
            del self._waiting[next(iter(self._waiting))]  # the oldest page

    def claim(self, page: str) -> list[dict[str, Any]]:
        """The messages waiting for ``page``, which has just connected."""
        since, messages = self._waiting.pop(page, (0.0, []))
        return messages if time.monotonic() - since < KEEP_SECONDS else []
