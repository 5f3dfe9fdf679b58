"""A real uvicorn stopped by Ctrl+C or restarted by ``--reload``: a clean log every time."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from .support.server import Server, Tab


def interrupt(server: Server) -> str:
    """Ctrl+C, as a terminal sends it; the whole log once the process has exited."""
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(30) == 0
    server.stop()
    return server.log


@pytest.mark.parametrize("tabs", [0, 1])
def test_ctrl_c_shuts_down_without_lifespan_unsupported(app_dir: Path, tabs: int) -> None:
    server = Server(app_dir)
    server.wait_for_log("hot reload on")
    opened = [Tab(server.ws_url) for _ in range(tabs)]

    log = interrupt(server)

    for tab in opened:
        tab.close()
    assert "Application shutdown complete" in log
    assert "Finished server process" in log
    assert "unsupported" not in log
    assert "Traceback" not in log


def test_reload_restarts_and_ctrl_c_leave_no_lifespan_unsupported(app_dir: Path) -> None:
    server = Server(app_dir, "--reload")
    server.wait_for_log("hot reload on")
    for restart in range(2):
        before = len(server.lines)
        with (app_dir / "app.py").open("a") as app:
            app.write(f"\n# restart {restart}\n")
        server.wait_for_log("hot reload on", start=before)

    log = interrupt(server)

    assert log.count("Finished server process") == 3
    assert "unsupported" not in log
    assert "Traceback" not in log
