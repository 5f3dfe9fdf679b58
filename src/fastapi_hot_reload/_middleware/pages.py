"""The app's own HTTP responses: with the client tag, or the error page when the app raises."""

from __future__ import annotations

import logging

from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import _protocol as wire
from .config import log_where_uvicorn_logs
from .csp import Csp
from .errors import error_page
from .fragments import fragment_request
from .inject import Injector
from .jinja import SCOPE_KEY
from .lifespan import Running
from .logs import Consoles
from .options import Options
from .tag import Tag
from .tracking import Rendered
from .trust import accepts_html

logger = logging.getLogger("fastapi_hot_reload")


class Pages:
    """The app's responses, each HTML page with the client tag; the error page when it raises."""

    def __init__(
        self,
        app: ASGIApp,
        options: Options,
        running: Running,
        tag: Tag,
        consoles: Consoles | None,
    ) -> None:
        self._app, self._options, self._running = app, options, running
        self._tag, self._consoles = tag, consoles
        self._csp = Csp()
        self._told_not_watching = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._running.watching and not self._told_not_watching:
            self._told_not_watching = True
            log_where_uvicorn_logs()
            logger.warning(
                "hot reload got a request before the app's lifespan started, so nothing is "
                "watched: wrap the outermost app (a mounted app gets no lifespan) and run the "
                "server with its lifespan on"
            )
        if self._consoles is None:
            await self._respond(scope, receive, send)
            return
        with self._consoles.capture(scope) as page:
            await self._respond(scope, receive, send, page)

    async def _respond(self, scope: Scope, receive: Receive, send: Send, page: str = "") -> None:
        tag, tag_start = self._tag(scope, page)
        scope[SCOPE_KEY] = tag
        rendered = Rendered(tag_start, self._running.tracked.sets)
        injector = Injector(
            send,
            rendered.tag,
            head=scope["method"] == "HEAD",
            csp=self._csp,
            fragment=fragment_request(scope),
            timing=rendered.timing,
        )
        try:
            with rendered:  # the templates the app loads now are this response's
                await self._app(scope, receive, injector)
            await injector.finish()
        except Exception as exc:
            if not injector.started and accepts_html(scope):
                options = self._options
                body = error_page(exc, options.template_folders, tag, options.editor)
                # The header lets the client morph into this page and back, like any page.
                headers = {wire.HEADER_RESPONSE: wire.ERROR_PAGE}
                await HTMLResponse(body, status_code=500, headers=headers)(scope, receive, send)
            else:  # an API client: the app's own error response, if it sent one
                await injector.finish()
            raise  # the server logs the traceback, as it would without us
