"""Contestant: arel, wired as its README shows (route, lifespan hooks, script in the template)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

VERSION = "start"  # the harness rewrites this line to time a .py save

templates = Jinja2Templates(directory="templates")
ON = os.environ.get("BENCH_HOT_RELOAD", "1") != "0"  # "0": the same app without arel
templates.env.globals["DEBUG"] = ON

if ON:
    import arel
    from starlette.routing import WebSocketRoute

    hotreload = arel.HotReload(paths=[arel.Path("templates")])
    templates.env.globals["hotreload"] = hotreload

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await hotreload.startup()
        try:
            yield
        finally:
            await hotreload.shutdown()

    app = FastAPI(lifespan=lifespan)
    app.router.routes.append(WebSocketRoute("/hot-reload", hotreload, name="hot-reload"))
else:
    app = FastAPI()


@app.get("/", response_class=HTMLResponse)
async def index(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "index.html", {"version": VERSION})
