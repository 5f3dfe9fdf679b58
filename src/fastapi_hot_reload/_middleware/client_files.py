"""The browser client's files (native ES modules, no build step), served from the package."""

from __future__ import annotations

import hashlib
from importlib.resources import files

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse, Response
from starlette.types import Scope

#: The entry module; it imports its siblings by relative URL.


def _with_etag(body: bytes) -> tuple[bytes, str]:
    return body, f'"{hashlib.sha1(body).hexdigest()[:16]}"'


#: Each module's bytes and ETag, read once at import.
MODULES = {
    item.name: _with_etag(item.read_bytes())
    for item in files("fastapi_hot_reload").joinpath("client").iterdir()
    if item.name.endswith(".js")
}


def client_response(scope: Scope, name: str) -> Response:
    """One client module: revalidated on every load (``no-cache``), a 304 when unchanged."""
    if name not in MODULES:
        return PlainTextResponse("Not Found", 404)
    if scope["method"] not in ("GET", "HEAD"):
        return PlainTextResponse("Method Not Allowed", 405, headers={"allow": "GET, HEAD"})
    body, etag = MODULES[name]
    headers = {"cache-control": "no-cache", "etag": etag}
    if Headers(scope=scope).get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    headers["content-length"] = str(len(body))
    return Response(
        b"" if scope["method"] == "HEAD" else body, media_type="text/javascript", headers=headers
    )
