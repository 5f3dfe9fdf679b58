"""``fastapi-hot-reload dev``: real supervisor, standby and forked workers on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from websockets.exceptions import ConnectionClosed

from fastapi_hot_reload._dev import cli as _dev
from fastapi_hot_reload._dev import standby as _standby
from fastapi_hot_reload._dev import supervisor as _supervisor

from .support.apps import page, write_app
from .support.server import Server, Tab

DEV = ("-m", "fastapi_hot_reload", "dev", "app:app")

APP = """
import asyncio
import os
import helper
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from fastapi_hot_reload import HotReload

templates = Jinja2Templates(directory="templates")
app = FastAPI()
app.add_middleware(HotReload, templates=templates)
VERSION = "one"


@app.get("/", response_class=HTMLResponse)
async def index(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "index.html")


@app.get("/version")
async def version() -> str:
    return VERSION + " " + helper.VALUE


@app.get("/lazy")
async def lazy() -> str:
    import lazy
    return lazy.VALUE


@app.get("/pid")
async def pid() -> int:
    return os.getpid()


@app.get("/slow")
async def slow() -> str:
    await asyncio.sleep(1)
    return VERSION


@app.get("/env")
async def env() -> str:
    return os.environ.get("GREETING", "unset")
"""


FACTORY = """
from fastapi import FastAPI, Request


def make() -> FastAPI:
    app = FastAPI()

    @app.get("/root")
    async def root(request: Request) -> str:
        return request.scope["root_path"]

    return app
"""


def write_dev_app(folder: Path) -> Path:
    files = {"helper.py": 'VALUE = "h1"\n', "lazy.py": 'VALUE = "l1"\n'}
    return write_app(folder, app=APP, files=files)


def installed(site: Path, name: str, source: str) -> dict[str, str]:
    """A module outside the project, as an installed package is; the env that finds it."""
    folder = site.parent / "installed"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.py").write_text(source)
    return {"PYTHONPATH": str(folder)}


def until(server: Server, path: str, wanted: str, timeout: float = 60) -> None:
    """Ask until ``path`` answers ``wanted``: a generous hang guard, not a timing goal."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = server.get(path).json()
        except httpx.HTTPError as error:  # no worker accepts yet: the request waits, then this
            last = error
        if last == wanted:
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} answered {last!r}, not {wanted!r}:\n{server.log}")


def edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return write_dev_app(tmp_path / "site")


@pytest.fixture
def start(site: Path) -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def run(*args: str, env: dict[str, str] | None = None) -> Server:
        started.append(Server(site, *args, command=DEV, env=env))
        until(started[-1], "/version", "one h1")
        return started[-1]

    yield run
    for server in started:
        server.stop()


def test_a_py_save_is_served_by_a_worker_forked_from_the_standby(
    site: Path, start: Callable[..., Server]
) -> None:
    server = start()
    edit(site / "app.py", 'VERSION = "one"', 'VERSION = "two"')
    until(server, "/version", "two h1")

    worker = psutil.Process(server.pid())
    standby = worker.parent()
    assert standby is not None and standby.ppid() == server.process.pid
    assert "fastapi_hot_reload._dev.standby" in " ".join(standby.cmdline())
    assert "app.py changed: reloading" in server.log


def test_an_edited_helper_module_is_never_stale(site: Path, start: Callable[..., Server]) -> None:
    server = start()
    for number in range(2, 5):  # the standby is rebuilt after the first worker reports
        edit(site / "helper.py", f'"h{number - 1}"', f'"h{number}"')
        until(server, "/version", f"one h{number}")


def test_a_module_imported_inside_a_function_is_fresh(
    site: Path, start: Callable[..., Server]
) -> None:
    server = start()
    assert server.get("/lazy").json() == "l1"
    edit(site / "lazy.py", '"l1"', '"l2"')
    until(server, "/lazy", "l2")


def test_a_syntax_error_is_shown_and_the_next_good_save_recovers(
    site: Path, start: Callable[..., Server]
) -> None:
    server = start()
    mark = len(server.lines)
    edit(site / "app.py", 'VERSION = "one"', 'VERSION = "two"\ndef broken(:')
    server.wait_for_log(r"SyntaxError", start=mark)
    server.wait_for_log(r"The app failed to start: fix it and save again", start=mark)
    assert 'File "' in server.log and "app.py" in server.log  # a traceback naming the file

    edit(site / "app.py", "\ndef broken(:", "")
    until(server, "/version", "two h1")


