"""FastAPI + Jinja2 + htmx with hot reload: a live search and an editable table of fragments."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2_fragments.fastapi import Jinja2Blocks

from fastapi_hot_reload import HotReload

HERE = Path(__file__).parent
if not (HERE / "static" / "htmx.min.js").is_file():
    raise RuntimeError(f"htmx is missing: run `npm install --prefix {HERE}` first")

templates = Jinja2Blocks(directory=HERE / "templates")
app = FastAPI()
app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
app.add_middleware(HotReload, templates=templates, watch=[HERE / "static"])

ITEMS = {1: ("Apple", 3), 2: ("Banana", 1), 3: ("Cherry", 12), 4: ("Damson", 7)}


def matching(query: str) -> list[tuple[int, str, int]]:
    return [(id_, n, p) for id_, (n, p) in ITEMS.items() if query.lower() in n.lower()]


@app.get("/", response_class=HTMLResponse)
async def index(request: Request, q: str = "") -> Response:
    return templates.TemplateResponse(request, "index.html", {"q": q, "items": matching(q)})


@app.get("/search", response_class=HTMLResponse)
async def search(request: Request, q: str = "") -> Response:
    """Only the ``results`` block of the page, rendered by jinja2-fragments."""
    context = {"q": q, "items": matching(q)}
    return templates.TemplateResponse(request, "index.html", context, block_name="results")


@app.get("/count", response_class=HTMLResponse)
async def count() -> str:
    return str(len(ITEMS))


@app.get("/items/{id_}", response_class=HTMLResponse)
async def row(request: Request, id_: int, edit: bool = False) -> Response:
    name, price = ITEMS[id_]
    context = {"item": (id_, name, price)}
    return templates.TemplateResponse(request, "edit.html" if edit else "row.html", context)


@app.put("/items/{id_}", response_class=HTMLResponse)
async def save(request: Request, id_: int) -> Response:
    form = parse_qs((await request.body()).decode())
    ITEMS[id_] = (form["name"][0], int(form["price"][0]))
    return await row(request, id_)


@app.delete("/items/{id_}")
async def delete(id_: int) -> Response:
    """An empty body: htmx removes the row it swaps it into."""
    ITEMS.pop(id_, None)
    return HTMLResponse("", headers={"HX-Trigger": "items-changed"})


@app.get("/about", response_class=HTMLResponse)
async def about(request: Request) -> Response:
    return templates.TemplateResponse(request, "about.html")
