"""Configuration read strictly: the on/off switch, the URL path, and production-looking servers."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Decision:
    """Whether hot reload is on, why (the start-up line's words), and how to flip it."""

    on: bool
    why: str
    #: Said as a WARNING: on where it looks like production, or refused although asked for.
    loud: bool = False
    flip: str = ""

    def log(self) -> None:
        """The start-up line of an ``off`` decision, or the warning of a loud ``on``.

        A quiet ``on`` is said by the lifespan, with what it watches."""
        log_where_uvicorn_logs()
        if not self.on:
            level = logging.WARNING if self.loud else logging.INFO
            logger.log(level, "hot reload is off: %s; %s", self.why, self.flip)
        elif self.loud:
            logger.warning("HOT RELOAD IS ON: %s; %s", self.why, self.flip)


def decide(
    enabled: bool | None,
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] = os.environ,
) -> Decision:
    """On by default only where a reloader or a dev command started the process; elsewhere
    ``FASTAPI_HOT_RELOAD=1`` turns it on, unless the server looks like production, where only
    ``enabled=True`` in code does (loudly)."""
    argv = sys.argv if argv is None else argv
    chosen = switch(enabled, environ)
    signs, reloader = production_signs(argv, environ), development_sign(argv, environ)
    looks = f"this looks like a production server ({', '.join(signs)})"
    variable = f"{ENV_VAR}={environ.get(ENV_VAR, '').strip()}"
    if enabled is not None:
        flip = f"enabled={not enabled} turns it {'off' if enabled else 'on'}"
        if enabled and signs:
            exposed = "anyone reaching it by a trusted host name sees source lines and tracebacks"
            return Decision(True, f"enabled=True in code, although {looks}: {exposed}", True, flip)
        return Decision(enabled, f"enabled={enabled} in code", flip=flip)
    if chosen is False:
        return Decision(False, variable, flip=f"unset {ENV_VAR} for the default")
    if signs:
        unwatched = all(sign.endswith(_UNRELOADED) for sign in signs)  # a dev bind, maybe
        way = (
            "a reloader (--reload) or enabled=True in code"
            if unwatched
            else "only enabled=True in code"
        )
        return Decision(False, looks, bool(chosen), f"{way} turns it on here")
    off = f"{ENV_VAR}=0 or enabled=False turns it off"
    if chosen:
        return Decision(True, variable, flip=off)
    if reloader:
        return Decision(True, f"started by `{reloader}`", flip=off)
    none = f"no reloader started this process ({', '.join(RELOADERS)})"
    return Decision(False, none, flip=f"{ENV_VAR}=1 turns it on")


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


#: The commands that turn hot reload on by default, as the start-up line names them.
RELOADERS = (
    "uvicorn --reload",
    "fastapi dev",
    "fastapi-hot-reload dev",
    "hypercorn --reload",
    "granian --reload",
)
#: The end of a sign that a reloader would take away.
_UNRELOADED = " without a reloader"
#: Boolean environment values as click (uvicorn's and granian's option parser) reads them.
_CLICK_TRUE = ("1", "true", "t", "yes", "y", "on")


@dataclass(frozen=True)
class _Server:
    """Where one server reads its reloader, workers, binds and sockets: options, environment."""

    reload: tuple[str, ...] = ()
    reload_env: str = ""
    workers: tuple[str, ...] = ()
    workers_env: tuple[str, ...] = ("WEB_CONCURRENCY",)
    binds: tuple[str, ...] = ()
    binds_env: str = ""
    sockets: tuple[str, ...] = ()
    sockets_env: tuple[str, ...] = ()
    config: tuple[str, ...] = ()


_SERVERS = {
    "uvicorn": _Server(
        reload=("--reload",),
        reload_env="UVICORN_RELOAD",
        workers=("--workers",),
        workers_env=("UVICORN_WORKERS", "WEB_CONCURRENCY"),
        binds=("--host",),
        binds_env="UVICORN_HOST",
        sockets=("--uds", "--fd"),
        sockets_env=("UVICORN_UDS", "UVICORN_FD"),
    ),
    "fastapi": _Server(workers=("--workers",), binds=("--host",)),
    "hypercorn": _Server(
        reload=("--reload",),
        workers=("--workers", "-w"),
        binds=("--bind", "-b", "--insecure-bind", "--quic-bind"),
        config=("--config", "-c"),
    ),
    "granian": _Server(
        reload=("--reload",),
        reload_env="GRANIAN_RELOAD",
        workers=("--workers",),
        workers_env=("GRANIAN_WORKERS",),
        binds=("--host",),
        binds_env="GRANIAN_HOST",
        sockets=("--uds",),
        sockets_env=("GRANIAN_UDS",),
    ),
    "gunicorn": _Server(workers=("--workers", "-w"), binds=("--bind", "-b")),
}


