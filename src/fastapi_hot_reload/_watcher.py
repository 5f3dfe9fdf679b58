"""Watch folders with watchfiles and report each batch of real changes, without editor noise."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
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


#: Files a page can take in place, without a reload: the client swaps stylesheets and images.
IN_PLACE = {
    ".css": "css",
    **dict.fromkeys((".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".svg", ".ico"), "image"),
}


def action(path: Path, template_folders: Sequence[Path]) -> str:
    """What a change to ``path`` asks of the page: ``page`` (a template: fetch the page again and
    morph it), an in-place ``css``/``image``, or a full ``reload`` (anything else)."""
    if any(path.is_relative_to(folder) for folder in template_folders):
        return "page"
    return IN_PLACE.get(path.suffix.lower(), "reload")


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
    )


async def watch_folders(
    folders: Sequence[Path],
    on_change: Callable[[set[Path]], None],
    stop: anyio.Event,
    *,
    force_polling: bool | None = None,
) -> None:
    """Call ``on_change`` with each batch of changed paths until ``stop`` is set.

    A watched folder that disappears ends its watch silently in watchfiles, so existence is
    re-checked after every batch and every ``RECHECK_MS``; a folder that (re)appears is watched
    again and reported as changed. A missing folder is logged, never fatal.
    """
    watched: list[Path] | None = None
    while not stop.is_set():
        present = [folder for folder in folders if folder.is_dir()]
        if present != watched:
            _report(folders, present, watched, on_change)
            watched = present
        try:
            await _watch_until_folders_change(folders, present, on_change, stop, force_polling)
        except OSError as exc:  # a folder vanished between the check and the watch
            logger.warning("cannot watch %s: %s", ", ".join(map(str, present)), exc)
            with anyio.move_on_after(RECHECK_MS / 1000):
                await stop.wait()


async def _watch_until_folders_change(
    folders: Sequence[Path],
    present: list[Path],
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
        if [folder for folder in folders if folder.is_dir()] != present:
            return


def _report(
    folders: Sequence[Path],
    present: list[Path],
    watched: list[Path] | None,
    on_change: Callable[[set[Path]], None],
) -> None:
    """Log folders that went missing; report folders that came back as changed."""
    for folder in folders:
        if folder not in present and (watched is None or folder in watched):
            logger.warning("not watching %s: no such folder (watched again once it exists)", folder)
        elif folder in present and (watched is None or folder not in watched):
            _warn_if_unreadable(folder)
    back = {folder for folder in present if watched is not None and folder not in watched}
    for folder in sorted(back):
        logger.info("watching %s again", folder)
    if back:
        on_change(back)


def _warn_if_unreadable(folder: Path) -> None:
    """watchfiles skips what it may not read; say so once instead of watching it silently."""
    try:
        with os.scandir(folder):
            pass
    except PermissionError:
        logger.warning("not watching %s: no permission to read it", folder)
