"""The client's ``<script>`` tag, as this request's page gets it."""

from __future__ import annotations

import html

from starlette.types import Scope

from .. import _protocol as wire
from .lifespan import Running
from .options import Options


class Tag:
    """The tag for a request: its ``root_path``, the process's ``boot`` and ``rev``, the method,
    the options the client reads, and the page's id. Its start is made once per rev."""

    def __init__(self, options: Options, running: Running) -> None:
        self._options, self._running = options, running
        #: A browser's websocket request came as plain HTTP: pages start on Server-Sent Events.
        self.events_only = False
        self._key: tuple[str, str, int, str, bool] = ("", "", -1, "", False)
        self._made = ("", b"")  # the tag's start for ``_key``, as text and as bytes

    def __call__(self, scope: Scope, page: str = "") -> tuple[str, bytes]:
        """The whole tag, and its start (without ``></script>``), which a rendered page
        completes with its templates.

        A page that answers a POST (any method but GET/HEAD) says so: the client never fetches
        or reloads it, which would send the form again.
        """
        root = scope.get("root_path", "")
        method = "" if scope["method"] in ("GET", "HEAD") else scope["method"]
        boot, rev = self._running.boot, self._running.changes.rev
        key = (root, boot, rev, method, self.events_only)
        if key != self._key:
            options = self._options
            start = wire.tag_start(
                html.escape(f"{root}{options.client_path}{wire.ENTRY}"),
                boot,
                rev,
                events=self.events_only,
                method=html.escape(method),
                morph=options.morph,
                status=options.status,
            )
            self._key, self._made = key, (start, start.encode())
        start, encoded = self._made
        if page:  # one page's own id: made for this request alone
            attribute = wire.page_attribute(page)
            start, encoded = start + attribute, encoded + attribute.encode()
        return start + "></script>", encoded