def development_sign(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] = os.environ
) -> str | None:
    """The reloader or dev command that started this process, as ``RELOADERS`` names it.

    Read from the command line, which the workers a reloader spawns inherit (multiprocessing
    hands them the parent's ``sys.argv``), and from the server's own environment variables.
    """
    argv = sys.argv if argv is None else argv
    command, args = _command(argv), list(argv[1:])
    if command == "fastapi" and args[:1] == ["dev"]:
        return None if "--no-reload" in args else "fastapi dev"
    if command in ("fastapi-hot-reload", "fastapi_hot_reload") and args[:1] == ["dev"]:
        return "fastapi-hot-reload dev"
    if argv and Path(argv[0]).parts[-3:] == ("fastapi_hot_reload", "_dev", "standby.py"):
        return "fastapi-hot-reload dev"  # the dev server's pre-warmed worker
    server = _SERVERS.get(command)
    if server is None or command == "gunicorn":
        return None
    if _flag(args, server.reload) or _truthy(environ.get(server.reload_env, "")):
        return f"{command} --reload"
    return None


def production_signs(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] = os.environ
) -> list[str]:
    """What makes this process look like a production server, in words (none: development).

    Several workers, a production command (``fastapi run``, gunicorn), a settings file the
    server reads (hypercorn's ``--config``: its binds are unknown), or, without a reloader, a
    bind to other machines or to a socket a proxy talks to. Options are read as the servers
    read them (``-b0.0.0.0:8000``, ``--host=::``), the command line before the environment.
    """
    argv = sys.argv if argv is None else argv
    command, args = _command(argv), list(argv[1:])
    server = _SERVERS.get(command, _Server())
    signs = []
    workers = _last(_values(args, server.workers)) or _env(environ, server.workers_env)
    if workers.isdigit() and int(workers) > 1:
        signs.append(f"{workers} workers")
    if command == "gunicorn":
        signs.append("run by gunicorn")
    if command == "fastapi" and args[:1] == ["run"]:
        signs.append("started with `fastapi run`")
    if config := _last(_values(args, server.config)):
        signs.append(f"settings read from {config}")
    if development_sign(argv, environ):
        return signs
    binds = _values(args, server.binds) or [environ.get(server.binds_env, "")]
    for bind in binds:
        if bind and not _loopback(bind):
            signs.append(f"bound to {bind}{_UNRELOADED}")
    sockets = _values(args, server.sockets) or [_env(environ, server.sockets_env)]
    for socket in sockets:
        if socket:
            signs.append(f"serving socket {socket}{_UNRELOADED}")
    return signs


def _command(argv: Sequence[str]) -> str:
    """``uvicorn`` for ``.../bin/uvicorn`` and for ``python -m uvicorn``."""
    path = Path(argv[0]) if argv else Path()
    return path.parent.name if path.name == "__main__.py" else path.stem


def _values(args: list[str], names: tuple[str, ...]) -> list[str]:
    """Every value of ``--name value``, ``--name=value``, ``-n value`` and ``-nvalue``."""
    found = []
    for at, arg in enumerate(args):
        name, equals, value = arg.partition("=")
        if name in names:
            found.append(value if equals else (args[at + 1] if at + 1 < len(args) else ""))
        elif arg[:2] in names and not arg.startswith("--") and len(arg) > 2:
            found.append(arg[2:])
    return found


def _last(values: list[str]) -> str:
    return values[-1] if values else ""


def _flag(args: list[str], names: tuple[str, ...]) -> bool:
    return any(arg in names for arg in args)


def _env(environ: Mapping[str, str], names: tuple[str, ...]) -> str:
    """The first of ``names`` set in the environment."""
    return next((environ[name] for name in names if environ.get(name)), "")


def _truthy(value: str) -> bool:
    return value.strip().lower() in _CLICK_TRUE


def _loopback(host: str) -> bool:
    """``127.0.0.1``, ``[::1]:8000``, ``localhost``, ``localhost:8000``."""
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
