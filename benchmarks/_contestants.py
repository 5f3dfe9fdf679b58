"""The three ways to reload a browser tab that the benchmark compares."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Contestant:
    key: str
    title: str
    app_file: str
    script_file: str | None  # what its page template adds before </body>
    ws_path: str
    signal: str  # "json": {"type": "reload" or "page"}; "text": "reload"; "close": it closes
    ready_console: str  # what a tab logs to the console once its socket is up
    uvicorn_args: tuple[str, ...] = ()
    settle: float = 0.05  # seconds of quiet after each save, so saves never share a batch
    module: str | None = None  # must be importable, or the contestant is n/a

    @property
    def restarts_on_save(self) -> bool:
        return self.signal == "close"

    def missing(self) -> str | None:
        """Why this contestant cannot run here, or ``None``."""
        if self.module and importlib.util.find_spec(self.module) is None:
            return f"{self.module} is not installed (pip install -e '.[bench]')"
        return None

    def is_reload(self, message: str | bytes) -> bool:
        if self.signal == "text":
            return message == "reload"
        if self.signal == "json":
            return json.loads(message).get("type") in ("reload", "page")
        return False


OURS = Contestant(
    key="ours",
    title="fastapi-hot-reload",
    app_file="ours.py",
    script_file=None,
    ws_path="/__hot_reload__/ws",
    signal="json",
    ready_console="[bench] connected",
)
AREL = Contestant(
    key="arel",
    title="arel",
    app_file="arel_app.py",
    script_file="arel.script.html",
    ws_path="/hot-reload",
    signal="text",
    ready_console="[arel] Connected.",
    settle=0.15,  # watchfiles' default 50 ms step: a second batch can follow 50-100 ms later
    module="arel",
)
DIY = Contestant(
    key="diy",
    title="DIY --reload",
    app_file="diy.py",
    script_file="diy.script.html",
    ws_path="/dev/reload",
    signal="close",
    ready_console="[diy] connected",
    uvicorn_args=("--reload-include", "*.html"),
    settle=0.1,  # uvicorn's reloader pauses 0.25 s after a restart, mostly spent starting up
)
ALL = (OURS, AREL, DIY)
