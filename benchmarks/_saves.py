"""Saves as editors make them, each starting its clock just before the first byte is written."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path

Save = Callable[[Path, str], float]


def in_place(path: Path, text: str) -> float:
    """Overwrite the open file and cut what is left (VS Code, most editors); the start time."""
    with path.open("r+") as file:
        started = time.perf_counter()
        file.write(text)
        file.truncate()
    return started


def atomic(path: Path, text: str) -> float:
    """Write a temporary file beside it, then rename it over (JetBrains, many tools)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    started = time.perf_counter()
    temporary.write_text(text)
    os.replace(temporary, path)
    return started


STYLES: dict[str, Save] = {"in-place": in_place, "atomic": atomic}


def retitle(page: str, title: str) -> str:
    """The page template with another text in its ``<h1 id="title">``."""
    return re.sub(r'<h1 id="title">[^<]*</h1>', f'<h1 id="title">{title}</h1>', page)


def reversion(app: str, version: str) -> str:
    """The app's source with another ``VERSION``."""
    return re.sub(r'VERSION = "[^"]*"', f'VERSION = "{version}"', app)
