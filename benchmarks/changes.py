"""Issue 16's rows: save→message by template size, the first GET after a save against a warm
one, and request latency while a 10k-file batch is judged. ``python -m benchmarks.changes``.

Each template size is measured on a real ``uvicorn --reload`` server: one websocket client,
single-write saves (in place), the clock started just before the write. "compile" is Jinja's own
compile time for that template, measured in this process: the target is save→message ≤ one
compile + 10 ms, and a first GET after a save as cheap as a warm one (nothing compiled twice).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import jinja2

from tests.support.apps import write_app
from tests.support.server import Server

from ._messages import open_socket
from ._server import reloading
from ._stats import percentile

APP = """
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from fastapi_hot_reload import HotReload

templates = Jinja2Templates(directory="templates")
app = FastAPI()
app.add_middleware(HotReload, templates=templates, watch=["static"])


@app.get("/t/{name}", response_class=HTMLResponse)
async def page(request: Request, name: str) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"user": "ada", "items": range(3)})


@app.get("/pid")
async def pid() -> str:
    return "ok"
"""
#: A realistic line: markup, a variable and an if/else (issue 16: ~0.6 ms of compile each).
LINE = (
    '<li class="row">{n}: {{{{ user }}}} {{% if user %}}<b>signed in</b>{{% else %}}'
    "<i>guest</i>{{% endif %}} some ordinary text on the page</li>\n"
)


WRITER = """
import sys
from pathlib import Path

folder, count = Path(sys.argv[1]), int(sys.argv[2])
for n in range(count):
    (folder / f"f{n:05d}.js").write_text(f"// {n}\\n")
