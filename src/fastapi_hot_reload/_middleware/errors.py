"""Template errors shown to the developer: syntax errors found on save, and a page for errors raised
while rendering, each with the file, the line and the source around it."""

from __future__ import annotations

import html
import re
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2

from .editor import editor_url

#: Lines of source shown on either side of the line in error.
CONTEXT_LINES = 3


def describe(
    exc: BaseException, file: Path | None, line: int | None, name: str | None = None
) -> dict[str, Any]:
    """The ``error`` message's body: what went wrong, where, and the source around it."""
    message = getattr(exc, "message", None) or str(exc)
    return {
        "template": name,
        "file": str(file) if file else None,
        "line": line,
        "message": f"{type(exc).__name__}: {message}",
        "source": source_around(file, line),
    }


def source_around(file: Path | None, line: int | None) -> list[list[Any]]:
    """``[[number, text], ...]`` for the lines around ``line`` of ``file``."""
    if file is None or line is None:
        return []
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    first = max(1, line - CONTEXT_LINES)
    return [
        [number, lines[number - 1]]
        for number in range(first, min(len(lines), line + CONTEXT_LINES) + 1)
    ]


def template_frame(exc: BaseException, folders: Sequence[Path]) -> tuple[Path | None, int | None]:
    """The template file and line an exception came from, if it came from a template.

    Jinja rewrites tracebacks so that frames inside templates name the template file and line.
    """
    if isinstance(exc, jinja2.TemplateSyntaxError) and exc.filename:
        return Path(exc.filename).resolve(), exc.lineno
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        file = Path(frame.filename).resolve()
        if any(file.is_relative_to(folder) for folder in folders):
            return file, frame.lineno
    return None, None


def error_page(exc: BaseException, folders: Sequence[Path], tag: str, editor: str | None) -> bytes:
    """A development error page: the exception, template file and line, source, traceback.

    It carries the client tag, so the tab reloads by itself once the file is fixed. With an
    ``editor`` URL template, each file and line links to it.
    """
    file, line = template_frame(exc, folders)
    error = describe(exc, file, line)
    where = f"<p class=where>{_linked(f'{file}:{line}', editor, file, line)}</p>" if file else ""
    source = "".join(
        f"<span{' class=hit' if number == line else ''}>{number:>5}  {html.escape(text)}\n</span>"
        for number, text in error["source"]
    )
    trace = _traceback_html(exc, editor)
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>500 {html.escape(type(exc).__name__)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{html.escape(error['message'])}</h1>{where}"
        f"{f'<pre class=source>{source}</pre>' if source else ''}"
        "<p>Fix the file and save: this page reloads by itself.</p>"
        f"<details><summary>Traceback</summary><pre>{trace}</pre></details>{tag}</body></html>"
    ).encode()


#: A frame's place in a formatted traceback: ``File "/app/views.py", line 12``.
_FRAME = re.compile(r'File "([^"\n]+)", line (\d+)')


def _traceback_html(exc: BaseException, editor: str | None) -> str:
    """The formatted traceback, escaped, with each frame's file and line linked to the editor."""
    text = "".join(traceback.format_exception(exc))
    parts, at = [], 0
    for found in _FRAME.finditer(text):
        file, line = found[1], int(found[2])
        real = editor is not None and Path(file).is_absolute() and Path(file).is_file()
        parts += [
            html.escape(text[at : found.start()]),
            _linked(found[0], editor if real else None, file, line),
        ]
        at = found.end()
    return "".join([*parts, html.escape(text[at:])])


def _linked(text: str, editor: str | None, file: str | Path, line: int | None) -> str:
    """``text``, escaped, as a link to ``file:line`` in the editor when there is one."""
    url = editor_url(editor, file, line)
    if url is None:
        return html.escape(text)
    return f'<a href="{html.escape(url)}">{html.escape(text)}</a>'


_STYLE = (
    "body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;"
    "color:#1d1d1f}h1{font-size:1.3rem;color:#b00020;white-space:pre-wrap}"
    "pre{background:#f6f6f8;padding:1rem;overflow:auto;font:13px/1.45 ui-monospace,monospace}"
    ".where{font-family:ui-monospace,monospace}a{color:#0645ad}.hit{background:#ffe3e3;display:block}"
)
