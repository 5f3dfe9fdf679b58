"""Reliability under churn, dead peers, hostile frames, filesystem faults, shutdown and polling.

Bounded versions of issue 7 (small counts, seconds each); ``benchmarks/soak.py`` runs them at
full scale. The server is a real uvicorn process; its internals are observed from outside: open
file descriptors and memory through ``/proc/<pid>``, and the asyncio task count through a
``/debug/tasks`` route of the test app. Timeouts are hang guards, never timing assertions.
"""

from __future__ import annotations

import base64
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import anyio
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from fastapi_hot_reload._middleware.changes import watcher as _watcher

from .support.apps import BASE, page
from .support.probes import fds, inotify_watches, probe_app, raw_tab, rss_mib, tasks
from .support.server import Server, Tab, untimed

SHORT_PINGS = ("--ws-ping-interval", "1", "--ws-ping-timeout", "1")
SETTLE = 20.0  # seconds: hang guard for the server to get back to its baseline


@pytest.fixture(scope="module", autouse=True)
def _many_sockets() -> None:
    """Room for every socket a test opens, here and in the servers it starts."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))


@pytest.fixture
def probed(tmp_path: Path) -> Iterator[Server]:
    running = Server(probe_app(tmp_path / "site"))
    yield running
    running.stop()


@pytest.fixture
def pinging(tmp_path: Path) -> Iterator[Server]:
    """A server that pings every second and gives up on a peer silent for a second."""
    running = Server(probe_app(tmp_path / "site"), *SHORT_PINGS)
    yield running
    running.stop()


def settle(probe: Callable[[], int], target: int) -> int:
    """``probe()`` once it is at most ``target``, or its last value after ``SETTLE`` seconds."""
    deadline = time.monotonic() + SETTLE
    while (value := probe()) > target and time.monotonic() < deadline:
        time.sleep(0.05)
    return value


async def settles(probe: Callable[[], int], target: int) -> int:
    return await anyio.to_thread.run_sync(settle, probe, target)


def clean(log: str) -> bool:
    return "Traceback" not in log and "ERROR" not in log and "Exception" not in log


# Websocket clients.


@pytest.fixture
async def opened() -> AsyncIterator[list[ClientConnection]]:
    """The tabs a test opens, closed at its end whatever happened."""
    sockets: list[ClientConnection] = []
    yield sockets
    for socket_ in sockets:
        await socket_.close()


async def tab(server: Server, opened: list[ClientConnection]) -> ClientConnection:
    """An open tab that has read its ``hello``."""
    socket_ = await connect(server.ws_url, open_timeout=10, max_size=None)
    opened.append(socket_)
    assert '"hello"' in str(await socket_.recv())
    return socket_


async def next_message(socket_: ClientConnection) -> dict[str, object]:
    with anyio.fail_after(10):
        return untimed(json.loads(await socket_.recv()))


def read_to_end(peer: socket.socket) -> bytes:
    received = b""
    while chunk := peer.recv(4096):  # until the server closes the connection
        received += chunk
    return received


async def paced_saves(folder: Path, pacer: ClientConnection, count: int, start: int = 1) -> None:
    """``count`` saves of ``index.html``, each once the previous one reached ``pacer``."""
    for rev in range(start, start + count):
        page(folder, f"<h1>save {rev}</h1>")
        assert await next_message(pacer) == {"type": "page", "rev": rev, "paths": ["index.html"]}


# 1. Churn.


async def test_churn_every_staying_tab_hears_every_change_and_resources_return(
    tmp_path: Path, opened: list[ClientConnection]
) -> None:
    folder = probe_app(tmp_path / "site")
    server = Server(folder)
    try:
        first_tasks = tasks(server)
        warm = [
            await tab(server, opened) for _ in range(20)
        ]  # first connections import and allocate
        for socket_ in warm:
            await socket_.close()
        base_tasks = await settles(lambda: tasks(server), first_tasks)
        base_fds, base_rss = fds(server), rss_mib(server)

        staying = [await tab(server, opened) for _ in range(50)]
        churned = 0
        done = anyio.Event()

        async def churn() -> None:
            nonlocal churned
            while not done.is_set():
                socket_ = await tab(server, opened)
                await socket_.close()
                churned += 1

        async with anyio.create_task_group() as churners:
            for _ in range(4):
                churners.start_soon(churn)
            await paced_saves(folder, staying[0], 20)
            done.set()

        for socket_ in staying[1:]:
            revs = [(await next_message(socket_))["rev"] for _ in range(20)]
            assert revs == list(range(1, 21))
        for socket_ in staying:
            await socket_.close()

        assert churned > 0
        assert await settles(lambda: tasks(server), base_tasks) <= base_tasks
        assert await settles(lambda: fds(server), base_fds) <= base_fds
        assert rss_mib(server) < base_rss + 32  # leaks would show as several MiB per tab
        assert clean(server.log), server.log
    finally:
        server.stop()


# 2. Dead and stuck peers.


async def test_tab_that_stops_reading_is_dropped_and_the_others_hear_everything(
    pinging: Server, tmp_path: Path, opened: list[ClientConnection]
) -> None:
    probed = pinging
    good = await tab(probed, opened)
    base_tasks, base_fds = tasks(probed), fds(probed)
    stuck = raw_tab(probed)

    await paced_saves(tmp_path / "site", good, 5)

    assert await settles(lambda: tasks(probed), base_tasks) <= base_tasks
    assert await settles(lambda: fds(probed), base_fds) <= base_fds
    await paced_saves(tmp_path / "site", good, 1, start=6)
    probed.wait_for_log(r"page \(rev 6, 1 tabs\)")
    stuck.close()
    await good.close()
    assert clean(probed.log), probed.log


def test_frozen_browser_is_cleaned_up_by_the_ping_timeout(pinging: Server) -> None:
    """A stopped process: its kernel still acknowledges, but nothing answers the pings."""
    probed = pinging
    base_tasks, base_fds = tasks(probed), fds(probed)
    client = (
        "import time\nfrom websockets.sync.client import connect\n"
        f"with connect({probed.ws_url!r}) as ws: print(ws.recv(), flush=True); time.sleep(60)"
    )
    frozen = subprocess.Popen([sys.executable, "-c", client], stdout=subprocess.PIPE, text=True)
    try:
        assert frozen.stdout is not None
        assert '"hello"' in frozen.stdout.readline()
        assert tasks(probed) > base_tasks
        frozen.send_signal(signal.SIGSTOP)

        assert settle(lambda: tasks(probed), base_tasks) <= base_tasks
        assert settle(lambda: fds(probed), base_fds) <= base_fds
    finally:
        frozen.kill()
        frozen.wait()
        assert frozen.stdout is not None
        frozen.stdout.close()


async def test_aborted_connection_is_cleaned_up_without_pings(tmp_path: Path) -> None:
    server = Server(probe_app(tmp_path / "site"), "--ws-ping-interval", "0")
    try:
        base_tasks, base_fds = tasks(server), fds(server)
        peer = raw_tab(server)
        assert tasks(server) > base_tasks
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        peer.close()  # linger 0: a reset, no close frame, no FIN

        assert await settles(lambda: tasks(server), base_tasks) <= base_tasks
        assert await settles(lambda: fds(server), base_fds) <= base_fds
    finally:
        server.stop()


# 3. Hostile frames.


async def test_garbage_binary_and_flooded_frames_are_ignored(
    probed: Server, tmp_path: Path, opened: list[ClientConnection]
) -> None:
    good, hostile = await tab(probed, opened), await tab(probed, opened)
    base_rss = rss_mib(probed)

    await hostile.send("{not json")
    await hostile.send('{"type": "reload", "rev": 99}')
    await hostile.send(b"\x00\xff" * 1000)
    for number in range(5000):
        await hostile.send(f"flood {number}")
    await paced_saves(tmp_path / "site", good, 1)

    assert await next_message(hostile) == {"type": "page", "rev": 1, "paths": ["index.html"]}
    assert rss_mib(probed) < base_rss + 32
    assert clean(probed.log), probed.log


async def test_ten_megabyte_frames_are_ignored_and_memory_stays_bounded(
    probed: Server, tmp_path: Path, opened: list[ClientConnection]
) -> None:
    good, hostile = await tab(probed, opened), await tab(probed, opened)
    frame = base64.b64encode(os.urandom(7_500_000)).decode()  # 10 MB that do not compress
    await hostile.send(frame)
    await paced_saves(tmp_path / "site", good, 1)
    first_rss = rss_mib(probed)

    for _ in range(5):
        await hostile.send(frame)
    await paced_saves(tmp_path / "site", good, 1, start=2)

    assert [(await next_message(hostile))["rev"] for _ in range(2)] == [1, 2]
    assert rss_mib(probed) < first_rss + 48  # five more frames, kept, would be 100 MB more
    assert clean(probed.log), probed.log


async def test_oversized_frame_closes_only_that_socket(
    probed: Server, tmp_path: Path, opened: list[ClientConnection]
) -> None:
    good, hostile = await tab(probed, opened), await tab(probed, opened)

    await hostile.send("x" * (17 * 1024 * 1024))  # over uvicorn's --ws-max-size (16 MiB)

    with pytest.raises(ConnectionClosed) as closed:
        await next_message(hostile)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009  # message too big
    await paced_saves(tmp_path / "site", good, 1)


async def test_bytes_that_are_no_websocket_frame_close_that_socket(
    probed: Server, tmp_path: Path, opened: list[ClientConnection]
) -> None:
    good = await tab(probed, opened)
    base_tasks = tasks(probed)
    peer = raw_tab(probed)
    hello = peer.recv(4096)  # before the garbage: an older uvicorn may close before it is sent

    peer.sendall(b"\xff\xff not a websocket frame \r\n" * 10)  # reserved bits, unmasked

    received = await anyio.to_thread.run_sync(read_to_end, peer)
    _, close = received.split(b"\x88", 1)  # a close frame, then the end of the stream
    assert b'"hello"' in hello
    assert close[1:3] == (1002).to_bytes(2, "big")  # protocol error
    peer.close()
    assert await settles(lambda: tasks(probed), base_tasks) <= base_tasks
    await paced_saves(tmp_path / "site", good, 1)


# 4. Filesystem faults.


async def test_template_folder_deleted_and_recreated_reloads_and_renders(
    probed: Server, tmp_path: Path, opened: list[ClientConnection]
) -> None:
    templates = tmp_path / "site" / "templates"
    good = await tab(probed, opened)

    shutil.rmtree(templates)
    probed.wait_for_log(r"not watching .*templates: no such folder")
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "base.html").write_text(BASE)
    (fresh / "index.html").write_text(
        '{% extends "base.html" %}{% block content %}<h1>back again</h1>{% endblock %}'
    )
    logged = len(probed.lines)
    fresh.rename(templates)  # the whole folder appears at once
    probed.wait_for_log(r"watching .*templates again", start=logged)

    # A reload (the folder itself changed), or a page update when the deletion was judged only
    # once the folder was back (a loaded machine): either way its tabs show the new templates.
    line = probed.wait_for_log(r"(reload|page) \(rev \d+.*index\.html", start=logged)
    rev = int(re.search(r"rev (\d+)", line)[1])  # type: ignore[index]
    while (await next_message(good))["rev"] != rev:
        pass  # the deletion's reloads come first
    assert "<h1>back again</h1>" in probed.get().text
    page(tmp_path / "site", "<h1>edited</h1>")
    assert (await next_message(good))["paths"] == ["index.html"]


def _without_read_override() -> list[str] | None:
    """A command prefix under which this process's files are honestly unreadable, or ``None``."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    prefix = [setpriv, "--bounding-set", "-dac_override,-dac_read_search"]
    probe = subprocess.run([*prefix, "true"], capture_output=True, check=False)
    return prefix if probe.returncode == 0 else None