"""


def template(lines: int, marker: str = "0") -> str:
    body = "".join(LINE.format(n=n) for n in range(lines))
    return f"<!doctype html><html><body><h1>{marker}</h1><ul>\n{body}</ul></body></html>\n"


SIZES = {"tiny": 1, "8 KB": 60, "33 KB": 250}


def compile_ms(text: str, rounds: int = 5) -> float:
    env = jinja2.Environment()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        env.compile(text)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


async def timed_get(client: httpx.AsyncClient, path: str) -> float:
    started = time.perf_counter()
    response = await client.get(path)
    response.raise_for_status()
    return (time.perf_counter() - started) * 1000


async def size_rows(server: Server, site: Path, saves: int) -> list[str]:
    rows = []
    socket = await open_socket(server.ws_url)
    await socket.recv()
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        for label, lines in SIZES.items():
            name = f"{label.replace(' ', '')}.html"
            path = site / "templates" / name
            await timed_get(client, f"/t/{name}")
            messages, firsts, warms, others = [], [], [], []
            for n in range(1, saves + 1):
                text = template(lines, f"save {n}")
                with path.open("r+") as file:
                    started = time.perf_counter()
                    file.write(text)
                    file.truncate()
                json.loads(await socket.recv())
                messages.append((time.perf_counter() - started) * 1000)
                firsts.append(await timed_get(client, f"/t/{name}"))
                warms.append(await timed_get(client, f"/t/{name}"))
                (site / "templates" / "other.html").write_text(f"other {label} {n}")
                await socket.recv()
                others.append(await timed_get(client, f"/t/{name}"))
            compiled = compile_ms(template(lines))
            rows.append(
                f"| {label} | {compiled:.1f} | {statistics.median(messages):.1f} "
                f"(p90 {percentile(messages, 90):.1f}) | {statistics.median(warms):.1f} | "
                f"{statistics.median(firsts):.1f} | {statistics.median(others):.1f} |"
            )
    await socket.close()
    return rows


async def chunked_rows(server: Server, site: Path, saves: int) -> list[str]:
    """The 33 KB template saved in place in 3 chunks, ``gap`` ms apart, as editors write big
    files: messages per save (1 is right), errors shown, last chunk→message."""
    socket = await open_socket(server.ws_url)
    await socket.recv()
    path = site / "templates" / "33KB.html"
    rows = []
    for gap in (1, 5, 10, 50):
        latencies, extra, errors = [], 0, 0
        for n in range(saves):
            data = template(SIZES["33 KB"], f"chunked {gap} {n}").encode()
            third = -(-len(data) // 3)
            with path.open("wb") as file:
                for start in range(0, len(data), third):
                    if start:
                        await asyncio.sleep(gap / 1000)
                    file.write(data[start : start + third])
                    file.flush()
                    last = time.perf_counter()
            message = json.loads(await socket.recv())
            latencies.append((time.perf_counter() - last) * 1000)
            errors += message["type"] == "error"
            with contextlib.suppress(TimeoutError):
                while True:  # anything more within half a second is one update too many
                    more = json.loads(await asyncio.wait_for(socket.recv(), 0.5))
                    extra += 1
                    errors += more["type"] == "error"
        rows.append(
            f"| 33 KB in 3 chunks, {gap} ms apart | {saves} saves | messages beyond one: "
            f"{extra} | errors: {errors} | last chunk→message p50 "
            f"{statistics.median(latencies):.1f} |"
        )
    await socket.close()
    return rows


async def batch_row(server: Server, site: Path, files: int) -> str:
    """GET latency while ``files`` new files are written and judged; one probe at a time."""
    socket = await open_socket(server.ws_url)
    await socket.recv()
    latencies: list[float] = []
    done = asyncio.Event()

    async def probe() -> None:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            while not done.is_set():
                latencies.append(await timed_get(client, "/t/8KB.html"))

    async def told() -> int:
        named = 0
        while named < files:
            message = json.loads(await socket.recv())
            named += len(message["paths"]) + message.get("more", 0)
        return named

    prober = asyncio.create_task(probe())
    await asyncio.sleep(0.5)  # a few quiet GETs first
    started = time.perf_counter()
    waiting = asyncio.create_task(told())
    writer = await asyncio.create_subprocess_exec(  # its own process: the probe never waits on it
        sys.executable, "-c", WRITER, str(site / "static"), str(files)
    )
    await writer.wait()
    await waiting
    seconds = time.perf_counter() - started
    done.set()
    await prober
    await socket.close()
    return (
        f"| GET during a {files}-file batch (write + judge: {seconds:.1f} s) | "
        f"{len(latencies)} GETs | p50 {percentile(latencies, 50):.1f} | "
        f"p99 {percentile(latencies, 99):.1f} | max {max(latencies):.1f} |"
    )


async def measure(saves: int, files: int) -> str:
    """Every row, on one server."""
    with tempfile.TemporaryDirectory(prefix="hot-reload-changes-") as folder:
        sized = {f"templates/{k.replace(' ', '')}.html": template(n) for k, n in SIZES.items()}
        site = write_app(Path(folder), app=APP, files={**sized, "templates/other.html": "other"})
        server = reloading(site)
        try:
            await asyncio.sleep(0.5)  # the startup snapshot of file fingerprints
            sizes = await size_rows(server, site, saves) if saves else []
            chunked = await chunked_rows(server, site, saves) if saves else []
            batch = await batch_row(server, site, files)
        finally:
            server.stop()
    head = (
        "| template | compile | save→message p50 | warm GET | first GET after the save | "
        "GET after saving another |\n| --- | ---: | ---: | ---: | ---: | ---: |"
    )
    rest = ["", "| | | | | |", "| --- | --- | --- | --- | --- |", *chunked, batch]
    return "\n".join([head, *sizes, *rest])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.changes", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a small run")
    parser.add_argument("--saves", type=int, help="saves per template size (0: none)")
    parser.add_argument("--files", type=int, help="files in the batch")
    args = parser.parse_args(argv)
    saves, files = (3, 1000) if args.quick else (20, 10_000)
    saves = saves if args.saves is None else args.saves
    files = files if args.files is None else args.files
    print(f"ms; {saves} saves per size\n" + asyncio.run(measure(saves, files)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
