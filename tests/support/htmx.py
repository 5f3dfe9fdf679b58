"""The real htmx, from the npm registry at test setup (never committed), cached between runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

#: The htmx release line the tests and examples run against.
VERSION = "2.0.11"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "fastapi-hot-reload"


def htmx_js() -> Path:
    """``htmx.min.js`` of ``VERSION``, fetched once with ``npm pack`` into a user cache folder."""
    target = CACHE / f"htmx-{VERSION}.min.js"
    if target.is_file():
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("the htmx tests need npm (Node.js) to fetch htmx.org from the registry")
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            [npm, "pack", f"htmx.org@{VERSION}", "--silent"],
            cwd=folder,
            check=True,
            timeout=120,
            stdout=subprocess.DEVNULL,
        )
        with tarfile.open(next(Path(folder).glob("htmx.org-*.tgz"))) as archive:
            member = archive.extractfile("package/dist/htmx.min.js")
            assert member is not None
            partial = target.with_suffix(".part")
            partial.write_bytes(member.read())
            partial.replace(target)  # atomic: a parallel run never reads half a file
    return target
