"""The client's ``<script>`` tag, as this request's page gets it."""

from __future__ import annotations

import html

from starlette.types import Scope

from .client_files import ENTRY
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
            src = html.escape(f"{root}{options.client_path}{ENTRY}")
            extra = " data-events" if self.events_only else ""
            extra += f' data-method="{html.escape(method)}"' if method else ""
            extra += "" if options.morph else ' data-morph="false"'
            extra += "" if options.status else ' data-status="off"'
            start = (
                f'<script type="module" src="{src}" data-hot-reload data-boot="{boot}" '
                f'data-rev="{rev}"{extra}'
            )
            self._key, self._made = key, (start, start.encode())
        start, encoded = self._made
        if page:  # one page's own id: made for this request alone
            start += f' data-page="{page}"'
            encoded += b' data-page="%s"' % page.encode()
        return start + "></script>", encoded