def test_unreadable_folders_are_skipped_and_the_rest_still_reloads(tmp_path: Path) -> None:
    prefix = _without_read_override()
    if prefix is None:
        pytest.skip("running as root without setpriv: a folder without read permission is readable")
    folder = probe_app(tmp_path / "site", 'watch=["static", "locked"]')
    (folder / "locked").mkdir()
    (folder / "templates" / "private").mkdir()
    locked = [folder / "locked", folder / "templates" / "private"]
    for path in locked:
        path.chmod(0)
    server = Server(folder, prefix=prefix)
    try:
        server.wait_for_log(r"WARNING.*not watching .*locked: no permission to read it")
        browser_tab = Tab(server.ws_url)
        page(folder, "<h1>changed</h1>")
        assert browser_tab.next() == {"type": "page", "rev": 1, "paths": ["index.html"]}
        browser_tab.close()
        assert "cannot watch" not in server.log
    finally:
        server.stop()
        for path in locked:
            path.chmod(0o755)


def test_unreadable_folder_warning_names_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(path: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(os, "scandir", refuse)
    _watcher._warn_if_unreadable(tmp_path)

    assert f"not watching {tmp_path}: no permission to read it" in caplog.text


async def test_symlinked_template_folder_reloads(
    tmp_path: Path, opened: list[ClientConnection]
) -> None:
    folder = probe_app(tmp_path / "site")
    real = tmp_path / "shared-templates"
    shutil.move(folder / "templates", real)
    (folder / "templates").symlink_to(real, target_is_directory=True)
    server = Server(folder)
    try:
        good = await tab(server, opened)
        page(folder, "<h1>through the link</h1>")  # written through the symlink
        assert await next_message(good) == {"type": "page", "rev": 1, "paths": ["index.html"]}
        (real / "base.html").write_text((real / "base.html").read_text() + "<!-- real -->")
        assert await next_message(good) == {"type": "page", "rev": 2, "paths": ["base.html"]}
        assert "<h1>through the link</h1>" in server.get().text
    finally:
        server.stop()


async def test_large_template_tree_is_watched(
    tmp_path: Path, opened: list[ClientConnection]
) -> None:
    folder = probe_app(tmp_path / "site")
    for section in range(50):
        sub = folder / "templates" / f"section{section}" / "parts"
        sub.mkdir(parents=True)
        for number in range(40):
            (sub / f"part{number}.html").write_text(f"<p>{section}/{number}</p>\n")
    server = Server(folder)  # 2,000 files in 101 folders
    try:
        assert (
            inotify_watches(server.process.pid) == 1 + 100 + 1
        )  # templates/, its folders, static/
        good = await tab(server, opened)
        (folder / "templates" / "section49" / "parts" / "part39.html").write_text("<p>new</p>")
        assert await next_message(good) == {
            "type": "page",
            "rev": 1,
            "paths": ["section49/parts/part39.html"],
        }
    finally:
        server.stop()


async def test_node_modules_inside_templates_is_neither_reloaded_nor_compiled(
    probed: Server, tmp_path: Path, opened: list[ClientConnection]
) -> None:
    package = tmp_path / "site" / "templates" / "node_modules" / "some-package"
    package.mkdir(parents=True)
    good = await tab(probed, opened)

    (package / "index.html").write_text("{% if %}broken on purpose")
    (package / "readme.md").write_text("# a package")
    await paced_saves(tmp_path / "site", good, 1)  # the next message is this save's

    assert "not reloading" not in probed.log


# 5. Shutdown.


async def test_shutdown_with_many_tabs_closes_every_socket_with_1012(
    probed: Server, opened: list[ClientConnection]
) -> None:
    open_tabs = [await tab(probed, opened) for _ in range(100)]

    probed.process.terminate()
    await anyio.to_thread.run_sync(probed.process.wait, 10.0)  # a hang guard

    for socket_ in open_tabs:
        await socket_.wait_closed()
        assert socket_.close_code == 1012
    assert clean(probed.log), probed.log


# 6. Polling, for bind mounts where file events never arrive.


def save_in_a_new_second(folder: Path, body: str) -> None:
    """Polling sees a save only once the clock reaches a new second (watchfiles issue 319)."""
    time.sleep(1.05 - time.time() % 1)
    page(folder, body)


@pytest.mark.parametrize(
    ("options", "env"),
    [
        ('watch=["static"]', {"WATCHFILES_FORCE_POLLING": "true"}),
        ('watch=["static"], force_polling=True', {}),
    ],
    ids=["environment", "option"],
)
async def test_polling_reloads_without_file_events(
    tmp_path: Path, options: str, env: dict[str, str], opened: list[ClientConnection]
) -> None:
    folder = probe_app(tmp_path / "site", options)
    server = Server(folder, env=env)
    try:
        server.wait_for_log("hot reload on")
        assert inotify_watches(server.process.pid) is None  # no file events: polling
        good = await tab(server, opened)
        for rev in (1, 2):
            await anyio.to_thread.run_sync(save_in_a_new_second, folder, f"<h1>{rev}</h1>")
            assert await next_message(good) == {
                "type": "page",
                "rev": rev,
                "paths": ["index.html"],
            }
        assert "<h1>2</h1>" in server.get().text
    finally:
        server.stop()


@pytest.mark.xfail(
    strict=True,
    reason="watchfiles polling compares whole-second mtimes: samuelcolvin/watchfiles#319",
)
async def test_polling_sees_a_second_save_within_the_same_second(
    tmp_path: Path, opened: list[ClientConnection]
) -> None:
    folder = probe_app(tmp_path / "site", 'watch=["static"], force_polling=True')
    server = Server(folder)
    try:
        good = await tab(server, opened)
        await anyio.to_thread.run_sync(save_in_a_new_second, folder, "<h1>first</h1>")
        assert (await next_message(good))["rev"] == 1
        page(folder, "<h1>second</h1>")  # well within the same second, unless the clock is slow

        with anyio.fail_after(3):  # a dozen polls
            assert '"rev":2' in str(await good.recv())
    finally:
        server.stop()


def test_without_polling_the_watcher_uses_file_events(probed: Server) -> None:
    """The check above can tell: a default server holds inotify watches."""
    probed.wait_for_log("hot reload on")
    assert inotify_watches(probed.process.pid) == 2  # templates/, static/
