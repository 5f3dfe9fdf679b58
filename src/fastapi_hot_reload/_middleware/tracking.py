"""Which templates each response rendered, and which of them a changed file is."""

from __future__ import annotations

import functools
import hashlib
import posixpath
from collections.abc import Iterable, MutableMapping
from contextvars import ContextVar, Token
from typing import Any

import jinja2
from jinja2.utils import internalcode

from .. import _protocol as wire

#: The names loaded while the current request renders; ``None`` outside a request.
RENDERED: ContextVar[set[str] | None] = ContextVar("fastapi_hot_reload.rendered", default=None)

_TIMING, _TEMPLATES = wire.TIMING.encode(), wire.ATTR_TEMPLATES.encode()
_ANY = wire.ANY_TEMPLATE.encode()

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
    hot_reload_suffixes: set[str]  # of the names loaded: ``.html`` means new ``x.html`` is alike

    @internalcode  # hidden from Jinja's tracebacks, like Jinja's own loading frames
    def _load_template(
        self, name: str, globals: MutableMapping[str, Any] | None
    ) -> jinja2.Template:
        if (rendered := RENDERED.get()) is not None:
            rendered.add(name)
            if name not in self.hot_reload_loaded:  # also a name not found yet: may be created
                self.hot_reload_suffixes.add(_suffix(name))
                self.hot_reload_loaded.add(name)
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
    env.hot_reload_suffixes = set()  # type: ignore[attr-defined]


#: The most bytes of names a page carries (tag attribute, ``Server-Timing``): nginx's default
#: proxy buffer holds 4 KB of headers; a larger set is kept here and the page carries its key.
MAX_NAMES = 900
#: Kept sets, at most: past this a new large set is sent as ``*`` (touched by every change).
MAX_KEPT = 4096
#: A change that would name more kept sets than this goes to every tab instead.
MAX_KEYS = 256


class Sets:
    """The template sets too large for a page to carry, each under a short key.

    A key is ``#`` and a hash of the set: a restarted server that renders the same set again
    gives it the key the tabs already hold. Percent-encoding turns ``#`` into ``%23``, so a key
    is never a template name.
    """

    def __init__(self) -> None:
        self._kept: dict[str, frozenset[str]] = {}  # key -> set

    def encoded(self, names: frozenset[str]) -> bytes:
        """``names`` as a page carries them: the names, or a key when they are too long."""
        text = _encoded_set(names)
        if len(text) <= MAX_NAMES:
            return text
        key = "#" + hashlib.blake2b(text, digest_size=8).hexdigest()
        if key not in self._kept:
            if len(self._kept) >= MAX_KEPT:
                return _ANY
            self._kept[key] = names
        return key.encode()

    def containing(self, templates: Iterable[str]) -> list[str]:
        """The keys of the kept sets that hold one of ``templates``."""
        wanted = set(templates)
        return sorted(key for key, names in self._kept.items() if not wanted.isdisjoint(names))


class Tracked:
    """The tracked environments: which names in them are templates the app renders, and the
    large sets pages rendered."""

    def __init__(self, envs: Iterable[jinja2.Environment]) -> None:
        for env in envs:
            track(env)
        self.sets = Sets()

    @staticmethod
    def rendered(env: jinja2.Environment, name: str) -> bool:
        """Whether a request rendered (or asked for) template ``name`` of ``env``."""
        return name in getattr(env, "hot_reload_loaded", ())

    @staticmethod
    def template(env: jinja2.Environment, name: str) -> bool:
        """Rendered, or named like those rendered (same suffix): a template the app would load
        by name. Other files in a template folder (``list.hbs``, a README) are not."""
        return Tracked.rendered(env, name) or _suffix(name) in getattr(
            env, "hot_reload_suffixes", ()
        )


def scope(templates: set[str], scripts: set[str]) -> dict[str, list[str]]:
    """The part of a reload message that says which tabs it concerns: those that rendered one of
    ``templates`` or loaded one of ``scripts``."""
    found = {"templates": templates, "scripts": scripts}
    return {key: sorted(names) for key, names in found.items() if names}


def _suffix(name: str) -> str:
    return posixpath.splitext(name)[1]


class Rendered:
    """The templates one response rendered (those loaded inside ``with``), and how its page
    learns them."""

    def __init__(self, tag_start: bytes = b"", sets: Sets | None = None) -> None:
        self.names: set[str] = set()
        self._tag_start = tag_start  # ``<script ... data-rev="N"``, without its end
        self._sets = Sets() if sets is None else sets
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
        return b'%s %s="%s"></script>' % (self._tag_start, _TEMPLATES, self._encoded())

    def timing(self, html: bool, complete: bool) -> tuple[bytes, bytes] | None:
        """The ``Server-Timing`` header for a response that is HTML or rendered templates (JSON
        carrying HTML, say); ``complete`` when it was rendered before it started (it has a
        ``Content-Length``): a streamed one may load more templates after its header went."""
        if not (html or self.names):
            return None
        names = self._encoded() if complete and self.names else _ANY
        # A page reads it for every fetch, XHR, htmx swap or iframe through
        # ``PerformanceResourceTiming.serverTiming``.
        return b"server-timing", b'%s;desc="%s"' % (_TIMING, names)

    def _encoded(self) -> bytes:
        """Encoded once per response: the set only grows, so its size says if it changed."""
        if len(self.names) != self._size:
            self._size, self._text = len(self.names), self._sets.encoded(frozenset(self.names))
        return self._text


@functools.lru_cache(maxsize=1024)
def _encoded_set(names: frozenset[str]) -> bytes:
    """Pages render the same few sets again and again: each is encoded once."""
    return wire.encode_names(names).encode()
