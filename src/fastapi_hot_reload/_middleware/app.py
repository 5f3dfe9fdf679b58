"""The ASGI middleware: options -> lifespan -> dispatch; the pieces do the work."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

from .. import _protocol as wire
from .config import inside_a_server
from .hub import Hub
from .lifespan import Running, fail, lifespan
from .logs import Consoles
from .options import Templates, checked
from .pages import Pages
from .routes import Routes
from .tag import Tag


class HotReload:
    """Update every open tab when a template or a watched file changes, without a restart.

    ``templates``: a ``Jinja2Templates``, a ``jinja2.Environment``, or a list of them; the
    folders their loaders read are watched and their caches cleared on a change.
    ``watch``: more folders to watch (static files, content).
    ``path``: where the websocket (``{path}/ws``) and the client (``{path}/client/``) live.
    ``enabled``: ``None`` reads ``FASTAPI_HOT_RELOAD`` (``1/true/yes/on``, ``0/false/no/off``),
    and when that is unset too, is on unless the server looks like production (several
    workers, ``fastapi run``, gunicorn, a public bind without ``--reload``); off, the middleware
    passes everything through untouched.
    ``force_polling``: poll the disk instead of waiting for events (Docker/WSL bind mounts);
    ``None`` lets watchfiles read ``WATCHFILES_FORCE_POLLING``.
    ``allowed_hosts``: host names besides ``localhost``, ``*.localhost`` and IP addresses that
    may see hot reload (``"dev.example.test"``, ``".example.test"`` for subdomains too, ``"*"``).
    ``allowed_origins``: origins (``"https://dev.example:8443"``) whose pages may connect besides
    the server's own host, for proxies that rewrite the ``Host`` header.
    ``morph``: on a template save or a restart, fetch the page again and morph it in place,
    keeping scroll, focus and typed input (``True``); ``False`` reloads the page instead.
    ``editor``: link files and lines on error pages and overlays to an editor: a preset
    (``"vscode"``, ``"cursor"``, ``"pycharm"``, ...) or a URL template with ``{file}`` and
    ``{line}``; ``None`` reads ``FASTAPI_HOT_RELOAD_EDITOR`` (unset: no links).
    ``browser_logs``: records logged while serving a tab's requests, from this level up, also go
    to that tab's browser console; ``False`` turns it off.
    ``status``: show a small status element while the page is out of date (restarting, server
    not answering, cannot connect); ``False`` leaves the page alone.

    Bad options raise ``TypeError``/``ValueError`` here; inside a running server (which builds
    ``add_middleware`` middleware lazily) they fail the lifespan startup with the same message.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        templates: Templates | Sequence[Templates] | None = None,
        watch: Iterable[str | os.PathLike[str]] = (),
        path: str = wire.PREFIX,
        enabled: bool | None = None,
        force_polling: bool | None = None,
        allowed_hosts: Iterable[str] = (),
        allowed_origins: Iterable[str] = (),
        morph: bool = True,
        editor: str | None = None,
        browser_logs: str | int | bool = "WARNING",
        status: bool = True,
    ) -> None:
        self.app = app
        #: A configuration error found while the server imports the app or builds its
        #: middleware: reported when the lifespan starts (raised at once everywhere else).
        self._failure: Exception | None = None
        try:
            options = checked(
                templates=templates,
                watch=watch,
                path=path,
                enabled=enabled,
                force_polling=force_polling,
                allowed_hosts=allowed_hosts,
                allowed_origins=allowed_origins,
                morph=morph,
                editor=editor,
                browser_logs=browser_logs,
                status=status,
            )
        except (TypeError, ValueError) as exc:
            if not inside_a_server():
                raise
            self.enabled, self._failure = True, exc
            return
        self.enabled = options.enabled
        if not self.enabled:
            return
        self._options = options
        hub = Hub()
        self._running = running = Running(options, hub)
        level = options.browser_level
        consoles = Consoles(hub, level) if level is not None else None
        self._tag = tag = Tag(options, running)
        pages = Pages(app, options, running, tag, consoles)
        self._routes = Routes(app, options, running, hub, tag, pages, consoles)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if not self.enabled or kind not in ("http", "websocket", "lifespan"):
            await self.app(scope, receive, send)
        elif (failure := self._failure) is not None:
            await fail(failure, scope, receive, send)
        elif kind == "lifespan":
            await lifespan(self.app, self._running, scope, receive, send)
        elif self._options.trust.allows(scope):
            await self._routes(scope, receive, send)
        else:  # not for us to show: untouched, or refused
            await self._routes.refused(scope, receive, send)
