"""Links that open a file at a line in the developer's editor: presets and URL templates."""

from __future__ import annotations

import os
import string
from pathlib import Path
from urllib.parse import urlsplit

ENV_VAR = "FASTAPI_HOT_RELOAD_EDITOR"

#: URL templates of the editors that register a URL scheme. ``{file}`` is the absolute path as a
#: URL path (it starts with ``/``, even on Windows: ``/C:/...``), percent-encoded.
PRESETS = {
    "vscode": "vscode://file{file}:{line}",
    "vscode-insiders": "vscode-insiders://file{file}:{line}",
    "vscodium": "vscodium://file{file}:{line}",
    "cursor": "cursor://file{file}:{line}",
    "windsurf": "windsurf://file{file}:{line}",
    "zed": "zed://file{file}:{line}",
    # JetBrains IDEs (through the Toolbox): https://youtrack.jetbrains.com/issue/IDEA-65879
    "pycharm": "pycharm://open?file={file}&line={line}",
    "idea": "idea://open?file={file}&line={line}",
    "sublime": "subl://open?url=file://{file}&line={line}",
    "textmate": "txmt://open?url=file://{file}&line={line}",
}
_FIELDS = {"file", "line"}
#: Schemes that run in the page or read from it, never an editor's: refused.
REFUSED_SCHEMES = ("javascript", "data", "vbscript", "file")


def editor_template(editor: str | None) -> str | None:
    """The URL template for ``editor`` (a preset name or a template), or ``None`` for no links.

    ``None`` reads ``FASTAPI_HOT_RELOAD_EDITOR``; unset or empty means no links.
    """
    where = "editor"
    if editor is None:
        editor, where = os.environ.get(ENV_VAR, ""), ENV_VAR
    editor = editor.strip()
    if not editor:
        return None
    if editor.lower() in PRESETS:
        return PRESETS[editor.lower()]
    _check_template(editor, where)
    return editor


def _check_template(template: str, where: str) -> None:
    names = ", ".join(PRESETS)
    example = "'myeditor://open?file={file}&line={line}'"
    if "{file}" not in template or not urlsplit(template).scheme:
        raise ValueError(
            f"{where}: {template!r} is neither an editor ({names}) nor a URL template with "
            f"{{file}} and {{line}} in it, such as {example}"
        )
    if any(
        char <= " " or char == "\x7f" for char in template
    ):  # a browser drops tabs: java\tscript
        raise ValueError(f"{where}: {template!r} has spaces or control characters in it")
    if (scheme := urlsplit(template).scheme.lower()) in REFUSED_SCHEMES:
        raise ValueError(
            f"{where}: {template!r} is a {scheme}: URL, which would run in the page, not open "
            f"an editor; give the editor's own scheme, such as {example}"
        )
    try:
        fields = {field for _, field, _, _ in string.Formatter().parse(template)}
    except ValueError as exc:
        raise ValueError(f"{where}: {template!r} is not a valid URL template: {exc}") from None
    if unknown := fields - _FIELDS - {None}:
        shown = ", ".join(sorted(f"{{{field}}}" for field in unknown if field is not None))
        raise ValueError(f"{where}: {template!r} uses {shown}: only {{file}} and {{line}} exist")


def editor_url(template: str | None, file: str | os.PathLike[str], line: int | None) -> str | None:
    """The link that opens ``file`` at ``line`` (1 when unknown), by its real absolute path."""
    if template is None:
        return None
    path = urlsplit(Path(file).resolve().as_uri()).path
    return template.format(file=path, line=line or 1)
