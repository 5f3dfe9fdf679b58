"""Which HTML responses are fragments, swapped into a page (htmx, Turbo, Unpoly): no tag there."""

from __future__ import annotations

import re

from starlette.types import Message, Scope

#: Request headers sent by libraries that swap the response into part of the page: htmx (also
#: for ``hx-boost`` navigations, whose page keeps the client it already runs), Turbo Frames and
#: Unpoly. The decision reads them, so every HTML response varies on them.
FRAGMENT_HEADERS = frozenset((b"hx-request", b"turbo-frame", b"x-up-target"))
VARY = b"HX-Request, Turbo-Frame, X-Up-Target"
#: How far into an HTML body (after leading whitespace) a document shows itself.
SNIFF_BYTES = 1024
_DOCUMENT = re.compile(rb"<(?:!doctype|html|body|/body|/html)(?![\w-])", re.IGNORECASE)
_TEXT = re.compile(rb"\S")


def fragment_request(scope: Scope) -> bool:
    """Whether the request asks for a fragment to swap into a page already running the client."""
    for name, _ in scope["headers"]:  # noqa: SIM110 - a loop costs less than any() per request
        if name in FRAGMENT_HEADERS:
            return True
    return False


def is_document(body: bytes, *, complete: bool) -> bool | None:
    """Whether an HTML body is a whole document (a doctype, ``<html>`` or ``<body>`` near its
    start), or ``None`` while too little of a streamed body has arrived to tell."""
    text = _TEXT.search(body)
    start = text.start() if text else len(body)
    if _DOCUMENT.search(body, start, start + SNIFF_BYTES):
        return True
    return False if complete or len(body) - start >= SNIFF_BYTES else None


def add_headers(message: Message, *, fragment: bool) -> None:
    """Add ``Vary`` for the headers read above; keep a fragment out of the browser cache.

    A cached fragment would be shown for its URL on a reload or on Back (htmx #497, #1201), and
    carries no tag to notice it is stale. A page stays cacheable, so the back/forward cache
    keeps working: it carries its ``boot``/``rev`` and reloads itself when it is out of date.
    An app's own ``Cache-Control`` is kept.
    """
    star = cached = False
    for name, value in message["headers"]:
        key = name.lower()
        if key == b"vary":
            star = star or value.strip() == b"*"
        elif key == b"cache-control":
            cached = True
    extra = [] if star else [(b"vary", VARY)]
    if fragment and not cached:
        extra.append((b"cache-control", b"no-store"))
    message["headers"] = [*message["headers"], *extra]
