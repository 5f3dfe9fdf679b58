"""The wire protocol: its two halves agree, each message has one builder, no one else spells it."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi_hot_reload import _protocol as wire

PACKAGE = Path(wire.__file__).parent
JS = PACKAGE / "client" / "protocol.js"
_EXPORT = re.compile(r"^export var ([A-Z_]+) = '([^']*)';$", re.MULTILINE)


def python_names() -> dict[str, str]:
    """The protocol's string constants, by name."""
    return {
        name: value
        for name, value in vars(wire).items()
        if name.isupper() and isinstance(value, str)
    }


def js_names() -> dict[str, str]:
    return dict(_EXPORT.findall(JS.read_text()))


def test_both_halves_spell_every_shared_name_alike() -> None:
    shared = {k: v for k, v in python_names().items() if k not in wire.SERVER_ONLY}
    shared.pop("MARKER")  # derived in Python, from ATTR_MARK and ATTR_BOOT
    assert js_names() == shared


def test_the_js_half_imports_nothing() -> None:
    assert not re.search(r"^\s*import\b", JS.read_text(), re.MULTILINE)


def test_the_marker_is_how_every_tag_starts_its_attributes() -> None:
    start = wire.tag_start(
        "/c/main.js", "b00b", 3, events=False, method="", morph=True, status=True
    )
    assert f' {wire.MARKER}="b00b" ' in start
    assert start == (
        '<script type="module" src="/c/main.js" data-hot-reload data-boot="b00b" data-rev="3"'
    )


def test_the_tag_carries_each_setting_only_when_it_differs_from_the_default() -> None:
    start = wire.tag_start("/m.js", "b", 0, events=True, method="POST", morph=False, status=False)
    assert start.endswith(
        ' data-rev="0" data-events data-method="POST" data-morph="false" data-status="off"'
    )
    assert wire.page_attribute("p1") == ' data-page="p1"'


def test_each_message_has_its_builder() -> None:
    assert wire.hello("b", 2, {}) == {"type": "hello", "boot": "b", "rev": 2}
    missed = {"missed": [{"type": "page", "rev": 2}]}
    assert wire.hello("b", 2, missed)["missed"] == missed["missed"]
    change = wire.change("css", 4, [f"{n}.css" for n in range(12)])
    assert (change["type"], change["rev"], len(change["paths"]), change["more"]) == (
        "css",
        4,
        10,
        2,
    )
    assert isinstance(change["t"], int)
    assert "more" not in wire.change("page", 1, ["a.html"])
    detail = {"message": "boom", "file": "a.html", "line": 1, "source": "", "editor": None}
    assert wire.error(5, detail) == {"type": "error", "rev": 5, "error": detail}
    assert wire.log([], 3) == {"type": "log", "records": [], "dropped": 3}


def test_template_names_are_encoded_sorted_and_without_spaces_inside() -> None:
    assert (
        wire.encode_names(["b c/d.html", "a.html", "é.html"]) == "%C3%A9.html a.html b%20c/d.html"
    )


#: Names no other module may spell: unlikely to mean anything else there.
_DISTINCTIVE = {
    value
    for name, value in python_names().items()
    if name.startswith(("ATTR_", "HEADER_", "QUERY_BUST"))
    or name in ("TIMING", "ERROR_PAGE", "PREFIX")
}
#: Message types are checked where code compares or builds them.
_TYPES = {wire.HELLO, wire.PAGE, wire.RELOAD, wire.CSS, wire.IMAGE, wire.ERROR, wire.LOG}
_PY_TYPE = re.compile(r"""["']type["']\s*:\s*["']([a-z]+)["']""")
_JS_TYPE = re.compile(r"""(?:type\s*===?\s*|case\s+|type:\s*)'([a-z]+)'""")
_LITERAL = re.compile(r"""(?<![\w$])(["'])([^"'\n]*)\1""")


def spelled(path: Path) -> set[str]:
    """The protocol's strings that ``path`` spells as literals of its own."""
    text = path.read_text()
    found = {value for _, value in _LITERAL.findall(text) if value in _DISTINCTIVE}
    pattern = _JS_TYPE if path.suffix == ".js" else _PY_TYPE
    return found | {kind for kind in pattern.findall(text) if kind in _TYPES}


def test_no_other_module_spells_the_protocol() -> None:
    halves = {PACKAGE / "_protocol.py", JS}
    modules = [p for p in sorted(PACKAGE.rglob("*")) if p.suffix in (".py", ".js")]
    spelling = {str(p.relative_to(PACKAGE)): spelled(p) for p in modules if p not in halves}
    assert {name: found for name, found in spelling.items() if found} == {}


def test_the_check_would_see_a_module_that_spells_it(tmp_path: Path) -> None:
    py, js = tmp_path / "x.py", tmp_path / "x.js"
    py.write_text('HEADER = "x-hot-reload-page"\nmessage = {"type": "hello"}\n')
    js.write_text("if (message.type === 'reload') tag.getAttribute('data-boot');\n")
    assert spelled(py) == {"x-hot-reload-page", "hello"}
    assert spelled(js) == {"reload", "data-boot"}
