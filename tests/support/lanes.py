"""Which lane the running test is in, so that a server or a browser started outside its lane
fails loudly instead of slowing the quick lane down."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

#: What the running test may start; outside a test (the benchmarks) everything is allowed.
_allowed = {"server": True, "browser": True}


@contextmanager
def entered(*, server: bool, browser: bool) -> Iterator[None]:
    before = dict(_allowed)
    _allowed.update(server=server, browser=browser)
    try:
        yield
    finally:
        _allowed.update(before)


def check(lane: str) -> None:
    """Raise unless the running test is marked ``lane``."""
    if not _allowed[lane]:
        raise AssertionError(
            f"this test starts a {lane} but is not marked {lane!r}: it would run in the quick "
            "lane; name the helper that starts it in tests/conftest.py's signs, or mark it"
        )
