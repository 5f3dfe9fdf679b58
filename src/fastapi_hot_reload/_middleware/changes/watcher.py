"""Watch folders with watchfiles: each batch of changes without editor noise; never give up."""

from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from pathlib import Path

import anyio
from watchfiles import DefaultFilter, awatch

logger = logging.getLogger("fastapi_hot_reload")

#: watchfiles yields a batch after ``step`` ms without new events: latency is ``step``..``2*step``.
STEP_MS = 3
#: A batch is yielded after this long even while events keep coming (a build writing many files).
DEBOUNCE_MS = 300
#: How often the folders' existence is checked, to pick up a folder deleted and made again.
RECHECK_MS = 1000
#: The longest pause before a failed watch (or change check) is tried again.
MAX_BACKOFF_S = 5.0


class EditorNoiseFilter(DefaultFilter):
    """watchfiles' default filter, plus the scratch files editors and tools write beside a save."""

    ignore_entity_patterns = (
        *DefaultFilter.ignore_entity_patterns,
        r"^\d+$",  # vim's write probe: 4913, then 5036, 5159, ...
        r"^#.*#$",  # emacs auto-save
        r"\.tmp$",
        r"\.tmp[\d.]+$",  # atomic-save temporaries: x.html.tmp, .x.tmp1234, x.tmp.12.34
        r"^sed[A-Za-z0-9]{6}$",  # sed -i
        r"^\.goutputstream-",  # gedit
        r"\.kate-swp$",
        r"\.crswap$",  # Chromium's File System Access writes
        r"___jb_\w+___$",  # JetBrains safe write: Home.html___jb_tmp___, Home.html___jb_old___
        r"\.sw[a-p]-new$",  # vim's swap file being replaced: .Home.html.swp-new
    )


async def keep_running(what: str, task: Callable[[], Awaitable[None]]) -> None:
    """Run ``task`` until it returns; if it raises, log why and run it again, backing off.

    The watcher runs in the app's lifespan task group: an exception escaping it would cancel
    the app's own lifespan (skipping its shutdown code). Nothing does.
    """
    failures = 0
    while True:
        try:
            await task()
            return
        except Exception as exc:
            failures += 1
            delay = min(MAX_BACKOFF_S, 0.05 * 2**failures)
            logger.warning(
                "%s failed (%s), trying again in %.1f s", what, _cause(exc), delay, exc_info=exc
            )
            await anyio.sleep(delay)


async def watch_folders(
    folders: Sequence[Path],
    on_change: Callable[[set[Path]], None],
    stop: anyio.Event,
    *,
    force_polling: bool | None = None,
) -> None:
    """Call ``on_change`` with each batch of changed paths until ``stop`` is set.

    A watched folder that disappears ends its watch silently in watchfiles, and one replaced by
    a rename or a symlink keeps its watch on the old folder; so each folder's device and inode
    are compared after every batch and every ``RECHECK_MS``. A folder that (re)appears or was
    replaced is watched again and reported (``on_change`` compares its files with what it saw).
    A watch that fails is logged with its cause and started again; the folders it watched are
    reported, since its last batch was lost.
    """
    _quiet_watchfiles()
    watched: dict[Path, tuple[int, int]] | None = None
    failures = 0
    said: set[str] = set()  # undecodable names already warned about
    while not stop.is_set():
        present = _identities(folders)
        if present != watched:
            _report(folders, present, watched, on_change)
            watched = present
        try:
            await _watch_until_folders_change(folders, present, on_change, stop, force_polling)
            failures = 0
        except Exception as exc:
            failures += 1
            delay = 0.0 if failures == 1 else min(MAX_BACKOFF_S, 0.05 * 2**failures)
            _log_failure(exc, list(present), delay, said)
            with anyio.move_on_after(delay):
                await stop.wait()
            on_change(set(present))


async def _watch_until_folders_change(
    folders: Sequence[Path],
    present: dict[Path, tuple[int, int]],
    on_change: Callable[[set[Path]], None],
    stop: anyio.Event,
    force_polling: bool | None,
) -> None:
    if not present:
        with anyio.move_on_after(RECHECK_MS / 1000):
            await stop.wait()
        return
    async for changes in awatch(
        *present,
        watch_filter=EditorNoiseFilter(),
        step=STEP_MS,
        debounce=DEBOUNCE_MS,
        stop_event=stop,
        rust_timeout=RECHECK_MS,
        yield_on_timeout=True,
        force_polling=force_polling,
        ignore_permission_denied=True,  # else one unreadable subfolder stops the whole watch
    ):
        if changes:
            on_change({Path(path) for _, path in changes})
        if _identities(folders) != present:
            return


def _identities(folders: Sequence[Path]) -> dict[Path, tuple[int, int]]:
    """Each existing folder's device and inode (through symlinks): a swap changes them."""
    found = {}
    for folder in folders:
        with suppress(OSError):
            status = folder.stat()
            if stat.S_ISDIR(status.st_mode):
                found[folder] = (status.st_dev, status.st_ino)
    return found


def _report(
    folders: Sequence[Path],
    present: dict[Path, tuple[int, int]],
    watched: dict[Path, tuple[int, int]] | None,
    on_change: Callable[[set[Path]], None],
) -> None:
    """Log folders that went missing; report folders that came back or were replaced."""
    again = set()
    for folder in folders:
        if folder not in present and (watched is None or folder in watched):
            logger.warning("not watching %s: no such folder (watched again once it exists)", folder)
        elif folder in present and (watched is None or folder not in watched):
            _warn_if_unreadable(folder)
            if watched is not None:
                logger.info("watching %s again", folder)
                again.add(folder)
        elif watched is not None and folder in present and present[folder] != watched[folder]:
            logger.info("watching %s again: it was replaced (renamed or re-linked)", folder)
            again.add(folder)
    if again:
        on_change(again)


def _warn_if_unreadable(folder: Path) -> None:
    """watchfiles skips what it may not read; say so once instead of watching it silently."""
    try:
        with os.scandir(folder):
            pass
    except PermissionError:
        logger.warning("not watching %s: no permission to read it", folder)


def _log_failure(exc: Exception, folders: list[Path], delay: float, said: set[str]) -> None:
    """A file whose name is not UTF-8 makes watchfiles raise for the whole batch: say so once
    per name; anything else, with its cause, every time."""
    cause = _cause(exc)
    if found := re.search(r'Unable to decode path "(.*)" to string', cause):
        if found[1] not in said:
            said.add(found[1])
            logger.warning("skipping %r: its name is not valid UTF-8 (rename it)", found[1])
        return
    shown = ", ".join(map(str, folders))
    logger.warning("watching %s failed (%s); watching again in %.1f s", shown, cause, delay)


def _cause(exc: BaseException) -> str:
    """``Type: message`` of the exception, or of the first one inside an exception group."""
    while isinstance(inner := getattr(exc, "exceptions", None), (list, tuple)) and inner:
        exc = inner[0]
    return f"{type(exc).__name__}: {exc}"


def _quiet_watchfiles() -> None:
    """watchfiles logs "N changes detected" at INFO for every batch; we log what matters."""
    noisy = logging.getLogger("watchfiles.main")
    if noisy.level == logging.NOTSET:
        noisy.setLevel(logging.WARNING)
