"""Jinja2 glue: the environments, the folders and names their loaders read, their caches."""

from __future__ import annotations

import weakref
from collections.abc import Iterator, MutableMapping
from contextlib import suppress
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

#: The request scope key under which the middleware leaves the script tag for this request.
SCOPE_KEY = "fastapi_hot_reload.script"


def environments(templates: object) -> list[jinja2.Environment]:
    """Accept a ``Jinja2Templates``, an ``Environment``, a list of them, or ``None``."""
    if templates is None:
        return []
    items = templates if isinstance(templates, (list, tuple)) else [templates]
    envs = []
    for item in items:
        env = getattr(item, "env", item)  # Starlette's and FastAPI's Jinja2Templates keep it here
        if not isinstance(env, jinja2.Environment):
            raise TypeError(
                f"templates: expected a Jinja2Templates, a jinja2.Environment or a list of them, "
                f"got {item!r}"
            )
        envs.append(env)
    return envs


def loader_folders(loader: jinja2.BaseLoader | None) -> Iterator[Path]:
    """The folders a loader reads templates from; loaders without folders give none."""
    return (folder for folder, _ in name_roots(loader))


def name_roots(loader: jinja2.BaseLoader | None, prefix: str = "") -> Iterator[tuple[Path, str]]:
    """``(folder, prefix)`` pairs: the file ``folder/x.html`` is template ``prefix + x.html``."""
    if isinstance(loader, jinja2.FileSystemLoader):
        yield from ((Path(p), prefix) for p in loader.searchpath)
    elif isinstance(loader, jinja2.ChoiceLoader):
        for inner in loader.loaders:
            yield from name_roots(inner, prefix)
    elif isinstance(loader, jinja2.PrefixLoader):
        for key, inner in loader.mapping.items():
            yield from name_roots(inner, f"{prefix}{key}{loader.delimiter}")
    elif isinstance(loader, jinja2.PackageLoader) and loader._archive is None:
        # A package installed as a zip file cannot change while the app runs; nothing to watch.
        yield Path(loader._template_root), prefix


def clear_caches(envs: list[jinja2.Environment]) -> None:
    """Forget every compiled template, for a change we know nothing more about."""
    for env in envs:
        if env.cache is not None:
            env.cache.clear()


def evict(env: jinja2.Environment, name: str) -> None:
    """Forget the compiled template ``name`` only; every other template stays compiled."""
    if env.cache is not None:
        with suppress(KeyError):  # the key Jinja's Environment._load_template uses
            del env.cache[(weakref.ref(env.loader), name)]


def recompile(env: jinja2.Environment, name: str) -> jinja2.TemplateSyntaxError | None:
    """Load ``name`` afresh into the cache where the next render finds it; its syntax error.

    Jinja's ``FileSystemLoader`` reads the source, then its mtime: a save in between caches the
    old source under the new mtime, which ``auto_reload`` then trusts. The caller reads the file
    before calling this, so that such a save differs from what it read, and is recompiled by the
    batch its event brings.
    """
    evict(env, name)
    try:
        env.get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        return exc
    except (jinja2.TemplateNotFound, OSError, UnicodeDecodeError):
        pass  # gone again, or not a text file: the render will say so if it is ever used
    return None


@jinja2.pass_context
def hot_reload_script(context: jinja2.runtime.Context) -> Markup:
    """The client ``<script>`` tag for this request, for templates that place it by hand.

    Empty when hot reload is off or the template is rendered outside a request.
    """
    request: Any = context.get("request")
    scope: MutableMapping[str, Any] = getattr(request, "scope", {})
    return Markup(scope.get(SCOPE_KEY, ""))
