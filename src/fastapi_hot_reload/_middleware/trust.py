"""Who may see hot reload: requests to a trusted host, from a page of an allowed origin."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

logger = logging.getLogger("fastapi_hot_reload")

#: Distinct refused hosts and origins logged (and remembered) at most; the rest is counted.
MAX_REFUSED = 32
#: A refused value is logged cut to this many characters.
SHOWN_CHARS = 100


class Trust:
    """Decides, for every HTTP and websocket scope, whether hot reload may show itself.

    Trusted hosts: ``localhost``, ``*.localhost`` and IP literals (which a DNS-rebinding page
    cannot use: its own name is in its ``Host``), plus ``allowed_hosts``: exact names,
    ``.suffix`` (or ``*.suffix``) for a name and its subdomains, or ``*`` for any host.
    Browsers also send an ``Origin`` with websockets and fetches: it must be the requested host
    itself or one of ``allowed_origins`` (a proxy that rewrites ``Host``).
    """

    def __init__(self, allowed_hosts: Iterable[str] = (), allowed_origins: Iterable[str] = ()):
        hosts = [_checked_host(host) for host in _names("allowed_hosts", allowed_hosts)]
        self._any_host = "*" in hosts
        self._hosts = frozenset(host for host in hosts if not host.startswith("."))
        #: ``.example.test`` stands for ``example.test`` and all its subdomains.
        self._suffixes = tuple(host for host in hosts if host.startswith("."))
        origins = _names("allowed_origins", allowed_origins)
        self._origins = frozenset(origin.lower().rstrip("/") for origin in origins)
        #: Decisions by raw ``Host`` value, so a request decodes nothing.
        self._known_hosts: dict[bytes, bool] = {}
        self._refused: set[str] = set()
        self._told_more = False

    def allows(self, scope: Scope) -> bool:
        """Whether this request may get the tag, the error page, the websocket, the routes."""
        host = origin = b""
        for name, value in scope["headers"]:  # one pass, no copies: this runs per request
            if name == b"host":
                host = value
            elif name == b"origin":
                origin = value
        allowed = self._known_hosts.get(host)
        if allowed is None:
            allowed = self._host_allowed(host)
        return allowed and (not origin or self._origin_allowed(origin, host))

    def refusal(self, scope: Scope, origin: str) -> str | None:
        """Why a page of ``origin`` may not connect to this request's host (the reason the log
        gives too), or ``None``: the answer to a tab that asks why its websocket fails."""
        host = next((value for name, value in scope["headers"] if name == b"host"), b"")
        text = host.decode("latin-1").lower()
        if not self._host_allowed(host):
            return _refusal("host", text, _host_fix(_hostname(text)))
        if origin and not self._origin_allowed(origin.encode("latin-1", "replace"), host):
            return _refusal("origin", origin.lower().rstrip("/"), _ORIGIN_FIX)
        return None

    def _origin_allowed(self, origin: bytes, host: bytes) -> bool:
        """A browser's page may talk to its own host only, or be one of ``allowed_origins``."""
        text = origin.decode("latin-1").lower().rstrip("/")
        if text in self._origins or urlsplit(text).netloc == host.decode("latin-1").lower():
            return True
        self._refuse("origin", text, _ORIGIN_FIX)
        return False

    def _host_allowed(self, raw: bytes) -> bool:
        host = raw.decode("latin-1").lower()
        name = _hostname(host)
        allowed = (
            self._any_host
            or name == "localhost"
            or name.endswith(".localhost")
            or name in self._hosts
            or f".{name}".endswith(self._suffixes)
            or _is_ip(name)
        )
        if len(self._known_hosts) < MAX_REFUSED:  # bounded: a client can send any Host
            self._known_hosts[raw] = allowed
        if not allowed:
            self._refuse("host", host, _host_fix(name))
        return allowed

    def _refuse(self, what: str, value: str, fix: str) -> None:
        """One WARNING per refused value, for the first ``MAX_REFUSED`` values; then one more."""
        if value in self._refused:
            return
        if len(self._refused) < MAX_REFUSED:
            self._refused.add(value)
            logger.warning("%s", _refusal(what, value, fix))
        elif not self._told_more:
            self._told_more = True
            logger.warning(
                "hot reload refused more than %d different hosts and origins; "
                "not logging further ones",
                MAX_REFUSED,
            )


_ORIGIN_FIX = "add it to allowed_origins if that page is yours"


def _host_fix(name: str) -> str:
    return f"add {name!r} to allowed_hosts if it is your development server"


def _refusal(what: str, value: str, fix: str) -> str:
    return f"hot reload refused {what} {value[:SHOWN_CHARS]!r} ({fix})"


def accepts_html(scope: Scope) -> bool:
    """Whether the request asks for a page (a browser navigation), not data (an API client)."""
    return "text/html" in Headers(scope=scope).get("accept", "").lower()


async def refuse(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer a hot reload route for an untrusted request: 403, for HTTP and websockets."""
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})  # the server answers 403
    else:
        await PlainTextResponse("Forbidden", status_code=403)(scope, receive, send)


def _names(option: str, values: Iterable[str]) -> list[str]:
    if isinstance(values, str):
        raise TypeError(f"{option}: expected a list of strings, got {values!r}")
    names = list(values)
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise TypeError(f"{option}: expected non-empty strings, got {name!r}")
    return names


def _checked_host(host: str) -> str:
    """A host name as ``allowed_hosts`` takes it, lower-cased; a URL or a port is an error."""
    name = host.strip().lower().rstrip(".")
    name = name[1:] if name.startswith("*.") else name  # as Starlette's TrustedHostMiddleware
    if name != "*" and any(char in name for char in "/:@?#[]* "):
        raise ValueError(
            f"allowed_hosts: expected a host name like 'dev.example.test' or "
            f"'.example.test' (no scheme, no port), got {host!r}"
        )
    return name


def _hostname(host: str) -> str:
    """The name in a ``Host`` header: without the port, brackets or a final dot."""
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rpartition(":")[0].rstrip(".") if ":" in host else host.rstrip(".")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
