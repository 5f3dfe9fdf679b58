"""What a change asks of the tabs, decided on plain data: paths and rendered names in, messages out.

Nothing here reads a file, a Jinja environment or the clock, nor talks to the hub: the pipeline
gathers the facts (which paths changed, which names the app renders), these functions decide.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from ... import _protocol as wire
from ..tracking import SCRIPTS, scope

#: Paths named in a message or a log line; the rest are counted.
SHOWN = wire.SHOWN

#: Files a page can take in place, without a reload: the client swaps stylesheets and images.
IN_PLACE = {
    ".css": wire.CSS,
    **dict.fromkeys(
        (".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".svg", ".ico"), wire.IMAGE
    ),
}
#: What a page cannot take by a swap: a morph of the page (``page``) or a full ``reload``.
UPDATES = (wire.PAGE, wire.RELOAD)


def action(name: str) -> str:
    """What a change to the file ``name`` (not a template) asks of the page: ``reload``, or an
    in-place ``css``/``image``."""
    return IN_PLACE.get(PurePosixPath(name).suffix.lower(), wire.RELOAD)


def notified(names: Iterable[str]) -> str:
    """What a ``notify`` of ``names`` asks of every page: their one in-place kind, else
    ``reload`` (also for no names: anything may have changed)."""
    kinds = {action(name) for name in names}
    return kinds.pop() if len(kinds) == 1 else wire.RELOAD


class Held(NamedTuple):
    """A change not yet told: what it asks of the page, and its name as the client sees it."""

    kind: str
    name: str
    template: bool
    #: The template names it goes by where the app renders it (or like it); none: any file.
    templates: tuple[str, ...] = ()


class Planned(NamedTuple):
    """One change message to send: its type, the names it carries, the tabs it concerns."""

    kind: str
    names: list[str]
    #: ``templates`` and/or ``scripts``: the tabs that use one of them; ``None``: every tab.
    only: dict[str, list[str]] | None = None


class Folders:
    """The watched folders, as string prefixes: a 10k-file batch is classified in
    milliseconds, not a second."""

    def __init__(self, template_folders: Sequence[Path], folders: Sequence[Path]) -> None:
        self._templates = tuple(f"{folder}{os.sep}" for folder in template_folders)
        self._prefixes = [f"{folder}{os.sep}" for folder in folders]

    def template(self, path: Path) -> bool:
        """Whether ``path`` is in a template folder."""
        return str(path).startswith(self._templates)

    def held(self, path: Path, rendered: tuple[str, ...]) -> Held:
        """What a change to ``path`` asks of the page, and its name as the client sees it (its
        path in its watched folder); ``rendered``: the template names it goes by where the app
        renders it, which matter only for a template."""
        text = str(path)
        name = next((text[len(p) :] for p in self._prefixes if text.startswith(p)), path.name)
        name = name.replace(os.sep, "/")
        if self.template(path):  # the tab fetches its page again and morphs it
            return Held(wire.PAGE, name, True, rendered)
        return Held(action(name), name, False)


def concerns(updates: Iterable[Held]) -> dict[str, list[str]]:
    """Which tabs an update for these files concerns; ``{}`` when every tab: any file that is no
    template the app renders and no script (content, data) may be read by any page."""
    templates: set[str] = set()
    scripts: set[str] = set()
    for entry in updates:
        if entry.templates:
            templates.update(entry.templates)
        elif PurePosixPath(entry.name).suffix.lower() in SCRIPTS:
            scripts.add(entry.name)
        else:
            return {}
    return scope(templates, scripts)


def plan(held: Collection[Held]) -> list[Planned]:
    """The messages that tell the changes ``held`` (one per changed path), in sending order.

    Swaps alone go out as they are. An update (``page``/``reload``) for only some tabs follows
    the swaps, which the tabs it does not concern still need; one for every tab, or more than
    ``SHOWN`` changes (a tab could not match them), is one message naming everything: a reload
    covers every swap, a page update swaps the sheets and images it names.
    """
    by_action: dict[str, set[str]] = {}
    for entry in held:
        by_action.setdefault(entry.kind, set()).add(entry.name)
    kind = wire.RELOAD if wire.RELOAD in by_action or len(held) > SHOWN else wire.PAGE
    updates = [entry for entry in held if entry.kind in UPDATES]
    only = concerns(updates) if updates and len(held) <= SHOWN else {}
    if (updates and not only) or len(held) > SHOWN:
        return [Planned(kind, sorted({entry.name for entry in held}))]
    planned = [
        Planned(swap, sorted(names))
        for swap, names in sorted(by_action.items())
        if swap not in UPDATES
    ]
    if updates:
        planned.append(Planned(kind, sorted({entry.name for entry in updates}), only))
    return planned
