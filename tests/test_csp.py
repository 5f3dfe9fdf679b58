"""A page's Content-Security-Policy: the nonce the tag carries, the warning for a blocked socket."""

from __future__ import annotations

import logging

import pytest

from fastapi_hot_reload._middleware.csp import Csp, blocks_websocket, page_nonce, script_nonce

TAG = b'<script src="/c.js" data-hot-reload></script>'


@pytest.mark.parametrize(
    ("policies", "nonce"),
    [
        ([b"script-src 'nonce-abc' 'strict-dynamic'"], b"abc"),
        ([b"default-src 'self'; script-src 'NONCE-AbC+/='"], b"AbC+/="),
        ([b"default-src 'nonce-d'"], b"d"),
        ([b"script-src 'nonce-s'; script-src-elem 'nonce-e'"], b"e"),
        ([b"script-src-elem 'self'; script-src 'nonce-s'"], None),  # the element's own rule
        ([b"script-src\t'self'  'nonce-t';"], b"t"),
        ([b"img-src 'none'", b"script-src 'nonce-second'"], b"second"),
        ([b"img-src 'none', script-src 'nonce-in-a-list'"], b"in-a-list"),
        ([b"script-src 'self' 'unsafe-inline'"], None),
        ([b"script-src 'nonce-<bad>'"], None),
        ([b"style-src 'nonce-for-styles'"], None),
        ([b""], None),
    ],
)
def test_script_nonce_is_read_from_the_rule_that_governs_script_elements(
    policies: list[bytes], nonce: bytes | None
) -> None:
    assert script_nonce(policies) == nonce


@pytest.mark.parametrize(
    ("policies", "nonce"),
    [
        ([b"script-src 'nonce-s'; style-src 'nonce-t'"], b"s"),
        ([b"style-src 'self' 'nonce-t'"], b"t"),
        ([b"style-src 'nonce-t'; style-src-elem 'nonce-e'"], b"e"),
        ([b"img-src 'nonce-i'"], None),
        ([b"style-src 'unsafe-inline'"], None),
    ],
)
def test_the_page_nonce_is_the_script_one_else_the_style_one(
    policies: list[bytes], nonce: bytes | None
) -> None:
    assert page_nonce(policies) == nonce


@pytest.mark.parametrize(
    ("policy", "blocked"),
    [
        (b"script-src 'nonce-a'", False),
        (b"connect-src 'self'", False),
        (b"connect-src *", False),
        (b"connect-src https://api.example ws://localhost:8000", False),
        (b"connect-src wss:", False),
        (b"default-src 'SELF'", False),
        (b"connect-src 'none'", True),
        (b"connect-src https://api.example", True),
        (b"default-src 'none'; script-src 'nonce-a'", True),
        (b"default-src 'self'; connect-src https://api.example", True),
    ],
)
def test_websocket_is_blocked_when_connect_src_leaves_it_out(policy: bytes, blocked: bool) -> None:
    assert blocks_websocket([policy]) is blocked


def test_the_tag_gets_the_nonce_and_a_blocked_socket_is_told_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    csp = Csp()
    policies = [b"default-src 'none'; script-src 'nonce-n0nce'"]
    with caplog.at_level(logging.WARNING, "fastapi_hot_reload"):
        tags = [csp.tag(TAG, policies) for _ in range(3)]

    assert tags == [b'<script nonce="n0nce" src="/c.js" data-hot-reload></script>'] * 3
    assert caplog.messages == [
        "this page's Content-Security-Policy blocks the hot reload websocket: add 'self' to its "
        "connect-src (older Safari also needs ws://your-dev-host:port), or the page never hears "
        "of a change"
    ]


def test_a_policy_that_asks_nothing_of_us_leaves_the_tag_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, "fastapi_hot_reload"):
        assert Csp().tag(TAG, [b"default-src 'self'"]) == TAG
    assert caplog.messages == []
