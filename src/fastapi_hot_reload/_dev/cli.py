"""``fastapi-hot-reload dev app:app``: the command line of the pre-warmed development server."""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import sys
from pathlib import Path
from typing import Any

KINDS = ("dirs", "includes", "excludes")  # --reload-dir, --reload-include, --reload-exclude
NEEDS_UVICORN = (
    "fastapi-hot-reload dev serves with uvicorn, which is not installed here: "
    "pip install 'fastapi-hot-reload[dev]'"
)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="fastapi-hot-reload",
        description="A development server: `uvicorn --reload`, with a pre-warmed worker.",
    )
    commands = top.add_subparsers(dest="command", required=True)
    dev = commands.add_parser(
        "dev",
        help="serve APP and reload it on .py saves, like `uvicorn APP --reload`",
        description="Serve APP with uvicorn; on each .py save, a standby process that has "
        "already imported the app's packages forks a fresh worker.",
    )
    dev.add_argument("app", metavar="APP", help="the ASGI app, as module:attribute")
    dev.add_argument("--host", default="127.0.0.1", help="bind to this host (127.0.0.1)")
    dev.add_argument("--port", type=int, default=8000, help="bind to this port (8000; 0: any)")
    for name, what in zip(KINDS, ("folder to watch", "glob", "glob"), strict=True):
        dev.add_argument(
            f"--reload-{name[:-1]}",
            action="append",
            default=[],
            dest=f"reload_{name}",
            help=f"a {what}, as uvicorn's (repeat for more)",
        )
    dev.add_argument("--app-dir", default="", help="look for APP's module in this folder")
    dev.add_argument("--factory", action="store_true", help="APP is a function making the app")
    dev.add_argument("--root-path", default="", help="the ASGI root_path, behind a proxy")
    dev.add_argument("--env-file", help="environment file, read by each standby")
    dev.add_argument(
        "--log-level", choices=["critical", "error", "warning", "info", "debug", "trace"]
    )
    dev.add_argument(
        "--no-access-log", action="store_false", dest="access_log", help="no line per request"
    )
    dev.add_argument(
        "--no-fork",
        action="store_false",
        dest="fork",
        help="start a fresh process per reload, as uvicorn does (still warmed in advance)",
    )
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.env_file is not None and not Path(args.env_file).is_file():
        parser().error(f"--env-file {args.env_file!r}: no such file")
    if importlib.util.find_spec("uvicorn") is None:
        print(NEEDS_UVICORN, file=sys.stderr)
        return 2
    del args.command
    if not hasattr(os, "fork"):
        return plain_restart(vars(args))
    from .supervisor import Options, Supervisor

    return Supervisor(Options(**vars(args))).run()


def plain_restart(options: dict[str, Any]) -> int:
    """No fork here (Windows): uvicorn's own reloader, a fresh process per change."""
    import uvicorn

    logging.getLogger("fastapi_hot_reload").warning(
        "No fork on this platform: each reload starts a fresh process (uvicorn --reload)."
    )
    del options["fork"]
    for kind in KINDS:  # uvicorn's default for each is None, not []
        options[f"reload_{kind}"] = options[f"reload_{kind}"] or None
    uvicorn.run(options.pop("app"), reload=True, **options)
    return 0
