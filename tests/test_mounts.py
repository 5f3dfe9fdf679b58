"""Folders on WSL, Docker Desktop and network mounts are polled, found from the mount table."""

from __future__ import annotations

from collections.abc import Awaitable
from contextlib import suppress
from pathlib import Path
from typing import Any

import jinja2
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from fastapi_hot_reload import HotReload
from fastapi_hot_reload._middleware.changes import mounts as _mounts
from fastapi_hot_reload._middleware.changes import pipeline as _changes

from .support.server import Server, Tab

#: Real lines, trimmed: WSL2 with a Windows drive, Docker Desktop on a Mac with three kinds of
#: bind mount, an NFS home, a space in a path, and optional fields before the separator.
TABLE = r"""
1 0 8:32 / / rw,relatime shared:1 - ext4 /dev/sdc rw,discard
2 1 0:45 / /mnt/c rw,noatime - 9p drvfs rw,dirsync,aname=drvfs;path=C:\
11 1 0:73 / /broken rw -
3 1 0:46 / /mnt/wsl1 rw - drvfs C:\ rw
4 1 0:60 /Users/me/site /app rw,relatime - fakeowner /run/host_mark/Users rw
5 1 0:61 /Users/me/old /grpc rw,nosuid - fuse.grpcfuse grpcfuse rw,user_id=0
6 1 0:62 / /virtio rw master:3 propagate_from:2 - virtiofs myfs rw
7 1 0:70 / /home nfs4 rw shared:5 - nfs4 server:/home rw,vers=4.2
8 1 8:33 / /srv/my\040site rw - ext4 /dev/sdd rw
9 8 0:71 / /srv/my\040site/templates rw - cifs //nas/t rw
10 1 0:72 / /mnt/nodes rw,relatime - tmpfs tmpfs rw
"""


def kind(folder: str) -> str | None:
    return _mounts.no_event_mount(Path(folder), _mounts.mounts(TABLE))


@pytest.mark.parametrize(
    ("folder", "expected"),
    [
        ("/mnt/c/Users/me/site/templates", "9p"),
        ("/mnt/wsl1/site", "drvfs"),
        ("/app/templates", "fakeowner"),
        ("/grpc", "fuse.grpcfuse"),
        ("/virtio/x", "virtiofs"),
        ("/home/me/site", "nfs4"),
        ("/srv/my site", "cifs"),  # a share mounted inside the folder
        ("/mnt", "9p"),
    ],
)
def test_folders_where_events_do_not_arrive_are_found(folder: str, expected: str) -> None:
    assert kind(folder) == expected


@pytest.mark.parametrize("folder", ["/srv/app", "/srv/my site/static", "/mnt/nodes"])
def test_local_folders_are_left_to_events(folder: str) -> None:
    assert kind(folder) is None


def test_this_machines_own_table_reads(tmp_path: Path) -> None:
    table = _mounts.mounts(_mounts.MOUNTINFO.read_text())

    assert Path("/") in [point for point, _ in table]
    assert _mounts.no_event_mount(tmp_path, table) is None


@pytest.fixture
def on_9p(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A site whose folder the mount table says is a Windows drive under WSL."""
    site = tmp_path / "site"
    (site / "templates").mkdir(parents=True)
    (site / "templates" / "index.html").write_text("<body>first</body>")
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(
        "1 0 8:32 / / rw - ext4 /dev/sdc rw\n"
        f"2 1 0:45 / {site} rw - 9p drvfs rw,aname=drvfs;path=C:\\\n"
    )
    monkeypatch.setattr(_mounts, "MOUNTINFO", mountinfo)
    return site


def watching(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[Path], bool | None]]:
    """Record each watch the middleware starts, and start it for real."""
    calls: list[tuple[list[Path], bool | None]] = []
    real = _changes.watch_folders  # type: ignore[attr-defined]

    def spy(folders: list[Path], *args: Any, force_polling: bool | None) -> Awaitable[None]:
        calls.append((list(folders), force_polling))
        return real(folders, *args, force_polling=force_polling)

    monkeypatch.setattr(_changes, "watch_folders", spy)
    return calls


def app(site: Path, **options: Any) -> TestClient:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(site / "templates"))
    return TestClient(HotReload(Starlette(), templates=env, **options))


def test_only_the_folder_on_a_windows_drive_is_polled_and_both_update(app_dir: Path) -> None:
    """A real server whose mount table says ``static/`` is a Windows drive under WSL."""
    static = (app_dir / "static").resolve()
    (app_dir / "mountinfo").write_text(
        f"1 0 8:32 / / rw - ext4 /dev/sdc rw\n2 1 0:45 / {static} rw - 9p drvfs rw\n"
    )
    with (app_dir / "app.py").open("a") as app_py:
        app_py.write("\nfrom fastapi_hot_reload._middleware.changes import mounts as _mounts\n")
        app_py.write("_mounts.MOUNTINFO = _mounts.Path('mountinfo').resolve()\n")
    server = Server(app_dir)
    try:
        said = server.wait_for_log("polling")
        tab = Tab(server.ws_url)
        assert f"polling {static} (9p): file events do not arrive" in said
        assert tab_hears(tab, app_dir / "static" / "style.css", "h1 {{}} /* {} */")["type"] == "css"
        assert tab_hears(tab, app_dir / "templates" / "index.html", "<p>{}</p>")["type"] == "page"
        tab.close()
    finally:
        server.stop()


def tab_hears(tab: Tab, path: Path, text: str) -> dict[str, object]:
    """Save ``path`` until the tab hears of it: a poller's first scan may come after a save."""
    for attempt in range(30):  # a hang guard, not a timing goal
        path.write_text(text.format(attempt))
        with suppress(TimeoutError):
            return tab.next(timeout=1)
    raise AssertionError(f"no message for {path}")


@pytest.mark.parametrize("force_polling", [False, True])
def test_an_explicit_force_polling_is_obeyed(
    on_9p: Path, monkeypatch: pytest.MonkeyPatch, force_polling: bool
) -> None:
    calls = watching(monkeypatch)
    with app(on_9p, force_polling=force_polling):
        pass

    # The folder is watched once, as asked: no second, polling watch of its own.
    assert calls == [([(on_9p / "templates").resolve()], force_polling)]


def test_without_a_mount_table_nothing_is_polled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_mounts, "MOUNTINFO", tmp_path / "no-such-file")  # macOS, Windows

    assert _mounts.polled([tmp_path], None) == []
