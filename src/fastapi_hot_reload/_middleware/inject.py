"""Add the client ``<script>`` tag to one HTML response, in pure ASGI; pass all else through."""

from __future__ import annotations

import codecs
import logging
from collections.abc import Callable
from functools import lru_cache

from starlette.types import Message, Send

from .. import _protocol as wire
from .csp import Csp
from .fragments import add_headers, is_document

logger = logging.getLogger("fastapi_hot_reload")

MARKER = wire.MARKER.encode()  # in every tag we write: a page that has it is not injected
_BODY_END = b"</body"
_HEADERS = (b"content-type", b"content-encoding", b"content-length", b"etag", b"last-modified")
_WANTED = frozenset((*_HEADERS, b"cache-control", b"content-range"))
_CSP = b"content-security-policy"
#: Byte order marks of UTF-16 and UTF-32, which a browser obeys over any declared charset.
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
#: What the tag and ``</body`` are made of: a charset that encodes it as ASCII can take the tag.
_PROBE = (
    wire.tag_start("/-_.~", "0aZ", 9, events=True, method="POST", morph=False, status=False)
    + f'{wire.page_attribute("0aZ-_")} {wire.ATTR_TEMPLATES}="a%20b" nonce="+/="></script></body>'
)


#: Elements whose content is text to the parser: a ``</body>`` in them closes nothing.
_RAW_TEXT = (b"script", b"style", b"textarea", b"title", b"xmp", b"iframe", b"noembed",
             b"noframes", b"noscript")  # fmt: skip
#: What may follow a tag's name (``<script>``, ``<script src>``; not ``<script-loader>``); the
#: page may end there too.
_NAME_ENDS = frozenset((b"", b" ", b"\t", b"\n", b"\r", b"\f", b"/", b">"))


def last_body_end(html: bytes) -> int:
    """Where the last real ``</body`` (any case) starts, or -1: one inside a comment or in
    the text of a ``<textarea>``, ``<script>``... closes nothing, so it takes no tag."""
    lower = html.lower()
    at = len(lower)
    while (at := lower.rfind(_BODY_END, 0, at)) >= 0:
        if not _in_text(lower, at):
            return at
    return -1


def _in_text(lower: bytes, at: int) -> bool:
    """Whether ``at`` of a lower-cased page lies in a comment or a raw text element."""
    if lower.rfind(b"<!--", 0, at) > lower.rfind(b"-->", 0, at):
        return True
    return any(_last_open(lower, name, at) > lower.rfind(b"</" + name, 0, at) for name in _RAW_TEXT)


def _last_open(lower: bytes, name: bytes, end: int) -> int:
    """Where the last ``<name`` start tag before ``end`` begins (not ``<name-x``), or -1."""
    start = b"<" + name
    while (at := lower.rfind(start, 0, end)) >= 0:
        after = at + len(start)
        if lower[after : after + 1] in _NAME_ENDS:
            return at
        end = at
    return -1


def insert_tag(html: bytes, tag: bytes) -> bytes:
    """``tag`` just before the last ``</body>`` (any case), or at the end when there is none."""
    at = last_body_end(html)
    if at < 0:
        return html + tag
    page = memoryview(html)  # one copy of the page, not three
    return b"".join((page[:at], tag, page[at:]))


def _headers(message: Message) -> tuple[dict[bytes, bytes], list[bytes]]:
    """The few response headers that matter here, by lower-case name, and the CSP policies,
    read in one pass."""
    found, policies = {}, []
    for name, value in message["headers"]:
        if (key := name.lower()) in _WANTED:
            found[key] = value
        elif key == _CSP:
            policies.append(value)
    return found, policies


@lru_cache(maxsize=32)
def taggable(content_type: bytes) -> bool:
    """Whether a response of this ``Content-Type`` is HTML that can take our ASCII tag."""
    lower = content_type.lower()
    return lower.startswith(b"text/html") and ascii_compatible(_charset(lower))


def _charset(content_type: bytes) -> bytes:
    """The ``charset`` parameter of a lower-case ``Content-Type``; empty when there is none."""
    for param in content_type.split(b";")[1:]:
        name, _, value = param.partition(b"=")
        if name.strip() == b"charset":
            return value.strip().strip(b'"')
    return b""


def ascii_compatible(charset: bytes) -> bool:
    """Whether a page in ``charset`` can take our ASCII tag as it is (UTF-16 and UTF-32 cannot;
    neither can a charset Python does not know)."""
    if not charset:
        return True
    try:
        return _PROBE.encode(codecs.lookup(charset.decode("ascii")).name) == _PROBE.encode()
    except (LookupError, UnicodeError):
        return False


def _set_header(message: Message, name: bytes, value: bytes) -> None:
    headers = [(key, old) for key, old in message["headers"] if key.lower() != name]
    headers.append((name, value))
    message["headers"] = headers


