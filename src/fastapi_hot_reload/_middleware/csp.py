"""A page's Content-Security-Policy, read for what the client needs: a nonce and its websocket."""

from __future__ import annotations

import logging
import re

logger = logging.getLogger("fastapi_hot_reload")

#: A CSP nonce source; its value is base64 (``base64-value`` in CSP3), nothing to escape.
_NONCE = re.compile(rb"'nonce-([A-Za-z0-9+/_=-]+)'", re.IGNORECASE)
#: Sources under which a page may open a websocket to its own server.
_WEBSOCKET_OK = (b"*", b"'self'", b"ws:", b"wss:")


def directive(policy: bytes, names: tuple[bytes, ...]) -> list[bytes] | None:
    """The sources of the first of ``names`` the policy sets (the later names are fallbacks)."""
    found: dict[bytes, list[bytes]] = {}
    for part in policy.split(b";"):
        if words := part.split():
            found.setdefault(words[0].lower(), words[1:])  # a repeated directive is ignored
    return next((found[name] for name in names if name in found), None)


def script_nonce(policies: list[bytes]) -> bytes | None:
    """The nonce a ``<script src>`` must carry to run under these policies, if they ask one."""
    return _nonce(policies, (b"script-src-elem", b"script-src", b"default-src"))


def page_nonce(policies: list[bytes]) -> bytes | None:
    """The nonce the tag carries: the script one, else the one for ``<style>``. The client reads
    the page's nonce from its elements, and a page may have no inline style until an edit adds
    one (nonce.js)."""
    return script_nonce(policies) or _nonce(policies, (b"style-src-elem", b"style-src"))


def _nonce(policies: list[bytes], names: tuple[bytes, ...]) -> bytes | None:
    for header in policies:
        for policy in header.split(b","):
            for source in directive(policy, names) or ():
                if match := _NONCE.fullmatch(source):
                    return match[1]
    return None


def blocks_websocket(policies: list[bytes]) -> bool:
    """Whether ``connect-src`` (or ``default-src``) leaves out the page's own websocket."""
    for header in policies:
        for policy in header.split(b","):
            sources = directive(policy, (b"connect-src", b"default-src"))
            if sources is not None and not _allows_websocket(sources):
                return True
    return False


def _allows_websocket(sources: list[bytes]) -> bool:
    lower = [source.lower() for source in sources]
    return any(s in _WEBSOCKET_OK or s.startswith((b"ws://", b"wss://")) for s in lower)


class Csp:
    """Fits the client tag to each response's policy; warns once when its socket is blocked."""

    def __init__(self) -> None:
        self._warned = False

    def tag(self, tag: bytes, policies: list[bytes]) -> bytes:
        """``tag``, with the policy's nonce when it names one."""
        if not self._warned and blocks_websocket(policies):
            self._warned = True
            logger.warning(
                "this page's Content-Security-Policy blocks the hot reload websocket: add "
                "'self' to its connect-src (older Safari also needs ws://your-dev-host:port), "
                "or the page never hears of a change"
            )
        nonce = page_nonce(policies)
        if nonce is None:
            return tag
        return tag.replace(b"<script ", b'<script nonce="' + nonce + b'" ', 1)
