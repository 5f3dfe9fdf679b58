"""A contestant's app on disk, served by a real reloading dev server process on 127.0.0.1 (the
tests' ``Server``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tests.support.apps import write_app
from tests.support.server import STARTED, UVICORN_RELOAD, Server

APPS = Path(__file__).parent / "apps"


def write_site(folder: Path, app_file: str, script_file: str | None) -> Path:
    """``folder/app.py`` and ``folder/templates/index.html`` for one contestant."""
    script = (APPS / script_file).read_text() if script_file else ""
    page = (APPS / "page.html").read_text().replace("{# SCRIPT #}\n", script)
    app = (APPS / app_file).read_text()
    return write_app(folder, app=app, files={"templates/index.html": page})


def reloading(
    folder: Path,
    *args: str,
    env: dict[str, str] | None = None,
    command: Sequence[str] = UVICORN_RELOAD,
) -> Server:
    """``uvicorn app:app --reload`` (or ``command``) in ``folder``, once its worker serves."""
    return Server(folder, *args, env=env, command=command, ready=STARTED)