class Injector:
    """The ``send`` of one response: holds back only what the tag may have to go in front of.

    An HTML response with a ``Content-Length`` is held whole, so the length can be fixed; a
    streamed one is passed on as it comes, keeping back the tail from its last ``</body`` on.
    An HTML response is held until its first bytes tell whether it is a document; a fragment (or
    any response to a ``fragment`` request: htmx, Turbo Frame, Unpoly) gets no tag.
    A server error (5xx) is held until ``finish``: the app may raise after sending it (Starlette's
    ``ServerErrorMiddleware`` does), and then the developer gets a better page instead.
    """

    def __init__(
        self,
        send: Send,
        tag: Callable[[], bytes],
        *,
        head: bool,
        csp: Csp | None = None,
        fragment: bool = False,
        timing: Callable[[bool, bool], tuple[bytes, bytes] | None] | None = None,
    ) -> None:
        """``tag`` makes the tag once the page is complete; ``timing(html, complete)`` a header
        to add, if any (``complete``: the response had a ``Content-Length``)."""
        self._send = send
        self._tag = tag
        self._timing = timing
        self._policies: list[bytes] = []  # the page's CSP, for the nonce its tag must carry
        self._head = head
        self._csp = csp or Csp()
        self._fragment = fragment
        self._page = self._sniff = False  # _sniff: waiting for the first bytes of an HTML body
        self.started = False  # whether a response start went to the server yet
        self._start: Message | None = None
        self._held = b""
        self._tail = b""
        self._seen_marker = False
        self._first = True
        self._inject = self._whole = self._defer = self._active = self._complete = False
        self._length: int | None = None  # the app's Content-Length, if it gave one

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self._on_start(message)
            if not (self._whole or self._sniff):
                await self._flush()
        elif self._active and message["type"] == "http.response.body":
            await self._on_body(message)
        else:
            await self._flush()
            await self._send(message)

    async def finish(self) -> None:
        """Send a response held back until the app returned."""
        if self._complete:
            self._complete = False
            await self._flush(more_body=False)

    def _on_start(self, message: Message) -> None:
        headers, policies = _headers(message)
        length = headers.get(b"content-length")
        # Not a length (or one of 19 digits and more, which no body has): pass it on as it is.
        if length is not None and not (length.isdigit() and len(length) < 19):
            self._start = message
            return
        self._length = None if length is None else int(length)
        html = taggable(headers.get(b"content-type", b""))
        encoded = headers.get(b"content-encoding", b"identity").lower() != b"identity"
        status = message["status"]
        has_body = (
            status >= 200 and status not in (204, 206, 304) and b"content-range" not in headers
        )
        if (b"etag" in headers or b"last-modified" in headers) and b"cache-control" not in headers:
            # A file response (StaticFiles): make the browser ask again each time, so a reload
            # never shows a stylesheet or script from its cache.
            _set_header(message, b"cache-control", b"no-cache")
        if self._timing and (timing := self._timing(html, b"content-length" in headers)):
            message["headers"] = [*message["headers"], timing]
        if html and encoded:
            logger.warning(
                "a compressed HTML response cannot get the hot reload script: add HotReload "
                "before GZipMiddleware, so that it runs inside it"
            )
        self._page = html and has_body and not encoded  # an HTML body we may add the tag to
        self._inject = self._sniff = self._page and not self._fragment
        if self._inject and policies:
            self._policies = policies
        self._defer = status >= 500
        self._whole = self._defer or (self._inject and b"content-length" in headers)
        self._active = self._inject or self._defer
        self._start = message

    async def _on_body(self, message: Message) -> None:
        chunk = message.get("body", b"")
        if self._first and chunk:
            self._first = False
            self._inject = self._inject and not chunk.startswith(_WIDE_BOMS)
        seen = self._tail + chunk
        self._seen_marker = self._seen_marker or MARKER in seen
        self._tail = seen[-len(MARKER) + 1 :]
        self._held += chunk
        if self._sniff and not self._sniffed(complete=not message.get("more_body", False)):
            return
        if message.get("more_body", False):
            if not self._whole:
                await self._pass_on_safe_part()
            return
        self._active = False
        if self._inject and self._length_lies():
            self._inject = False
        if self._inject:
            self._add_tag()
        if self._defer:
            self._complete = True
        else:
            await self._flush(more_body=False)

    def _sniffed(self, *, complete: bool) -> bool:
        """Whether the first bytes tell yet if this is a document (a HEAD body is taken as one)."""
        document = (self._head and not self._held) or is_document(self._held, complete=complete)
        if document is None:
            return False
        self._sniff = False
        if not document:
            self._inject = False
            self._whole = self._active = self._defer
        return True

    def _length_lies(self) -> bool:
        """Whether the app's ``Content-Length`` differs from its body: then the response goes
        on exactly as the app sent it (the server reports the mismatch), without the tag."""
        if (
            self._length is None
            or (self._head and not self._held)
            or self._length == len(self._held)
        ):
            return False
        logger.warning(
            "an HTML response says Content-Length: %d but its body has %d bytes: passed on as "
            "the app sent it, without the hot reload script",
            self._length,
            len(self._held),
        )
        return True

    def _add_tag(self) -> None:
        tag = self._csp.tag(self._tag(), self._policies) if self._policies else self._tag()
        if self._head and not self._held:
            # A header-only HEAD response: the length must still match the GET's.
            length = (self._length or 0) + len(tag)
        else:
            if not self._seen_marker:
                self._held = insert_tag(self._held, tag)
            length = len(self._held)
        if self._start is not None:  # held whole: now the length is known
            _set_header(self._start, b"content-length", str(length).encode())

    async def _pass_on_safe_part(self) -> None:
        """Send what comes before the last ``</body`` (or before a tail that may start one)."""
        at = last_body_end(self._held)
        keep = at if at >= 0 else max(0, len(self._held) - len(_BODY_END) + 1)
        if keep:
            await self._flush_start()
            body, self._held = self._held[:keep], self._held[keep:]
            await self._send({"type": "http.response.body", "body": body, "more_body": True})

    async def _flush_start(self) -> None:
        if self._start is not None:
            start, self._start = self._start, None
            if self._page:
                add_headers(start, fragment=not self._inject)
            self.started = True
            await self._send(start)

    async def _flush(self, *, more_body: bool = True) -> None:
        await self._flush_start()
        if self._held or not more_body:
            body, self._held = self._held, b""
            await self._send({"type": "http.response.body", "body": body, "more_body": more_body})
