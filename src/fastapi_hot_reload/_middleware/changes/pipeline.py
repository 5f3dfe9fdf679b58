"""Batches of changed paths -> the messages tabs get, in time: settle, judge, hold, send.

The deciding is elsewhere: ``snapshot`` says what really changed, ``templates`` compiles it,
``classify`` says what it asks of the tabs, ``outbox`` sends. Here: when each of them runs.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import anyio
import jinja2

from ..hub import Hub
from ..tracking import Tracked
from . import disk
from .classify import Folders, Held, notified, plan
from .mounts import polled
from .outbox import Outbox
from .snapshot import Snapshot
from .templates import Templates
from .watcher import keep_running, watch_folders

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


class Examined(NamedTuple):
    """What a worker thread found in a batch."""

    changed: dict[Path, Held]
    errors: dict[Path, dict[str, Any]]
    templates: bool  # a template changed
    assets: bool  # something that is not a template was written (changed or not)


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
        tracked = tracked or Tracked(envs)
        self.outbox = Outbox(hub, editor, tracked.sets)
        self._templates = Templates(envs, tracked)
        self._folders = Folders(template_folders, folders)
        self._snapshot = Snapshot(folders)
        self._pending: dict[Path, float] = {}  # path -> time of its last event
        self._failing: dict[Path, float] = {}  # template -> its last event, until it settles
        self._held: dict[Path, Held] = {}  # changed, not yet told
        self._hold_until = 0.0
        self._build_wait = 0.0  # learned: how long a template update waits for build output
        self._template_sent = -math.inf
        self._due = math.inf
        self._wake: anyio.Event | None = None

    @property
    def rev(self) -> int:
        """How many changes were sent: the page's ``data-rev`` and ``hello``'s."""
        return self.outbox.rev

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
            tasks.start_soon(anyio.to_thread.run_sync, self._snapshot.take, started)
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
        broken = self.outbox.broken
        for path in seen.changed:
            self._failing.pop(path, None)
            broken.pop(path, None)
        for path in seen.errors:
            self._failing[path] = ready[path]
        self._held.update(seen.changed)
        if broken and any(path in broken for path in ready.keys() - seen.changed):
            self._send_error()  # saved again, still broken: show the dismissed overlay again

    def _examine(self, paths: list[Path]) -> Examined:
        """In a worker thread: which paths really changed (classified and named), and which
        changed templates fail to compile."""
        changed = self._snapshot.changed(paths)
        folders, templates = self._folders, self._templates
        held = {path: folders.held(path, templates.rendered(path)) for path in changed}
        compiled = sorted(path for path, entry in held.items() if entry.template)
        errors = templates.compile(compiled)
        assets = not all(folders.template(path) for path in paths)
        return Examined(held, errors, bool(compiled), assets)

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
        errors = await anyio.to_thread.run_sync(self._templates.compile, sorted(settled))
        for path in settled:
            del self._failing[path]
        self.outbox.broken.update(errors)
        if errors:
            self._send_error()

    def _send_held(self, now: float) -> None:
        templates = any(entry.template for entry in self._held.values())
        if self.outbox.broken:
            self._send_error()
            return
        if templates and now < self._hold_until:
            self._due = min(self._due, self._hold_until)
            return
        self._learn_build(now, templates)
        held, self._held = self._held, {}
        for planned in plan(held.values()):
            self.outbox.send(*planned)
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

    def _send_error(self) -> None:
        """Tell the broken template, and drop what was held: the fix will update the tabs."""
        self._held.clear()
        self.outbox.send_error()

    def error_message(self) -> dict[str, Any] | None:
        """The ``error`` message for the first broken template, while any is broken."""
        return self.outbox.error_message()

    def notify(self, names: Sequence[str]) -> dict[str, Any]:
        """A change the watcher cannot see: ``names`` (template names or file paths) changed,
        or, without names, anything may have."""
        self._templates.forget(names)
        return self.outbox.send(notified(names), list(names))

    def missed(self, rev: int | None) -> dict[str, Any]:
        """For a ``hello``: the changes since ``rev``, the one a tab connected with, if
        remembered (``None``: it said none)."""
        return self.outbox.missed(rev)


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
