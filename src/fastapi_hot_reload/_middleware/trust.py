"""Who may see hot reload: requests to a trusted host, from a page of an allowed origin."""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

logger = logging.getLogger("fastapi_hot_reload")

#: Distinct refused hosts and origins logged (and remembered) at most; the rest is counted.
MAX_REFUSED = 32
#: A refused value is logged cut to this many characters.
SHOWN_CHARS = 100
#: Headers a reverse proxy adds: a request carrying one came through a proxy.
PROXY_HEADERS = (
    b"forwarded",
    b"x-forwarded-for",
    b"x-forwarded-host",
    b"x-forwarded-proto",
    b"x-real-ip",
    b"via",
)


class Trust:
    """Decides, for every HTTP and websocket scope, whether hot reload may show itself.

    Trusted hosts: ``localhost``, ``*.localhost`` and IP literals (which a DNS-rebinding page
    cannot use: its own name is in its ``Host``), plus ``allowed_hosts``: exact names,
    ``.suffix`` (or ``*.suffix``) for a name and its subdomains, or ``*`` for any host.
    Browsers also send an ``Origin`` with websockets and fetches: it must be the requested host
    itself (same scheme, host and port) or one of ``allowed_origins`` (a proxy that rewrites
    ``Host``).

    A request that came through a proxy (it carries one of ``PROXY_HEADERS``) may come from
    anyone the proxy serves: the implicit trust of ``localhost`` and IP addresses does not
    apply to it. It is trusted only when ``allowed_hosts`` names its ``Host`` or the host the
    proxy forwards (``X-Forwarded-Host``, ``Forwarded: host=``), or ``allowed_origins`` names
    the origin the proxy serves.
    """

    def __init__(self, allowed_hosts: Iterable[str] = (), allowed_origins: Iterable[str] = ()):
        hosts = [_checked_host(host) for host in _names("allowed_hosts", allowed_hosts)]
        self._any_host = "*" in hosts
        self._hosts = frozenset(host for host in hosts if not host.startswith("."))
        #: ``.example.test`` stands for ``example.test`` and all its subdomains.
        self._suffixes = tuple(host for host in hosts if host.startswith("."))
        origins = _names("allowed_origins", allowed_origins)
        self._origins = frozenset(_checked_origin(origin) for origin in origins)
        #: Decisions by raw ``Host`` value, so a request decodes nothing.
        self._known_hosts: dict[bytes, bool] = {}
        self._refused: set[str] = set()
        self._told_more = False

    def allows(self, scope: Scope) -> bool:
        """Whether this request may get the tag, the error page, the websocket, the routes."""
        host = origin = b""
        proxied = False
        for name, value in scope["headers"]:  # one pass, no copies: this runs per request
            if name == b"host":
                host = value
            elif name == b"origin":
                origin = value
            elif name in PROXY_HEADERS:
                proxied = True
        if proxied and (refusal := self._proxy_refusal(scope)) is not None:
            self._refuse_once(refusal)
            return False
        allowed = self._known_hosts.get(host)
        if allowed is None:
            allowed = self._host_allowed(host)
        return allowed and (not origin or self._origin_allowed(origin, host, scope))

    def refusal(self, scope: Scope, origin: str) -> str | None:
        """Why a page of ``origin`` may not connect to this request's host (the reason the log
        gives too), or ``None``: the answer to a tab that asks why its websocket fails."""
        host = next((value for name, value in scope["headers"] if name == b"host"), b"")
        text = host.decode("latin-1").lower()
        if (proxied := self._proxy_refusal(scope)) is not None:
            return proxied
        if not self._host_allowed(host):
            return _refusal("host", text, _host_fix(_hostname(text)))
        raw = origin.encode("latin-1", "replace")
        if origin and not self._origin_allowed(raw, host, scope):
            return _refusal("origin", origin.lower().rstrip("/"), _ORIGIN_FIX)
        return None

    def _proxy_refusal(self, scope: Scope) -> str | None:
        """Why a request that came through a proxy is refused, or ``None`` if it may pass."""
        headers = Headers(scope=scope)
        carried = next((name.decode() for name, _ in scope["headers"] if name in PROXY_HEADERS), "")
        if not carried:
            return None
        forwarded = _forwarded(headers)
        hosts = [headers.get("host", ""), headers.get("x-forwarded-host", ""), forwarded["host"]]
        for host in hosts:
            for one in host.split(","):
                if one.strip() and self._named(_hostname(one.strip().lower())):
                    return None
        scheme = forwarded["proto"] or headers.get("x-forwarded-proto", "http")
        served = forwarded["host"] or headers.get("x-forwarded-host", "").split(",")[0]
        if served and f"{scheme.strip()}://{served.strip()}".lower() in self._origins:
            return None
        where = served.strip() or headers.get("host", "")
        return (
            f"hot reload refused a request through a proxy (it carries {carried}) for host "
            f"{where[:SHOWN_CHARS]!r} (name that host in allowed_hosts, or the origin the proxy "
            "serves in allowed_origins, if the proxy is your development setup)"
        )

    def _named(self, name: str) -> bool:
        """Whether ``allowed_hosts`` itself names ``name`` (not the implicit local names)."""
        return self._any_host or name in self._hosts or f".{name}".endswith(self._suffixes)

    def _origin_allowed(self, origin: bytes, host: bytes, scope: Scope) -> bool:
        """A browser's page may talk to its own origin only (the scheme, host and port of this
        request, or the scheme a trusted proxy forwards), or be one of ``allowed_origins``."""
        text = origin.decode("latin-1").lower().rstrip("/")
        scheme, _, netloc = text.partition("://")
        if text in self._origins:
            return True
        if netloc == host.decode("latin-1").lower():
            headers = Headers(scope=scope)
            forwarded = _forwarded(headers)["proto"] or headers.get("x-forwarded-proto", "")
            schemes = (_HTTP.get(scope["scheme"], scope["scheme"]), forwarded.strip().lower())
            if scheme in schemes:
                return True
        self._refuse("origin", text, _ORIGIN_FIX)
        return False

    def _host_allowed(self, raw: bytes) -> bool:
        host = raw.decode("latin-1").lower()
        name = _hostname(host)
        local = name == "localhost" or name.endswith(".localhost") or _is_ip(name)
        allowed = local or self._named(name)
        if len(self._known_hosts) < MAX_REFUSED:  # bounded: a client can send any Host
            self._known_hosts[raw] = allowed
        if not allowed:
            self._refuse("host", host, _host_fix(name))
        return allowed

    def _refuse(self, what: str, value: str, fix: str) -> None:
        self._refuse_once(_refusal(what, value, fix))

    def _refuse_once(self, refusal: str) -> None:
        """One WARNING per refusal, for the first ``MAX_REFUSED`` of them; then one more."""
        if refusal in self._refused:
            return
        if len(self._refused) < MAX_REFUSED:
            self._refused.add(refusal)
            logger.warning("%s", refusal)
        elif not self._told_more:
            self._told_more = True
            logger.warning(
                "hot reload refused more than %d different hosts and origins; "
                "not logging further ones",
                MAX_REFUSED,
            )