def test_requests_in_flight_during_a_switch_all_succeed(
    site: Path, start: Callable[..., Server]
) -> None:
    server = start()
    answers: list[object] = []

    def ask(path: str) -> None:
        try:
            answers.append(server.get(path).json())
        except httpx.HTTPError as error:
            answers.append(error)

    slow = [threading.Thread(target=ask, args=("/slow",)) for _ in range(3)]
    for thread in slow:
        thread.start()
    time.sleep(0.3)  # the slow requests are in the old worker's hands
    edit(site / "app.py", 'VERSION = "one"', 'VERSION = "two"')
    quick = []
    for _ in range(30):  # before, during and after the switch
        quick.append(threading.Thread(target=ask, args=("/version",)))
        quick[-1].start()
        time.sleep(0.05)
    for thread in slow + quick:
        thread.join(30)

    assert answers.count("one") == 3, answers  # the old worker finished its slow requests
    assert all(answer in ("one h1", "two h1", "one") for answer in answers), answers
    until(server, "/version", "two h1")


def test_websockets_get_1012_and_reconnect_to_a_new_boot(
    site: Path, start: Callable[..., Server]
) -> None:
    server = start()
    tab = Tab(server.ws_url)
    edit(site / "app.py", 'VERSION = "one"', 'VERSION = "two"')
    with pytest.raises(ConnectionClosed) as closed:
        tab.next(timeout=30)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
    tab.close()
    until(server, "/version", "two h1")
    again = Tab(server.ws_url)
    assert again.hello["boot"] != tab.hello["boot"]
    again.close()


def test_a_template_save_updates_in_the_worker_without_a_restart(
    site: Path, start: Callable[..., Server]
) -> None:
    server = start()
    worker = server.pid()
    tab = Tab(server.ws_url)
    page(site, "<h1>second</h1>")
    assert tab.next(timeout=30)["type"] == "page"  # refresh the page in place
    assert "second" in server.get("/").text
    assert server.pid() == worker
    tab.close()


def test_the_lifespan_runs_in_each_worker(site: Path, start: Callable[..., Server]) -> None:
    server = start()
    edit(site / "app.py", 'VERSION = "one"', 'VERSION = "two"')
    until(server, "/version", "two h1")
    assert server.log.count("Application startup complete") >= 2
    assert server.log.count("Application shutdown complete") >= 1


@pytest.mark.parametrize(
    ("signum", "everyone"),
    [(signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGINT, True)],
    ids=["SIGINT", "SIGTERM", "Ctrl+C (SIGINT to every process)"],
)
def test_a_signal_stops_every_process(
    site: Path, start: Callable[..., Server], signum: signal.Signals, everyone: bool
) -> None:
    server = start()
    edit(site / "app.py", 'VERSION = "one"', 'VERSION = "two"')
    until(server, "/version", "two h1")
    children = psutil.Process(server.process.pid).children(recursive=True)
    assert len(children) >= 2  # a standby and its worker, at least

    for process in [psutil.Process(server.process.pid), *children] if everyone else []:
        process.send_signal(signum)  # what a terminal does with its foreground group
    server.process.send_signal(signum)
    assert server.process.wait(30) == 0
    _, alive = psutil.wait_procs(children, timeout=10)
    assert alive == []


def test_an_env_file_change_is_read_by_a_new_standby(
    site: Path, start: Callable[..., Server]
) -> None:
    env = site.parent / "dev.env"  # outside the watched folder: watched on its own
    env.write_text("GREETING=hello\n")
    server = start("--env-file", str(env))
    assert server.get("/env").json() == "hello"
    env.write_text("GREETING=bonjour\n")
    until(server, "/env", "bonjour")
    assert "dev.env changed: a new standby imports everything again" in server.log


def test_a_changed_installed_module_rebuilds_the_standby(
    site: Path, start: Callable[..., Server]
) -> None:
    env = installed(site, "vendored", 'VALUE = "v1"\n')  # imported ahead by the standby
    edit(site / "helper.py", 'VALUE = "h1"', 'import vendored\nVALUE = "h1"')
    server = start(env=env)
    server.wait_for_log(r"Standby ready: \d+ modules imported ahead")  # vendored among them
    edit(site / "app.py", 'VERSION = "one"', 'VERSION = "two"')
    until(server, "/version", "two h1")

    installed(site, "vendored", 'VALUE = "v2"\n')  # pip install -U, as far as we can tell
    edit(site / "helper.py", 'VALUE = "h1"', "VALUE = vendored.VALUE")
    until(server, "/version", "two v2")
    assert "a new standby imports everything again" in server.log


def test_a_project_module_a_package_imports_is_still_imported_afresh(
    site: Path, start: Callable[..., Server]
) -> None:
    env = installed(site, "plugin", "import helper\n")  # entry points, plugin registries
    edit(site / "app.py", "import helper", "import helper, plugin")
    server = start(env=env)
    server.wait_for_log(r"standby: a package imported helper; workers import it afresh")
    edit(site / "helper.py", '"h1"', '"h2"')
    until(server, "/version", "one h2")


