"""What the disk says about a changed file: its bytes' fingerprint, whether it is still open."""

from __future__ import annotations

import errno
import hashlib
import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

#: Bigger files are not hashed: any event on them counts as a change.
MAX_HASHED_BYTES = 16 * 2**20
#: The fingerprint of a file that is not there.
MISSING = b"missing"
#: What a watched folder that is there is recorded as (its files have their own).
PRESENT = b"folder"


def fingerprint(path: Path) -> bytes | None:
    """A digest of the file's bytes, ``MISSING``, or ``None`` where bytes cannot be compared
    (a folder, a file too big or unreadable): such a path always counts as changed."""
    try:
        with path.open("rb") as file:
            if os.fstat(file.fileno()).st_size > MAX_HASHED_BYTES:
                return None
            return hashlib.blake2b(file.read(), digest_size=16).digest()
    except (FileNotFoundError, NotADirectoryError):
        return MISSING
    except OSError:  # a folder, no permission
        return None


def being_written(path: Path) -> bool:
    """Whether some process still has the file open for writing (Linux; elsewhere ``False``).

    An editor writing a big file in several chunks keeps it open until the last one: judging it
    before then would show a half-written page. A read lease is refused (``EAGAIN``) exactly
    while anyone has the file open for writing; we drop it at once. If a writer opens the file
    in that instant, the kernel signals us with ``SIGURG`` (ignored) instead of ``SIGIO``.
    """
    if sys.platform != "linux":  # pragma: no cover - leases are Linux's; elsewhere, settle only
        return False
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        fcntl.fcntl(fd, fcntl.F_SETSIG, signal.SIGURG)
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
    except OSError as exc:  # not the file's owner, a file system without leases: we cannot tell
        return exc.errno == errno.EAGAIN
    finally:
        os.close(fd)
    return False


def walk(folder: Path, keep: Callable[[Path], bool], limit: int) -> Iterator[Path]:
    """Up to ``limit`` files under ``folder`` that ``keep`` accepts; names that are not valid
    text in the file system's encoding are skipped (watchfiles cannot report them either)."""
    for root, dirs, names in os.walk(folder):
        dirs[:] = [name for name in dirs if keep(Path(root, name)) and _decodable(name)]
        for name in names:
            path = Path(root, name)
            if _decodable(name) and keep(path):
                yield path
                limit -= 1
                if limit <= 0:
                    return


def _decodable(name: str) -> bool:
    try:
        name.encode()
    except UnicodeEncodeError:  # bytes that were not UTF-8 come back as lone surrogates
        return False
    return True
