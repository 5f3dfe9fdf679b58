"""Contestant: the tutorial recipe. `uvicorn --reload --reload-include '*.html'` restarts the
server on every save; its shutdown closes this websocket; the page reloads once it reconnects."""

from __future__ import annotations

import os

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

VERSION = "start"  # the harness rewrites this line to time a .py save

templates = Jinja2Templates(directory="templates")
templates.env.globals["DEBUG"] = os.environ.get("BENCH_HOT_RELOAD", "1") != "0"
app = FastAPI()


@app.websocket("/dev/reload")
async def reload_socket(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:  # waits on receive, so uvicorn's shutdown (1012) ends it
            await websocket.receive_text()
    except WebSocketDisconnect:
        pass


@app.get("/", response_class=HTMLResponse)
async def index(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "index.html", {"version": VERSION})
