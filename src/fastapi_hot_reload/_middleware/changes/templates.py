"""The Jinja side of a change: the names a file goes by, compiled into or evicted from caches."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2

from ..errors import describe
from ..jinja import clear_caches, evict, name_roots, recompile
from ..tracking import Tracked

logger = logging.getLogger("fastapi_hot_reload")

#: Templates compiled per batch; more are only evicted (the render compiles what it uses).
COMPILE_LIMIT = 200


class Templates:
    """The app's environments, each with the folders its loader reads and the names there."""

    def __init__(self, envs: Sequence[jinja2.Environment], tracked: Tracked) -> None:
        self._envs = list(envs)
        self._tracked = tracked
        self._roots = [
            (env, folder.resolve(), prefix)
            for env in envs
            for folder, prefix in name_roots(env.loader)
        ]

    def rendered(self, path: Path) -> tuple[str, ...]:
        """The names ``path`` goes by where the app renders it, or templates named like it."""
        return tuple(name for env, name in self._names(path) if self._tracked.template(env, name))

    def compile(self, paths: list[Path]) -> dict[Path, dict[str, Any]]:
        """Compile up to ``COMPILE_LIMIT`` templates into the caches; the errors of those that
        fail. The others are evicted, and compiled by the render that uses them."""
        errors: dict[Path, dict[str, Any]] = {}
        for count, path in enumerate(paths):
            for env, name in self._names(path):
                if count >= COMPILE_LIMIT or not self._tracked.template(env, name):
                    evict(env, name)  # never compiled: a list.hbs must not block reloads
                elif (exc := recompile(env, name)) is not None:
                    errors[path] = describe(exc, path, exc.lineno, name)
        if len(paths) > COMPILE_LIMIT:
            logger.info(
                "%d templates changed: compiled %d now, the rest when first rendered",
                len(paths),
                COMPILE_LIMIT,
            )
        return errors

    def forget(self, names: Sequence[str]) -> None:
        """A change told by ``notify``: evict ``names`` from every environment; none: all."""
        if not names:
            clear_caches(self._envs)
        for env in self._envs:
            for name in names:
                evict(env, name)

    def _names(self, path: Path) -> list[tuple[jinja2.Environment, str]]:
        """Every environment, and the name, under which ``path`` could be loaded."""
        return [
            (env, prefix + path.relative_to(folder).as_posix())
            for env, folder, prefix in self._roots
            if path.is_relative_to(folder) and path != folder
        ]
