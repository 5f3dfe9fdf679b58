"""Contestant: fastapi-hot-reload, wired as its README shows (one line)."""

from __future__ import annotations

import os

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

VERSION = "start"  # the harness rewrites this line to time a .py save

templates = Jinja2Templates(directory="templates")
app = FastAPI()
if os.environ.get("BENCH_HOT_RELOAD", "1") != "0":  # "0": the same app without the library
    from fastapi_hot_reload import HotReload

    # BENCH_MORPH=0: the full reload of version 1, for the morph-vs-reload rows
    app.add_middleware(
        HotReload, templates=templates, morph=os.environ.get("BENCH_MORPH", "1") != "0"
    )


@app.get("/", response_class=HTMLResponse)
async def index(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "index.html", {"version": VERSION})