def test_no_fork_option_restarts_a_fresh_process_and_says_so_once(
    site: Path, start: Callable[..., Server]
) -> None:
    server = start("--no-fork")
    server.wait_for_log(r"Standby ready: \d+ modules imported ahead")
    for version in ("two", "three"):
        edit(site / "app.py", 'VERSION = "one"', f'VERSION = "{version}"')
        until(server, "/version", f"{version} h1")
        edit(site / "app.py", f'VERSION = "{version}"', 'VERSION = "one"')
        until(server, "/version", "one h1")

    assert psutil.Process(server.pid()).ppid() == server.process.pid  # no standby in between
    assert server.log.count("No fork (--no-fork was given)") == 1


def test_threads_started_by_a_package_make_it_fall_back(
    site: Path, start: Callable[..., Server]
) -> None:
    thread = "threading.Thread(target=time.sleep, args=(600,), daemon=True).start()"
    env = installed(site, "threaded", f"import threading, time\n{thread}\n")
    edit(site / "helper.py", 'VALUE = "h1"', 'import threaded\nVALUE = "h1"')
    server = start(env=env)
    server.wait_for_log(r"No fork \(the app's packages started 1 thread\(s\) on import\)")
    edit(site / "app.py", 'VERSION = "one"', 'VERSION = "two"')
    until(server, "/version", "two h1")


def test_without_fork_uvicorns_own_reloader_restarts_and_says_so(site: Path) -> None:
    script = (
        "import os, sys; del os.fork; from fastapi_hot_reload._dev.cli import main; "
        "main(sys.argv[1:])"
    )
    server = Server(site, command=("-c", script, "dev", "app:app"))
    try:
        until(server, "/version", "one h1")
        edit(site / "app.py", 'VERSION = "one"', 'VERSION = "two"')
        until(server, "/version", "two h1")
        assert "No fork on this platform: each reload starts a fresh process" in server.log
    finally:
        server.stop()


def test_uvicorn_options_reach_the_watcher_and_the_app(site: Path) -> None:
    (site / "sub").mkdir()
    (site / "sub" / "factory.py").write_text(FACTORY)
    args = ["--app-dir", "sub", "--factory", "--root-path", "/proxied"]
    args += ["--reload-include", "*.cfg", "--log-level", "debug"]
    server = Server(site, *args, command=("-m", "fastapi_hot_reload", "dev", "factory:make"))
    try:
        until(server, "/root", "/proxied")
        (site / "settings.cfg").write_text("[x]\n")
        server.wait_for_log(r"settings\.cfg changed: reloading")
    finally:
        server.stop()


def test_fork_is_refused_where_it_is_unsafe() -> None:
    assert _standby.fork_refusal(True, threads=1) is None
    assert _standby.fork_refusal(False) == "--no-fork was given"
    assert "macOS" in (_standby.fork_refusal(True, platform="darwin") or "")
    assert (
        _standby.fork_refusal(True, threads=3) == "the app's packages started 2 thread(s) on import"
    )


def test_thread_count_sees_this_process_threads() -> None:
    """Every OS thread, those C code started too (an earlier test may have left one that
    ``threading`` does not know); without ``/proc``, the threads Python knows."""
    before = _standby.thread_count()
    assert before >= threading.active_count()
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert _standby.thread_count() == before + 1
    finally:
        stop.set()
        thread.join()
    assert _standby.thread_count("/no/such/folder") == threading.active_count()


def test_project_modules_are_never_imported_ahead(tmp_path: Path) -> None:
    project = [tmp_path]
    assert _standby.is_project("app.routes", None, "app:app", project)
    assert _standby.is_project("helper", str(tmp_path / "helper.py"), "app:app", project)
    assert not _standby.is_project("json", sys.modules["json"].__file__, "app:app", project)
    assert not _standby.is_project("sys", None, "app:app", project)  # built in


def test_a_missing_module_file_does_not_make_a_standby_stale(tmp_path: Path) -> None:
    kept = tmp_path / "kept.py"
    kept.write_text("")
    started = kept.stat().st_mtime
    assert not _supervisor.changed_since({"kept": str(kept), "gone": "/no/such.py"}, started)
    os.utime(kept, (started + 5, started + 5))
    assert _supervisor.changed_since({"kept": str(kept), "builtin": None}, started)


def test_without_uvicorn_the_command_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    assert _dev.main(["dev", "app:app"]) == 2
    assert "pip install 'fastapi-hot-reload[dev]'" in capsys.readouterr().err


def test_a_missing_env_file_is_refused_in_plain_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        _dev.main(["dev", "app:app", "--env-file", str(tmp_path / "nope.env")])
    assert stopped.value.code == 2
    assert "nope.env': no such file" in capsys.readouterr().err
