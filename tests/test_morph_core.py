"""The morph core (``client/morph.js``) in a real Chromium, case by case, on small DOM trees.

Each case morphs a live tree into a new one and checks two things: the result is the new markup,
and which live elements were kept (patched in place) rather than replaced: each live element is
numbered before the morph, and the numbers found after show which nodes survived, in what order.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from .support.apps import write_app
from .support.browser import chromium
from .support.server import Server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


#: Morphs ``before`` into ``after`` inside a <div>; gives the result and the kept numbers.
MORPH = """
async ([before, after, prepare]) => {
  const { morph } = await import('/__hot_reload__/client/morph.js');
  const live = document.createElement('div');
  live.innerHTML = before;
  document.body.append(live);
  live.querySelectorAll('*').forEach((element, i) => { element.number = i; });
  if (prepare) new Function('live', prepare)(live);
  const fresh = new DOMParser().parseFromString('<body>' + after, 'text/html').body;
  const wrapper = document.createElement('div');
  wrapper.append(...fresh.childNodes);
  await morph(live, wrapper);
  const kept = [...live.querySelectorAll('*')].map((element) => element.number ?? null);
  const active = document.activeElement;
  const caret = [active.selectionStart, active.selectionEnd];
  const values = [...live.querySelectorAll('input')].map((input) => input.value);
  const result = { html: live.innerHTML, kept, focused: active.id, caret, values };
  live.remove();
  return result;
}
"""

CASES = {
    "text changes in place": ('<p id="a">x</p>', '<p id="a">y</p>', [0]),
    "attributes change in place": ('<p class="a" title="t">x</p>', '<p class="b">x</p>', [0]),
    "siblings reordered by id": (
        '<li id="a">A</li><li id="b">B</li>',
        '<li id="b">B</li><li id="a">A</li>',
        [1, 0],
    ),
    "wrappers matched by the ids inside": (
        '<div><span id="s"></span></div><div><span id="t"></span></div>',
        '<div><span id="t"></span></div><div><span id="s"></span></div>',
        [2, 3, None, 1],  # the second wrapper is new; the element with the id is kept
    ),
    "new wrapper around a kept field": (
        '<input id="i">',
        '<div class="row"><input id="i"></div>',
        [None, 0],
    ),
    "wrapper removed around a kept field": ('<div><input id="i"></div>', '<input id="i">', [1]),
    "moved to another parent": (
        '<section><input id="i"></section><aside></aside>',
        '<section></section><aside><input id="i"></aside>',
        [None, 2, 1],  # a wrapper that held an id is not reused for other content
    ),
    "inserted at the top, the rest kept": (
        "<p>one</p>\n<ul><li>x</li></ul>",
        "<h2>new</h2>\n<p>one</p>\n<ul><li>x</li></ul>",
        [None, 0, 1, 2],
    ),
    "removed at the top, the rest kept": (
        "<h2>old</h2>\n<p>one</p>\n<ul></ul>",
        "<p>one</p>\n<ul></ul>",
        [1, 2],
    ),
    "tag changed, its sibling kept": ("<h1>a</h1>\n<p>b</p>", "<h2>a</h2>\n<p>b</p>", [None, 1]),
    "id renamed is a new element": ('<p id="a">x</p>', '<p id="b">x</p>', [None]),
    "id moved to another tag is a new element": (
        '<div id="a">x</div><p>y</p>',
        '<section id="a">x</section><p>y</p>',
        [None, 1],
    ),
    "duplicate ids match by position": (
        '<p id="d">1</p><p id="d">2</p>',
        '<p id="d">3</p><p id="d">4</p>',
        [0, 1],
    ),
    "template content replaced": (
        "<template><b>1</b></template>",
        "<template><i>2</i></template>",
        [0],
    ),
    "comments and text follow": ("<!-- a -->x<p>y</p>", "<!-- b -->z<p>y</p>", [0]),
    "item inserted between ids": (
        '<li id="a"></li><li id="b"></li><li id="c"></li>',
        '<li id="a"></li><li id="x"></li><li id="b"></li><li id="c"></li>',
        [0, None, 1, 2],
    ),
    "field taken out of a removed box": (
        '<div class="old"><input id="i"></div>\n<p>x</p>',
        '<p>x</p>\n<input id="i">',
        [2, 1],
    ),
    "svg attributes patched": (
        '<svg><circle r="1"></circle></svg>',
        '<svg><circle r="2"></circle></svg>',
        [0, 1],
    ),
    "deep change without ids": (
        "<main><section><p>a</p><p>b</p></section></main>",
        "<main><section><p>a</p><p>c</p></section></main>",
        [0, 1, 2, 3],
    ),
}


@pytest.fixture(scope="module")
def tab(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[Page]:
    """One page for every case: the morph module is imported from the middleware's route."""
    server = Server(write_app(tmp_path_factory.mktemp("core") / "site"))
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(server.url)
        yield page
    finally:
        context.close()
        server.stop()


@pytest.mark.parametrize("case", CASES)
def test_morph_gives_the_new_markup_and_keeps_matched_nodes(tab: Page, case: str) -> None:
    before, after, kept = CASES[case]

    result = tab.evaluate(MORPH, [before, after, ""])

    assert result["html"] == after
    assert result["kept"] == kept


def test_user_state_wins_over_the_markup(tab: Page) -> None:
    """Open details and dialogs stay open, a typed value stays typed, a permanent element stays
    as it is."""
    markup = (
        '<details id="d"><summary>s</summary></details><dialog id="g"></dialog>'
        '<input id="i" value="a">'
        '<div data-hot-reload-permanent id="p">x</div><div hx-preserve id="h">x</div>'
    )
    prepare = (
        "live.querySelector('details').open = true; live.querySelector('dialog').show();"
        "live.querySelector('input').value = 'typed';"
        "live.querySelector('#p').textContent = 'live'; live.querySelector('#h').title = 'live';"
    )
    after = markup.replace('value="a"', 'value="b"').replace(">x<", ">new<")

    result = tab.evaluate(MORPH, [markup, after, prepare])

    assert result["html"] == (
        '<details id="d" open=""><summary>s</summary></details><dialog id="g" open=""></dialog>'
        '<input id="i" value="b">'
        '<div data-hot-reload-permanent="" id="p">live</div>'
        '<div hx-preserve="" id="h" title="live">x</div>'
    )
    assert result["kept"] == [0, 1, 2, 3, 4, 5]
    assert result["values"] == ["typed"]  # the attribute followed the markup, the value did not


def test_focus_and_caret_stay_in_a_field_that_moves(tab: Page) -> None:
    prepare = (
        "const input = live.querySelector('input'); input.value = 'hello'; input.focus();"
        "input.setSelectionRange(1, 3);"
    )
    before = '<p>x</p><input id="f">'
    after = '<div><input id="f"></div><p>x</p>'

    result = tab.evaluate(MORPH, [before, after, prepare])

    assert result["kept"] == [None, 1, 0]
    assert result["focused"] == "f"
    assert result["caret"] == [1, 3]
