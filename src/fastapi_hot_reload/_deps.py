"""Which templates each response rendered, and which of them a changed file is."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from contextvars import ContextVar, Token
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

import jinja2
from jinja2.utils import internalcode

from ._jinja import loader_roots

#: The names loaded while the current request renders; ``None`` outside a request.
RENDERED: ContextVar[set[str] | None] = ContextVar("fastapi_hot_reload.rendered", default=None)

#: ``Server-Timing`` entry that tells the page a response's templates: a page reads it for
#: every fetch, XHR, htmx swap or iframe through ``PerformanceResourceTiming.serverTiming``.
TIMING = b"hot-reload"
#: The set in place of names when they cannot be known: the page then depends on everything.
UNKNOWN = "*"
#: Files that update only the pages that load them (``<script src>``, module imports, workers).
SCRIPTS = frozenset((".js", ".mjs"))


class _Tracking(jinja2.Environment):
    """Records each template name an environment loads while a request renders: in that
    request's set, and in the names ever rendered (the files worth a syntax check, and worth
    scoping a change to). Loads outside a request (a check compiling a saved file, an e-mail
    rendered by a task) record nothing.

    ``_load_template`` runs for every ``get_template``, ``select_template`` candidate, extends,
    include and import, cached or not, with the name already joined to its parent's.
    """

    hot_reload_loaded: set[str]

    @internalcode  # hidden from Jinja's tracebacks, like Jinja's own loading frames
    def _load_template(
        self, name: str, globals: MutableMapping[str, Any] | None
    ) -> jinja2.Template:
        if (rendered := RENDERED.get()) is not None:
            rendered.add(name)
            self.hot_reload_loaded.add(name)  # also a name not found yet: it may be created
        return super()._load_template(name, globals)


def track(env: jinja2.Environment) -> None:
    """Make ``env`` record what it loads, by giving it a subclass of its own class.

    A class, not an attribute on the instance: ``env.overlay()`` copies the instance's attributes
    but must load through the overlay, which ``self`` in a method does.
    """
    if isinstance(env, _Tracking):
        return
    cls = type(env)
    env.__class__ = type(cls.__name__, (_Tracking, cls), {"__qualname__": cls.__qualname__})
    env.hot_reload_loaded = set()  # type: ignore[attr-defined]


class Tracked:
    """The tracked environments, and the template names a file on disk goes by in them."""

    def __init__(self, envs: list[jinja2.Environment]) -> None:
        for env in envs:
            track(env)
        self._roots = [
            (env, prefix, folder.resolve())
            for env in envs
            for prefix, folder in loader_roots(env.loader)
        ]

    def loaded(
        self, paths: Iterable[Path], *, alike: bool = False
    ) -> Iterator[tuple[jinja2.Environment, str, Path]]:
        """``(environment, name, path)`` for each path that is a template the app has loaded (or
        asked for) under that name; with ``alike``, also one named like those (same suffix), which
        it would load by name. Other files in a template folder (``list.hbs``) are left out."""
        for path in paths:
            for env, prefix, folder in self._roots:
                if path.is_relative_to(folder):
                    name = prefix + path.relative_to(folder).as_posix()
                    known: set[str] = getattr(env, "hot_reload_loaded", set())
                    if name in known or (alike and _suffix(name) in map(_suffix, known)):
                        yield env, name, path

    def scope(self, paths: set[Path], relative: Callable[[Path], str]) -> dict[str, list[str]]:
        """Which tabs a reload for ``paths`` concerns: those that rendered one of ``templates``
        or loaded one of ``scripts``; ``{}`` when it concerns every tab (any other file).

        A template no tab rendered yet (a new one, named like the others) concerns no tab."""
        loaded = list(self.loaded(paths, alike=True))
        scripts = paths - {path for _, _, path in loaded}
        if any(path.suffix.lower() not in SCRIPTS for path in scripts):
            return {}
        scope = {
            "templates": {name for _, name, _ in loaded},
            "scripts": set(map(relative, scripts)),
        }
        return {key: sorted(names) for key, names in scope.items() if names}


def _suffix(name: str) -> str:
    return PurePosixPath(name).suffix


def encoded(names: Iterable[str]) -> str:
    """Names for an HTML attribute or a header: percent-encoded, space-separated, sorted.

    Percent-encoding leaves no space, quote, ``&`` or ``<`` inside a name, so the list needs no
    other escaping; the client splits on spaces and decodes with ``decodeURIComponent``.
    """
    return " ".join(sorted(quote(name, safe="/") for name in names))


class Rendered:
    """The templates one response rendered (those loaded inside ``with``), and how its page
    learns them."""

    def __init__(self, tag_start: bytes = b"") -> None:
        self.names: set[str] = set()
        self._tag_start = tag_start  # ``<script ... data-rev="N"``, without its end
        self._token: Token[set[str] | None]
        self._size, self._text = 0, b""  # the names, encoded when there were ``_size`` of them

    def __enter__(self) -> Rendered:
        self._token = RENDERED.set(self.names)
        return self

    def __exit__(self, *exc_info: object) -> None:
        RENDERED.reset(self._token)

    def tag(self) -> bytes:
        """The client tag, with the set when there is one (none: the page depends on all)."""
        if not self.names:
            return self._tag_start + b"></script>"
        return b'%s data-templates="%s"></script>' % (self._tag_start, self._encoded())

    def timing(self, html: bool, complete: bool) -> tuple[bytes, bytes] | None:
        """The ``Server-Timing`` header for a response that is HTML or rendered templates (JSON
        carrying HTML, say); ``complete`` when it was rendered before it started (it has a
        ``Content-Length``): a streamed one may load more templates after its header went."""
        if not (html or self.names):
            return None
        names = self._encoded() if complete and self.names else UNKNOWN.encode()
        return b"server-timing", b'%s;desc="%s"' % (TIMING, names)

    def _encoded(self) -> bytes:
        """Encoded once per response: the set only grows, so its size says if it changed."""
        if len(self.names) != self._size:
            self._size, self._text = len(self.names), _encoded_set(frozenset(self.names))
        return self._text


@functools.lru_cache(maxsize=1024)
def _encoded_set(names: frozenset[str]) -> bytes:
    """Pages render the same few sets again and again: each is encoded once."""
    return encoded(names).encode()
