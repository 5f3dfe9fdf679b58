"""The wire between the middleware and the browser client, Python half.

Every name both sides must spell alike lives here and in ``client/protocol.js``, nowhere else:
paths, query parameters, the script tag's attributes, header names, message types and fields.
``tests/test_protocol.py`` fails when the two halves disagree. Each message is built by one
function below. Messages are JSON text frames (websocket) or events (Server-Sent Events):

- ``hello {boot, rev, missed?}``: first, on every (re)connect. ``boot`` is new for every server
  process; ``rev`` counts the changes it sent; ``missed``: the changes since the ``?rev=`` the
  tab connected with, when remembered.
- ``page | reload | css | image {rev, paths, t, more?, templates?, scripts?, sets?}``: a change.
  ``t``: when the server saw it (ms since the epoch); ``templates``/``scripts``: the pages it
  touches (none: every page); ``sets``: the keys (``#`` and 16 hex digits) of the template sets
  too large for a page to carry that hold one of ``templates``: a page carrying a key has it among
  its template names.
- ``error {rev, error: {message, file, line, source, editor}}``: a template is broken.
- ``log {records: [{level, method, logger, text, request}], dropped}``: server log records of
  this tab's requests.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

# Paths: the default prefix of hot reload's routes, and the routes beneath it.
PREFIX = "/__hot_reload__"
WS = "ws"
EVENTS = "events"
NOTIFY = "notify"
CLIENT = "client/"
ENTRY = "main.js"

# Query parameters.
QUERY_PAGE = "page"  # the tab's page id (ws, events)
QUERY_REV = "rev"  # the last rev the tab saw (ws, events)
QUERY_ORIGIN = "origin"  # the page's origin, where no Origin header can say it (events, probe)
QUERY_BUST = "hot-reload"  # added to a stylesheet's or image's URL to fetch it again

# The script tag's attributes.
ATTR_MARK = "data-hot-reload"
ATTR_BOOT = "data-boot"
ATTR_REV = "data-rev"
ATTR_PAGE = "data-page"
ATTR_EVENTS = "data-events"  # present: start on Server-Sent Events
ATTR_METHOD = "data-method"  # the page answered this method (not GET): never fetch it again
ATTR_MORPH = "data-morph"
ATTR_STATUS = "data-status"
ATTR_TEMPLATES = "data-templates"
MORPH_OFF = "false"
STATUS_OFF = "off"

# Headers (lower case, as ASGI gives them; HTTP compares them so).
HEADER_PAGE = "x-hot-reload-page"  # a request's page id, added by the client
HEADER_RESPONSE = "x-hot-reload"  # what a response of ours is
ERROR_PAGE = "error-page"  # ... the development error page
TIMING = "hot-reload"  # the Server-Timing entry naming a response's templates
#: The template set of a response whose templates cannot be known: it touches everything.
ANY_TEMPLATE = "*"

# Message types.
HELLO = "hello"
PAGE = "page"
RELOAD = "reload"
CSS = "css"
IMAGE = "image"
ERROR = "error"
LOG = "log"

#: Only the server spells these: the client finds its routes relative to its own URL.
SERVER_ONLY = frozenset({"PREFIX", "NOTIFY", "CLIENT", "ENTRY"})
#: Paths named in a change message; the rest are counted in ``more``.
SHOWN = 10
#: Present in every tag we write, in this order; a page that carries it is not injected again.
#: Not just ``data-hot-reload``: that also starts ``data-hot-reload-permanent``.
MARKER = f"{ATTR_MARK} {ATTR_BOOT}"


def hello(boot: str, rev: int, missed: dict[str, Any]) -> dict[str, Any]:
    """``hello``; ``missed`` is ``{}`` or ``{"missed": [...]}``."""
    return {"type": HELLO, "boot": boot, "rev": rev, **missed}


def change(kind: str, rev: int, names: Sequence[str]) -> dict[str, Any]:
    """A change message: the first ``SHOWN`` names, how many more there are, and ``t``."""
    built: dict[str, Any] = {"type": kind, "rev": rev, "paths": list(names[:SHOWN])}
    built["t"] = round(time.time() * 1000)
    if len(names) > SHOWN:
        built["more"] = len(names) - SHOWN
    return built


def error(rev: int, detail: dict[str, Any]) -> dict[str, Any]:
    """``error``: ``detail`` is ``{message, file, line, source, editor}``."""
    return {"type": ERROR, "rev": rev, "error": detail}


def log(records: list[dict[str, str]], dropped: int) -> dict[str, Any]:
    """``log``: records of this tab's requests, and how many were dropped."""
    return {"type": LOG, "records": records, "dropped": dropped}


def tag_start(
    src: str, boot: str, rev: int, *, events: bool, method: str, morph: bool, status: bool
) -> str:
    """The client's tag without its end (``></script>``): ``src`` and ``method`` escaped by the
    caller. A page id (``page_attribute``) and a template set may follow."""
    extra = f" {ATTR_EVENTS}" if events else ""
    extra += f' {ATTR_METHOD}="{method}"' if method else ""
    extra += "" if morph else f' {ATTR_MORPH}="{MORPH_OFF}"'
    extra += "" if status else f' {ATTR_STATUS}="{STATUS_OFF}"'
    return f'<script type="module" src="{src}" {MARKER}="{boot}" {ATTR_REV}="{rev}"{extra}'


def page_attribute(page: str) -> str:
    """The tag's page id attribute (ids are made of URL-safe characters)."""
    return f' {ATTR_PAGE}="{page}"'


def encode_names(names: Iterable[str]) -> str:
    """Template names for ``data-templates`` and ``Server-Timing``: sorted, each
    percent-encoded, joined by spaces (``decodeNames`` in JS reads them). Percent-encoding leaves
    no space, quote, ``&`` or ``<`` inside a name, so the list needs no escaping."""
    return " ".join(sorted(quote(name, safe="/") for name in names))