#: A websocket's scheme, as the origin of the page that opened it spells it.
_HTTP = {"ws": "http", "wss": "https"}
_ORIGIN_FIX = "add it to allowed_origins if that page is yours"


def _host_fix(name: str) -> str:
    if not name:
        return "it is no host name, which no browser sends"
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
    """A host name as ``allowed_hosts`` takes it, lower-cased; a URL, a port or a pattern
    that names no host (``"*."``, ``"."``) is an error: only ``"*"`` itself means any host."""
    if host.strip() == "*":
        return "*"
    name = host.strip().lower().rstrip(".")
    name = name[1:] if name.startswith("*.") else name  # as Starlette's TrustedHostMiddleware
    if not name.strip(".") or any(char in name for char in "/:@?#[]* "):
        raise ValueError(
            f"allowed_hosts: expected a host name like 'dev.example.test' or "
            f"'.example.test' (no scheme, no port), or '*' for any host, got {host!r}"
        )
    return name


def _checked_origin(origin: str) -> str:
    """An origin as ``allowed_origins`` takes it: ``scheme://host[:port]``, lower-cased."""
    text = origin.strip().lower().rstrip("/")
    if text == "null":
        raise ValueError(
            "allowed_origins: 'null' is the origin of every sandboxed iframe and local file, "
            "of any site: it cannot name your pages; give their origin, such as "
            "'https://dev.example:8443'"
        )
    scheme, separator, netloc = text.partition("://")
    if (
        scheme not in ("http", "https")
        or not separator
        or not netloc
        or any(char in netloc for char in "/?#@ *")
    ):
        raise ValueError(
            f"allowed_origins: expected an origin like 'https://dev.example:8443' (http or "
            f"https, a host, maybe a port, no path), got {origin!r}"
        )
    return text


#: A ``Host`` header (lower case): a name or an IP address, bracketed for IPv6, and a port.
_HOST = re.compile(r"\[([0-9a-f:.]+)\](?::\d*)?|([a-z0-9_.-]*)(?::\d*)?")


def _hostname(host: str) -> str:
    """The name in a ``Host`` header: without the port, brackets or a final dot; ``""`` when
    it is no host (``localhost:80@evil.example``, ``::1``), which names nothing."""
    found = _HOST.fullmatch(host)
    if found is None:
        return ""
    return found[1] or found[2].rstrip(".")


def _forwarded(headers: Headers) -> dict[str, str]:
    """The first hop's ``host`` and ``proto`` of a ``Forwarded`` header (RFC 7239)."""
    found = {"host": "", "proto": ""}
    first = headers.get("forwarded", "").split(",")[0]
    for pair in first.split(";"):
        key, _, value = pair.partition("=")
        if key.strip().lower() in found:
            found[key.strip().lower()] = value.strip().strip('"')
    return found


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
