"""Batches of changed paths -> the messages tabs get: settle, dedupe, classify, compile, errors."""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import suppress
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

import anyio
import jinja2
from watchfiles import Change

from ..editor import editor_url
from ..errors import describe
from ..hub import Hub
from ..jinja import clear_caches, evict, name_roots, recompile
from ..tracking import SCRIPTS, Tracked, scope
from . import disk
from .history import History
from .mounts import polled
from .watcher import EditorNoiseFilter, keep_running, watch_folders

logger = logging.getLogger("fastapi_hot_reload")

#: A template that fails to compile is reported once its file has been quiet this long: an
#: editor or a sync tool writing it in several pieces is done by then (they pause 1-50 ms).
SETTLE_MS = 100
#: While a file is still open for writing, look again this often ...
PROBE_MS = 5
#: ... but judge it anyway once it has been quiet this long (a writer that never closes it).
OPEN_HOLD_MS = 2000
#: A build output (Tailwind rewriting app.css) that lands this soon after a template update
#: teaches us to hold later template updates for it, so that a tab takes both in one step.
BUILD_WINDOW_MS = 300
#: Templates compiled per batch; more are only evicted (the render compiles what it uses).
COMPILE_LIMIT = 200
#: Paths named in a message or a log line; the rest are counted.
SHOWN = 10
#: Files fingerprinted per folder at startup and on a rescan; past it, a rescan reloads.
SNAPSHOT_LIMIT = 20_000

