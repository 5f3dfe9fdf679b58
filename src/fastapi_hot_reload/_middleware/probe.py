"""The answer to a tab whose websocket cannot connect and asks why, over plain HTTP."""

from __future__ import annotations

from starlette.responses import PlainTextResponse, Response

#: Said to a tab the server would accept: its websocket and event stream must be lost on the way.
NOT_THROUGH = (
    "the server answers, but neither its websocket nor its event stream gets through (a proxy "
    "that does not forward them?)"
)


def probe_response(refusal: str | None) -> Response:
    """``403`` with the reason the tab is refused, or ``426``: it would be accepted."""
    if refusal is not None:
        return PlainTextResponse(refusal, 403, headers={"cache-control": "no-store"})
    headers = {"cache-control": "no-store", "upgrade": "websocket"}
    return PlainTextResponse(NOT_THROUGH, 426, headers=headers)
