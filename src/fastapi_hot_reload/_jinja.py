"""Jinja2 glue: find the environments, the folders their loaders read, and clear their caches."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
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
    for _, folder in loader_roots(loader):
        yield folder


def loader_roots(loader: jinja2.BaseLoader | None, prefix: str = "") -> Iterator[tuple[str, Path]]:
    """``(prefix, folder)`` for each folder a loader reads: a file's template name is the prefix
    (a ``PrefixLoader``'s, else empty) plus its path in the folder."""
    if isinstance(loader, jinja2.FileSystemLoader):
        yield from ((prefix, Path(p)) for p in loader.searchpath)
    elif isinstance(loader, jinja2.ChoiceLoader):
        for inner in loader.loaders:
            yield from loader_roots(inner, prefix)
    elif isinstance(loader, jinja2.PrefixLoader):
        for name, inner in loader.mapping.items():
            yield from loader_roots(inner, f"{prefix}{name}{loader.delimiter}")
    elif isinstance(loader, jinja2.PackageLoader) and loader._archive is None:
        # A package installed as a zip file cannot change while the app runs; nothing to watch.
        yield prefix, Path(loader._template_root)


def clear_caches(envs: list[jinja2.Environment]) -> None:
    """Forget compiled templates, so the next render reads the file again.

    Jinja's own ``auto_reload`` check reads the source and then its mtime: a save in between
    keeps the old template cached for good, so we never rely on it.
    """
    for env in envs:
        if env.cache is not None:
            env.cache.clear()


@jinja2.pass_context
def hot_reload_script(context: jinja2.runtime.Context) -> Markup:
    """The client ``<script>`` tag for this request, for templates that place it by hand.

    Empty when hot reload is off or the template is rendered outside a request.
    """
    request: Any = context.get("request")
    scope: MutableMapping[str, Any] = getattr(request, "scope", {})
    return Markup(scope.get(SCOPE_KEY, ""))
