"""An app on disk: the one writer every test and benchmark uses for the files a server serves."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path

#: The test app: a base template, pages that extend it, a static folder, and its process id.
APP = """
import os
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from fastapi_hot_reload import HotReload

templates = Jinja2Templates(directory="templates")
app = FastAPI()
app.add_middleware(HotReload, templates=templates, watch=["static"])
app.mount("/static", StaticFiles(directory="static"), name="static")


@app.get("/", response_class=HTMLResponse)
async def index(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "index.html", {"pid": os.getpid()})


@app.get("/{name}.html", response_class=HTMLResponse)
async def page(request: Request, name: str) -> HTMLResponse:
    return templates.TemplateResponse(request, name + ".html", {"pid": os.getpid()})


@app.get("/pid")
async def pid() -> int:
    return os.getpid()
"""

BASE = """<!doctype html>
<html><head><title>test</title><link rel="stylesheet" href="/static/style.css"></head>
<body>{% block content %}{% endblock %}</body></html>
"""


def write_app(
    folder: Path,
    body: str = '<h1 id="title">first</h1>',
    *,
    app: str = APP,
    routes: str = "",
    files: Mapping[str, str] = {},
) -> Path:
    """``app.py`` (``app`` and then ``routes``), ``templates/base.html``, an ``index.html`` that
    extends it with ``body``, ``static/style.css``, and then ``files`` (paths relative to
    ``folder``, written last: they may replace any of these)."""
    (folder / "templates").mkdir(parents=True, exist_ok=True)
    (folder / "static").mkdir(exist_ok=True)
    (folder / "app.py").write_text(textwrap.dedent(app) + routes)
    (folder / "templates" / "base.html").write_text(BASE)
    page(folder, body)
    (folder / "static" / "style.css").write_text("h1 { color: rgb(0, 0, 255); }\n")
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def page(folder: Path, body: str) -> Path:
    """Write ``templates/index.html`` with ``body`` as its content block."""
    path = folder / "templates" / "index.html"
    text = '{% extends "base.html" %}{% block content %}' + body + "{% endblock %}\n"
    path.write_text(text)
    return path
