"""Every option of ``HotReload`` checked once, into one frozen ``Options`` the pieces read."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

import jinja2
from starlette.templating import Jinja2Templates

from .. import _protocol as wire
from .config import checked_path, decide
from .editor import editor_template
from .jinja import environments, hot_reload_script, loader_folders
from .logs import browser_level
from .trust import Trust

Templates: TypeAlias = "Jinja2Templates | jinja2.Environment"


@dataclass(frozen=True)
class Options:
    """What the developer asked for, checked; and the paths of hot reload's routes."""

    enabled: bool
    #: Where hot reload's routes live (``/__hot_reload__``), without a trailing slash.
    path: str
    envs: tuple[jinja2.Environment, ...]
    trust: Trust
    #: Records from this level up go to the tab's console; ``None``: none do.
    browser_level: int | None
    editor: str | None = None
    template_folders: tuple[Path, ...] = ()
    #: Every folder watched: the templates' first, then ``watch``, each once.
    folders: tuple[Path, ...] = ()
    force_polling: bool | None = None
    morph: bool = True
    status: bool = True
    #: Why it is on, and how to turn it off, for the start-up line.
    why: str = ""
    flip: str = ""

    @property
    def client_path(self) -> str:
        return f"{self.path}/{wire.CLIENT}"

    @property
    def ws_path(self) -> str:
        return f"{self.path}/{wire.WS}"

    @property
    def notify_path(self) -> str:
        return f"{self.path}/{wire.NOTIFY}"

    @property
    def events_path(self) -> str:
        return f"{self.path}/{wire.EVENTS}"


def checked(
    *,
    templates: Templates | Sequence[Templates] | None,
    watch: Iterable[str | os.PathLike[str]],
    path: str,
    enabled: bool | None,
    force_polling: bool | None,
    allowed_hosts: Iterable[str],
    allowed_origins: Iterable[str],
    morph: bool,
    editor: str | None,
    browser_logs: str | int | bool,
    status: bool,
) -> Options:
    """The options, checked: a bad one raises ``TypeError``/``ValueError`` naming it.

    Off, only what must hold anyway is checked (a missing folder is no error where nothing is
    watched), and the templates still get ``hot_reload_script``, so templates that call it render.
    """
    editor = editor_template(editor)
    envs = tuple(environments(templates))
    for env in envs:
        env.globals.setdefault("hot_reload_script", hot_reload_script)
    if isinstance(watch, (str, os.PathLike)):
        raise TypeError(f"watch: expected a list of folders, got {watch!r}")
    path = checked_path(path)
    decision = decide(enabled)
    decision.log()
    trust, level = Trust(allowed_hosts, allowed_origins), browser_level(browser_logs)
    if not decision.on:
        return Options(enabled=False, path=path, envs=envs, trust=trust, browser_level=level)
    template_folders = tuple(
        folder.resolve() for env in envs for folder in loader_folders(env.loader)
    )
    watched = [_watched_folder(folder) for folder in watch]
    return Options(
        enabled=True,
        path=path,
        envs=envs,
        template_folders=template_folders,
        folders=tuple(dict.fromkeys(template_folders + tuple(watched))),
        force_polling=force_polling,
        trust=trust,
        morph=morph,
        editor=editor,
        browser_level=level,
        status=status,
        why=decision.why,
        flip=decision.flip,
    )


def _watched_folder(folder: str | os.PathLike[str]) -> Path:
    """A folder to watch; one that does not exist yet is watched once it does."""
    path = Path(folder)
    if path.exists() and not path.is_dir():
        raise ValueError(f"watch: {os.fspath(folder)!r} is a file, not a folder")
    return path.resolve()
