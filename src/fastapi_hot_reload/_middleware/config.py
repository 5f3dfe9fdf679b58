"""Configuration read strictly: the on/off switch, the URL path, and production-looking servers."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from .. import _protocol as wire

logger = logging.getLogger("fastapi_hot_reload")

ENV_VAR = "FASTAPI_HOT_RELOAD"
_ON = ("1", "true", "yes", "on")
_OFF = ("0", "false", "no", "off")
#: One or more segments of letters, digits and ``-._~``, none of them ``.`` or ``..``.
_PLAIN_PATH = re.compile(r"(?:/(?!\.{1,2}(?:/|$))[A-Za-z0-9._~-]+)+")


def switch(enabled: bool | None, environ: Mapping[str, str] = os.environ) -> bool | None:
    """``enabled``, or else what ``FASTAPI_HOT_RELOAD`` says; ``None`` when neither says."""
    if enabled is not None:
        return enabled
    raw = environ.get(ENV_VAR, "")
    value = raw.strip().lower()
    if not value:
        return None
    if value in _ON or value in _OFF:
        return value in _ON
    raise ValueError(
        f"{ENV_VAR}={raw!r}: expected {', '.join(_ON)} (on) or {', '.join(_OFF)} (off), "
        "in any case, or empty for the default"
    )


def checked_path(path: object) -> str:
    """``path`` if it is a plain absolute URL path, such as ``/__hot_reload__``."""
    if not isinstance(path, str) or not _PLAIN_PATH.fullmatch(path):
        raise ValueError(
            f"path: expected a plain absolute URL path like {wire.PREFIX!r} (letters, digits "
            f"and -._~ between single slashes, no slash at the end), got {path!r}"
        )
    return path


def decide(enabled: bool | None) -> tuple[bool, str | None]:
    """Whether hot reload is on, and the warning to log about that, if any.

    Left to its default, it stays off where the server looks like production; turned on there
    by hand, it says so loudly.
    """
    chosen, signs = switch(enabled), production_signs()
    looks = f"this looks like a production server ({', '.join(signs)})"
    if chosen is None and signs:
        return False, f"hot reload is off: {looks}; set {ENV_VAR}=1 or enabled=True to turn it on"
    if chosen and signs:
        return True, (
            f"HOT RELOAD IS ON, but {looks}: anyone reaching it by a trusted host name sees "
            f"source lines and tracebacks; set {ENV_VAR}=0 or enabled=False to turn it off"
        )
    return chosen is not False, None


def inside_a_server() -> bool:
    """Whether an event loop runs: the server is importing the app or building its middleware.

    An exception raised there is lost in uvicorn's "lifespan unsupported" or a long traceback;
    the middleware keeps it and fails the lifespan startup with it instead.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def production_signs(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] = os.environ
) -> list[str]:
    """What makes this process look like a production server, in words (none: development).

    Read from the command line, which the workers uvicorn spawns (``--reload``, ``--workers``)
    inherit: several workers, a production command (``fastapi run``, gunicorn), or a bind to
    other machines without a reloader. A plain ``uvicorn app:app`` is development: it serves
    this machine only, and template changes need no reloader.
    """
    argv = sys.argv if argv is None else argv
    args = list(argv[1:])
    command = _command(argv)
    signs = []
    workers = _option(args, "--workers", "-w") or environ.get("WEB_CONCURRENCY", "1")
    if workers.isdigit() and int(workers) > 1:
        signs.append(f"{workers} workers")
    if command == "gunicorn" and "--reload" not in args:
        signs.append("run by gunicorn")
    if command == "fastapi" and args[:1] == ["run"]:
        signs.append("started with `fastapi run`")
    dev = command == "fastapi" and args[:1] == ["dev"] and "--no-reload" not in args
    reloader = "--reload" in args or dev
    host = _option(args, "--host", "--bind", "-b")
    if host and not reloader and not _loopback(host):
        signs.append(f"bound to {host} without --reload")
    return signs


def _command(argv: Sequence[str]) -> str:
    """``uvicorn`` for ``.../bin/uvicorn`` and for ``python -m uvicorn``."""
    path = Path(argv[0]) if argv else Path()
    return path.parent.name if path.name == "__main__.py" else path.stem


def _option(args: list[str], *names: str) -> str:
    """The value of the last of ``--name value`` / ``--name=value`` on the command line."""
    found = ""
    for at, arg in enumerate(args):
        name, equals, value = arg.partition("=")
        if name in names:
            found = value if equals else (args[at + 1] if at + 1 < len(args) else "")
    return found


def _loopback(host: str) -> bool:
    """``127.0.0.1``, ``[::1]:8000``, ``localhost``; a socket path (``unix:...``) too."""
    if host.startswith(("unix:", "fd://")):
        return True
    if host.startswith("["):
        name = host[1 : host.find("]")]
    else:
        name = host.partition(":")[0] if host.count(":") == 1 else host
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def log_where_uvicorn_logs() -> None:
    """Unless the app configured logging for us, show our lines the way uvicorn shows its own."""
    if logger.hasHandlers() or logger.level != logging.NOTSET:
        return
    uvicorn = logging.getLogger("uvicorn")
    for handler in uvicorn.handlers:
        logger.addHandler(handler)
    if uvicorn.handlers:
        logger.setLevel(logging.INFO)