#: Files a page can take in place, without a reload: the client swaps stylesheets and images.
IN_PLACE = {
    ".css": "css",
    **dict.fromkeys((".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".svg", ".ico"), "image"),
}


#: What a page cannot take by a swap: a morph of the page (``page``) or a full ``reload``.
UPDATES = ("page", "reload")


def action(name: str) -> str:
    """What a change to the file ``name`` (not a template) asks of the page: ``reload``, or an
    in-place ``css``/``image``."""
    return IN_PLACE.get(PurePosixPath(name).suffix.lower(), "reload")


class Held(NamedTuple):
    """A change not yet told: what it asks of the page, and its name as the client sees it."""

    kind: str
    name: str
    template: bool
    #: The template names it goes by where the app renders it (or like it); none: any file.
    templates: tuple[str, ...] = ()


class Examined(NamedTuple):
    """What a worker thread found in a batch."""

    changed: dict[Path, Held]
    errors: dict[Path, dict[str, Any]]
    templates: bool  # a template changed
    assets: bool  # something that is not a template was written (changed or not)


def message(kind: str, rev: int, names: Sequence[str]) -> dict[str, Any]:
    """A change message: the first ``SHOWN`` names, how many more there are, and ``t``: when the
    server saw the change (ms since the epoch), for the tab's console line."""
    built: dict[str, Any] = {"type": kind, "rev": rev, "paths": list(names[:SHOWN])}
    built["t"] = round(time.time() * 1000)
    if len(names) > SHOWN:
        built["more"] = len(names) - SHOWN
    return built


def shown(names: Sequence[str]) -> str:
    """``'a', 'b' and 12 more``: a log line never lists a whole build's output; quoted, so a
    name with a newline forges no log line."""
    listed = ", ".join(map(repr, names[:SHOWN]))
    return f"{listed} and {len(names) - SHOWN} more" if len(names) > SHOWN else listed


class Changes:
    """Turns the watcher's batches (and notify calls) into messages for every tab.

    A path is judged once no one has it open for writing. Bytes identical to what was last seen
    change nothing. A changed template is compiled in a worker thread into the Jinja cache, where
    the next render finds it; one that fails is reported only after ``SETTLE_MS`` of quiet.
    """

    def __init__(
        self,
        hub: Hub,
        envs: Sequence[jinja2.Environment],
        template_folders: Sequence[Path],
        folders: Sequence[Path],
        *,
        editor: str | None = None,
        tracked: Tracked | None = None,
    ) -> None:
        self.rev = 0
        self._editor = editor  # a URL template: error messages link the file and line
        self.history = History()  # what a tab that reconnects may have missed
        self._tracked = tracked or Tracked(envs)
        self.broken: dict[Path, dict[str, Any]] = {}
        self._hub = hub
        self._envs = list(envs)
        self._roots = [
            (env, folder.resolve(), prefix)
            for env in envs
            for folder, prefix in name_roots(env.loader)
        ]
        self._template_folders = list(template_folders)
        self._folders = list(folders)
        # String prefixes: a 10k-file batch is classified in milliseconds, not a second.
        self._template_prefixes = tuple(f"{folder}{os.sep}" for folder in template_folders)
        self._prefixes = [f"{folder}{os.sep}" for folder in folders]
        self._keep = EditorNoiseFilter()
        self._fingerprints: dict[Path, bytes | None] = {}
        self._pending: dict[Path, float] = {}  # path -> time of its last event
        self._failing: dict[Path, float] = {}  # template -> its last event, until it settles
        self._held: dict[Path, Held] = {}  # changed, not yet told
        self._hold_until = 0.0
        self._build_wait = 0.0  # learned: how long a template update waits for build output
        self._template_sent = -math.inf
        self._due = math.inf
        self._wake: anyio.Event | None = None

    def add(self, paths: Iterable[Path]) -> None:
        """A batch from the watcher: judged by ``run`` as soon as no one is writing them."""
        now = time.monotonic()
        for path in paths:
            self._pending[path] = now
        self._due = now
        if self._wake is not None:
            self._wake.set()

    async def run(self) -> None:
        """Judge what was added, as it becomes due, until cancelled."""
        started = time.time_ns()
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(anyio.to_thread.run_sync, self._snapshot, started)
            while True:
                self._wake = anyio.Event()
                with anyio.move_on_after(max(0.0, self._due - time.monotonic())):
                    await self._wake.wait()
                await self.step()

    async def step(self) -> None:
        """Everything that is due now: judge settled paths, report settled errors, send."""
        now = time.monotonic()
        self._due = math.inf
        if self._pending:
            await self._judge_pending(now)
        if self._failing:
            await self._settle_failing(now)
        if not self._failing and self._held:
            self._send_held(time.monotonic())

    async def _judge_pending(self, now: float) -> None:
        stamps = dict(self._pending)
        writing = await anyio.to_thread.run_sync(_still_written, list(stamps))
        ready = {
            path: at
            for path, at in stamps.items()
            if path not in writing or now - at > OPEN_HOLD_MS / 1000
        }
        for path, at in ready.items():
            if self._pending.get(path) == at:  # no newer event came while we looked
                del self._pending[path]
        if len(ready) < len(stamps):
            self._due = min(self._due, now + PROBE_MS / 1000)
        if ready:
            await self._judge(ready)

    async def _judge(self, ready: dict[Path, float]) -> None:
        seen = await anyio.to_thread.run_sync(self._examine, list(ready))
        if seen.assets:
            self._hold_until = 0.0  # the build wrote its output: a held update may go
        if self._build_wait and not self._held and seen.templates:
            self._hold_until = time.monotonic() + self._build_wait
        for path in seen.changed:
            self._failing.pop(path, None)
            self.broken.pop(path, None)
        for path in seen.errors:
            self._failing[path] = ready[path]
        self._held.update(seen.changed)
        if self.broken and any(path in self.broken for path in ready.keys() - seen.changed):
            self._send_error()  # saved again, still broken: show the dismissed overlay again

    def _examine(self, paths: list[Path]) -> Examined:
        """In a worker thread: which paths really changed (classified and named), and which
        changed templates fail to compile."""
        changed: set[Path] = set()
        for path in paths:
            if path.is_dir() and path in self._folders:
                changed |= self._rescan(path)
                continue
            now = disk.fingerprint(path)
            if now is None or self._fingerprints.get(path) != now:
                self._fingerprints[path] = now
                changed.add(path)
        held = {path: self._held_entry(path) for path in changed}
        templates = sorted(path for path, entry in held.items() if entry.template)
        errors = self._compile(templates)
        assets = not all(str(path).startswith(self._template_prefixes) for path in paths)
        return Examined(held, errors, bool(templates), assets)

    def _held_entry(self, path: Path) -> Held:
        """What a change to ``path`` asks of the page, and its name as the client sees it."""
        text = str(path)
        template = text.startswith(self._template_prefixes)
        name = next((text[len(p) :] for p in self._prefixes if text.startswith(p)), path.name)
        # A template: the tab fetches its page again and morphs it ("page").
        kind = "page" if template else IN_PLACE.get(path.suffix.lower(), "reload")
        names = tuple(n for env, n in self._names(path) if self._tracked.template(env, n))
        return Held(kind, name.replace(os.sep, "/"), template, names if template else ())

    def _compile(self, paths: list[Path]) -> dict[Path, dict[str, Any]]:
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

    def _names(self, path: Path) -> list[tuple[jinja2.Environment, str]]:
        """Every environment, and the name, under which ``path`` could be loaded."""
        return [
            (env, prefix + path.relative_to(folder).as_posix())
            for env, folder, prefix in self._roots
            if path.is_relative_to(folder) and path != folder
        ]

    def _rescan(self, folder: Path) -> set[Path]:
        """A folder (re)appeared, was replaced, or its watch missed a batch: the files that
        differ from what we saw, and the folder itself if it was not there before."""
        found = set(disk.walk(folder, self._keeps, SNAPSHOT_LIMIT))
        if len(found) >= SNAPSHOT_LIMIT:
            return {folder}  # too big to compare: reload to be sure
        prefix = f"{folder}{os.sep}"
        known = {path for path in self._fingerprints if str(path).startswith(prefix)}
        changed = set()
        for path in found | known:
            now = disk.fingerprint(path)
            if now is None or self._fingerprints.get(path) != now:
                self._fingerprints[path] = now
                changed.add(path)
        if self._fingerprints.get(folder) != disk.PRESENT:
            self._fingerprints[folder] = disk.PRESENT
            changed.add(folder)
        return changed

    def _snapshot(self, started_ns: int) -> None:
        """In a worker thread at startup: fingerprints to compare the first saves with.

        A file written since ``started_ns`` may have an event on its way: it is left unknown
        (so that event counts as a change) rather than recorded with its new bytes.
        """
        for folder in self._folders:
            if folder.is_dir():
                self._fingerprints.setdefault(folder, disk.PRESENT)
            for path in disk.walk(folder, self._keeps, SNAPSHOT_LIMIT):
                now = disk.fingerprint(path)  # before the mtime: see above
                with suppress(OSError):  # gone again
                    if path.stat().st_mtime_ns < started_ns - 50_000_000:
                        self._fingerprints.setdefault(path, now)

    def _keeps(self, path: Path) -> bool:
        return self._keep(Change.modified, str(path))

    async def _settle_failing(self, now: float) -> None:
        """Templates that failed: once quiet for ``SETTLE_MS``, compile again; still failing,
        report them (and drop what was held: the fix will reload)."""
        settled = [
            path
            for path, at in self._failing.items()
            if path not in self._pending and now - at >= SETTLE_MS / 1000
        ]
        for path, at in self._failing.items():
            if path not in settled:
                self._due = min(self._due, at + SETTLE_MS / 1000)
        if not settled:
            return
        errors = await anyio.to_thread.run_sync(self._compile, sorted(settled))
        for path in settled:
            del self._failing[path]
        self.broken.update(errors)
        if errors:
            self._send_error()

    def _send_held(self, now: float) -> None:
        templates = any(entry.template for entry in self._held.values())
        if self.broken:
            self._send_error()
            return
        if templates and now < self._hold_until:
            self._due = min(self._due, self._hold_until)
            return
        self._learn_build(now, templates)
        held, self._held = self._held, {}
        self._send_paths(held)
        if templates:
            self._template_sent = now

    def _learn_build(self, now: float, templates: bool) -> None:
        """A build output soon after a template update: hold the next ones for it."""
        if templates and self._build_wait and now >= self._hold_until > 0:
            logger.info("no build output followed this template save: not waiting for one")
            self._build_wait = 0.0
        elapsed = now - self._template_sent
        if not templates and not self._build_wait and elapsed < BUILD_WINDOW_MS / 1000:
            self._build_wait = min(BUILD_WINDOW_MS / 1000, 2 * elapsed + 0.02)
            logger.info(
                "build output followed a template save after %d ms: template updates now wait "
                "up to %d ms for it, so each tab updates once",
                elapsed * 1000,
                self._build_wait * 1000,
            )

    def _send_paths(self, held: dict[Path, Held]) -> None:
        by_action: dict[str, set[str]] = {}
        for entry in held.values():
            by_action.setdefault(entry.kind, set()).add(entry.name)
        kind = "reload" if "reload" in by_action or len(held) > SHOWN else "page"
        updates = [entry for entry in held.values() if entry.kind in UPDATES]
        only = _scope(updates) if updates and len(held) <= SHOWN else {}
        if (updates and not only) or len(held) > SHOWN:
            # Every tab, in one message: a reload covers every in-place update, a page update
            # swaps the sheets and images it names; beyond SHOWN names, a tab cannot match.
            self.send(kind, sorted({entry.name for entry in held.values()}))
            return
        for swap, names in sorted(by_action.items()):
            if swap not in UPDATES:
                self.send(swap, sorted(names))
        if updates:  # after the swaps, which the tabs it does not concern still need
            self.send(kind, sorted({entry.name for entry in updates}), only)

    def _send_error(self) -> None:
        error = self.error_message()
        if error is None:  # pragma: no cover - called only while something is broken
            return
        self._held.clear()
        self._hub.broadcast(error)
        body = error["error"]
        logger.warning(
            "not reloading: %s in %r, line %s", body["message"], body["file"], body["line"]
        )

    def error_message(self) -> dict[str, Any] | None:
        """The ``error`` message for the first broken template, while any is broken."""
        if not self.broken:
            return None
        error = self.broken[min(self.broken)]
        editor = editor_url(self._editor, error["file"], error["line"])
        return {"type": "error", "rev": self.rev, "error": {**error, "editor": editor}}

    def send(
        self, kind: str, names: Sequence[str], only: dict[str, list[str]] | None = None
    ) -> dict[str, Any]:
        """Broadcast one change message under a new ``rev``, and log it.

        ``{"type": "page" | "reload" | "css" | "image", "rev", "paths"}``; an update that
        concerns only some tabs adds ``only``: the ``templates`` and/or ``scripts`` that say
        which.
        """
        self.rev += 1
        sent = {**message(kind, self.rev, names), **(only or {})}
        self.history.add(sent)
        tabs = self._hub.broadcast(sent)
        logger.info("%s (rev %d, %d tabs): %s", kind, self.rev, tabs, shown(names))
        return sent

    def notify(self, names: Sequence[str]) -> dict[str, Any]:
        """A change the watcher cannot see: ``names`` (template names or file paths) changed,
        or, without names, anything may have."""
        if not names:
            clear_caches(self._envs)
            return self.send("reload", [])
        for env in self._envs:
            for name in names:
                evict(env, name)
        kinds = {action(name) for name in names}
        return self.send(kinds.pop() if len(kinds) == 1 else "reload", list(names))

    def missed(self, query_string: bytes) -> dict[str, Any]:
        """For a ``hello``: the changes since the ``?rev=`` a tab connected with, if remembered."""
        return self.history.missed(query_string, self.rev)


def _scope(updates: list[Held]) -> dict[str, list[str]]:
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


def _still_written(paths: list[Path]) -> set[Path]:
    return {path for path in paths if disk.being_written(path)}


async def watch(
    changes: Changes, folders: Sequence[Path], stop: anyio.Event, force_polling: bool | None
) -> None:
    """Watch ``folders`` until ``stop`` is set, judging their changes beside; never raises.

    Folders on mounts that deliver no file events are polled, in a watch of their own (watchfiles
    polls per ``awatch`` call, not per folder).
    """
    slow = polled(folders, force_polling)
    fast = [folder for folder in folders if folder not in slow]

    def watching(group: list[Path], polling: bool | None) -> Callable[[], Awaitable[None]]:
        return lambda: watch_folders(group, changes.add, stop, force_polling=polling)

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(keep_running, "checking changes", changes.run)
        if slow:
            tasks.start_soon(keep_running, "polling", watching(slow, True))
        await keep_running("watching", watching(fast, force_polling))
        tasks.cancel_scope.cancel()
