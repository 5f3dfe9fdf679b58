"""Folders on mounts where file events never arrive (WSL, Docker Desktop, network shares)."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

logger = logging.getLogger("fastapi_hot_reload")

MOUNTINFO = Path("/proc/self/mountinfo")
#: File systems whose changes made elsewhere (the host, another machine) raise no inotify event:
#: WSL's Windows drives (9p, drvfs), Docker Desktop bind mounts (grpcfuse, virtiofs, osxfs,
#: fakeowner), VirtualBox shared folders, and network shares.
NO_EVENTS = frozenset(
    {"9p", "drvfs", "v9fs", "virtiofs", "fakeowner", "vboxsf", "osxfs"}
    | {"fuse.grpcfuse", "grpcfuse", "fuse.osxfs", "fuse.sshfs"}
    | {"nfs", "nfs4", "cifs", "smb3", "smbfs"}
)


_OCTAL = re.compile(r"\\([0-7]{3})")


def _unescape(field: str) -> str:
    r"""mountinfo writes a space in a path as ``\040`` (and tab, newline, backslash alike)."""
    return _OCTAL.sub(lambda found: chr(int(found[1], 8)), field)


def mounts(text: str) -> list[tuple[Path, str]]:
    """Each mount point and its file system type, from the text of ``/proc/self/mountinfo``."""
    found = []
    for line in text.splitlines():
        fields = line.split()
        if "-" in fields[6:-1]:
            at = fields.index("-", 6)  # optional fields come before the separator
            found.append((Path(_unescape(fields[4])), fields[at + 1]))
    return found


def no_event_mount(folder: Path, table: Sequence[tuple[Path, str]]) -> str | None:
    """The type of the mount that keeps events from ``folder`` (its own or one inside it)."""
    holding = [entry for entry in table if folder.is_relative_to(entry[0])]
    kinds = [max(holding, key=lambda entry: len(entry[0].parts))[1]] if holding else []
    kinds += [kind for point, kind in table if point.is_relative_to(folder) and point != folder]
    return next((kind for kind in kinds if kind in NO_EVENTS), None)


def polled(folders: Sequence[Path], force_polling: bool | None) -> list[Path]:
    """The folders to poll although ``force_polling`` is unset, said in one log line."""
    if force_polling is not None:
        return []
    try:
        table = mounts(MOUNTINFO.read_text(errors="replace"))
    except OSError:  # not Linux: no such file
        return []
    kinds = {folder: no_event_mount(folder, table) for folder in folders}
    chosen = [folder for folder, kind in kinds.items() if kind]
    if chosen:
        shown = ", ".join(f"{folder} ({kinds[folder]})" for folder in chosen)
        logger.info(
            "polling %s: file events do not arrive on such mounts (force_polling=False turns "
            "this off)",
            shown,
        )
    return chosen
