"""The hub: one encode per broadcast, a bounded queue per tab, slow tabs dropped."""

from __future__ import annotations

import json

import anyio
import pytest

from fastapi_hot_reload._middleware.hub import Hub


async def test_broadcast_reaches_every_subscribed_tab() -> None:
    hub = Hub()
    with hub.subscribe() as first, hub.subscribe() as second:
        assert hub.broadcast({"type": "reload", "rev": 1}) == 2
        assert json.loads(first.receive_nowait()) == {"type": "reload", "rev": 1}
        assert json.loads(second.receive_nowait()) == {"type": "reload", "rev": 1}
    assert len(hub) == 0


async def test_a_tab_that_cannot_keep_up_is_dropped_and_others_still_hear() -> None:
    hub = Hub(buffer=2)
    with hub.subscribe() as slow, hub.subscribe() as fast:
        for rev in range(3):
            hub.broadcast({"rev": rev})
            assert json.loads(fast.receive_nowait()) == {"rev": rev}

        assert len(hub) == 1
        assert [json.loads(slow.receive_nowait()) for _ in range(2)] == [{"rev": 0}, {"rev": 1}]
        try:
            slow.receive_nowait()
        except anyio.EndOfStream:
            pass
        else:  # pragma: no cover - the assertion below reports it
            raise AssertionError("the dropped tab's queue is still open")


async def test_unsubscribed_tab_hears_nothing_more() -> None:
    hub = Hub()
    with hub.subscribe():
        pass

    assert hub.broadcast({"rev": 1}) == 0


async def test_send_reaches_only_the_tab_subscribed_under_that_name() -> None:
    hub = Hub()
    with hub.subscribe("page-1") as named, hub.subscribe() as other:
        assert hub.send("page-1", {"type": "log"})
        assert not hub.send("page-2", {"type": "log"})

        assert json.loads(named.receive_nowait()) == {"type": "log"}
        with pytest.raises(anyio.WouldBlock):
            other.receive_nowait()
    assert not hub.send("page-1", {"type": "log"})


async def test_a_name_belongs_to_the_first_socket_that_claims_it() -> None:
    """A second socket with a tab's id (another client that learned it) gets none of its
    messages; once the first has gone, the next one to claim the name gets them."""
    hub = Hub()
    with hub.subscribe("page") as first:
        with hub.subscribe("page") as second:
            assert hub.send("page", {"n": 1})
            assert json.loads(first.receive_nowait()) == {"n": 1}
            with pytest.raises(anyio.WouldBlock):
                second.receive_nowait()
        assert hub.send("page", {"n": 2})  # the second left: the first still holds the name
        assert json.loads(first.receive_nowait()) == {"n": 2}
    assert not hub.claimed("page")
    with hub.subscribe("page") as again:
        assert hub.send("page", {"n": 3})
        assert json.loads(again.receive_nowait()) == {"n": 3}


async def test_send_to_a_tab_that_cannot_keep_up_drops_it() -> None:
    hub = Hub(buffer=1)
    with hub.subscribe("page"):
        assert hub.send("page", {"n": 1})
        assert hub.send("page", {"n": 2})  # the queue is full: the tab is dropped
        assert len(hub) == 0
        assert not hub.send("page", {"n": 3})
