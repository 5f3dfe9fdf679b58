"""The short history of changes that lets a reconnecting tab catch up on exactly what it missed."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from fastapi_hot_reload import HotReload
from fastapi_hot_reload._middleware.changes.history import History
from fastapi_hot_reload._middleware.routes import _tab_rev

from .support.server import untimed


def change(rev: int) -> dict[str, object]:
    return {"type": "reload", "rev": rev, "paths": [f"{rev}.html"]}


def test_since_gives_every_change_after_a_rev_while_all_are_remembered() -> None:
    history = History(size=3)
    for rev in range(1, 5):
        history.add(change(rev))

    assert history.since(4, now=4) == []
    assert history.since(2, now=4) == [change(3), change(4)]
    assert history.since(1, now=4) == [change(2), change(3), change(4)]
    assert history.since(0, now=4) is None  # rev 1 is forgotten: the tab must simply update


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (b"rev=1", {"missed": [change(2)]}),
        (b"rev=2", {"missed": []}),
        (b"", {}),  # an older client: it compares revs itself
        (b"rev=abc", {}),
        (b"rev=-1", {}),
        (b"rev=9", {}),  # from the future: another server process
        (b"rev=%C2%B2", {}),  # a digit to str.isdigit, not to int()
    ],
)
def test_missed_reads_the_tabs_rev_from_the_query(query: bytes, expected: object) -> None:
    history = History()
    history.add(change(1))
    history.add(change(2))

    assert history.missed(_tab_rev({"query_string": query}), now=2) == expected


def test_hello_carries_the_changes_the_tab_missed(tmp_path: Path) -> None:
    app = HotReload(Starlette(), watch=[tmp_path])
    with TestClient(app) as client:
        app._running.changes.outbox.send("reload", ["notes.md"])
        app._running.changes.outbox.send("reload", ["app.js"], {"scripts": ["app.js"]})
        with client.websocket_connect("/__hot_reload__/ws?rev=1") as socket:
            hello = socket.receive_json()

    hello["missed"] = [untimed(message) for message in hello["missed"]]
    assert hello == {
        "type": "hello",
        "boot": app._running.boot,
        "rev": 2,
        "missed": [{"type": "reload", "rev": 2, "paths": ["app.js"], "scripts": ["app.js"]}],
    }


def test_a_new_lifespan_forgets_the_old_changes(tmp_path: Path) -> None:
    app = HotReload(Starlette(), watch=[tmp_path])
    with TestClient(app):
        app._running.changes.outbox.send("reload", ["notes.md"])
    with TestClient(app) as client, client.websocket_connect("/__hot_reload__/ws?rev=0") as socket:
        assert socket.receive_json()["missed"] == []
