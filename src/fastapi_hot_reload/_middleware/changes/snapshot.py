"""What the watched files held when last seen: a change is bytes that differ from it."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from contextlib import suppress
from pathlib import Path

from watchfiles import Change

from . import disk
from .watcher import EditorNoiseFilter

#: Files fingerprinted per folder at startup and on a rescan; past it, a rescan reloads.
SNAPSHOT_LIMIT = 20_000


class Snapshot:
    """Each path's last fingerprint (``disk.fingerprint``), and the watched folders that were
    there (``disk.PRESENT``). Used from worker threads, one at a time."""

    def __init__(self, folders: Sequence[Path]) -> None:
        self._folders = list(folders)
        self._keep = EditorNoiseFilter()
        self._fingerprints: dict[Path, bytes | None] = {}

    def take(self, started_ns: int) -> None:
        """At startup: fingerprints to compare the first saves with.

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

    def changed(self, paths: Iterable[Path]) -> set[Path]:
        """Which of ``paths`` really changed, now recorded; a watched folder stands for the
        files in it that did."""
        changed: set[Path] = set()
        for path in paths:
            if path.is_dir() and path in self._folders:
                changed |= self._rescan(path)
            elif self._differs(path):
                changed.add(path)
        return changed

    def _rescan(self, folder: Path) -> set[Path]:
        """A folder (re)appeared, was replaced, or its watch missed a batch: the files that
        differ from what we saw, and the folder itself if it was not there before."""
        found = set(disk.walk(folder, self._keeps, SNAPSHOT_LIMIT))
        if len(found) >= SNAPSHOT_LIMIT:
            return {folder}  # too big to compare: reload to be sure
        prefix = f"{folder}{os.sep}"
        known = {path for path in self._fingerprints if str(path).startswith(prefix)}
        changed = {path for path in found | known if self._differs(path)}
        if self._fingerprints.get(folder) != disk.PRESENT:
            self._fingerprints[folder] = disk.PRESENT
            changed.add(folder)
        return changed

    def _differs(self, path: Path) -> bool:
        """Whether ``path``'s bytes differ from those last seen (or cannot be compared), now
        recording them."""
        now = disk.fingerprint(path)
        if now is not None and self._fingerprints.get(path) == now:
            return False
        self._fingerprints[path] = now
        return True

    def _keeps(self, path: Path) -> bool:
        return self._keep(Change.modified, str(path))
