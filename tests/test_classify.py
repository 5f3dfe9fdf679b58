"""What a change asks of the tabs, on plain data: no hub, no Jinja env, no disk, no loop."""

from __future__ import annotations

from pathlib import Path

import pytest

from fastapi_hot_reload._middleware.changes.classify import (
    SHOWN,
    Folders,
    Held,
    Planned,
    action,
    concerns,
    notified,
    plan,
)

ROOT = Path("/app")  # never read: classifying is string work on the paths
FOLDERS = Folders([ROOT / "templates"], [ROOT / "templates", ROOT / "static"])


def page(name: str, *rendered: str) -> Held:
    """A template change, rendered (or named like those rendered) under ``rendered``."""
    return Held("page", name, True, rendered)


def asset(name: str) -> Held:
    return Held(action(name), name, False)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("app.css", "css"),
        ("img/logo.PNG", "image"),  # the suffix in any case
        ("icon.svg", "image"),
        ("app.js", "reload"),
        ("notes.md", "reload"),
        ("Makefile", "reload"),
    ],
)
def test_action_swaps_stylesheets_and_images_and_reloads_for_the_rest(
    name: str, expected: str
) -> None:
    assert action(name) == expected


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["a.css", "b.css"], "css"),
        (["logo.png"], "image"),
        (["a.css", "logo.png"], "reload"),  # two kinds of swap: one reload
        (["index.html"], "reload"),  # a template name: no page knows it is concerned
        ([], "reload"),  # anything may have changed
    ],
)
def test_notified_names_swap_only_when_all_are_of_one_kind(names: list[str], expected: str) -> None:
    assert notified(names) == expected


def test_a_path_in_a_template_folder_is_a_template() -> None:
    assert FOLDERS.template(ROOT / "templates" / "admin" / "a.html")
    assert not FOLDERS.template(ROOT / "static" / "a.html")
    assert not FOLDERS.template(ROOT / "templates-old" / "a.html")  # a prefix, not the folder


def test_a_template_asks_for_a_page_update_and_carries_its_rendered_names() -> None:
    held = FOLDERS.held(ROOT / "templates" / "admin" / "a.html", ("admin/a.html",))

    assert held == Held("page", "admin/a.html", True, ("admin/a.html",))


def test_an_asset_is_named_by_its_path_in_its_folder_and_ignores_rendered_names() -> None:
    held = FOLDERS.held(ROOT / "static" / "css" / "app.css", ("css/app.css",))

    assert held == Held("css", "css/app.css", False, ())


def test_a_path_outside_every_folder_is_named_by_its_file_name() -> None:
    assert FOLDERS.held(ROOT / "notes.md", ()) == Held("reload", "notes.md", False, ())


def test_an_update_of_rendered_templates_concerns_the_tabs_that_rendered_them() -> None:
    updates = [page("a.html", "a.html"), page("b.html", "b.html", "admin/b.html")]

    assert concerns(updates) == {"templates": ["a.html", "admin/b.html", "b.html"]}


def test_an_update_of_a_script_concerns_the_tabs_that_load_it() -> None:
    assert concerns([asset("js/app.js"), asset("w.MJS")]) == {"scripts": ["js/app.js", "w.MJS"]}


@pytest.mark.parametrize(
    "other",
    [asset("notes.md"), page("list.hbs")],  # content any page may read; a template never rendered
    ids=["content", "unrendered template"],
)
def test_an_update_of_any_other_file_concerns_every_tab(other: Held) -> None:
    assert concerns([page("a.html", "a.html"), asset("app.js"), other]) == {}


def test_swaps_alone_go_out_one_message_per_kind_to_every_tab() -> None:
    held = [asset("b.css"), asset("logo.png"), asset("a.css")]

    assert plan(held) == [Planned("css", ["a.css", "b.css"]), Planned("image", ["logo.png"])]


def test_a_page_update_for_some_tabs_follows_the_swaps_they_still_need() -> None:
    held = [page("a.html", "a.html"), asset("app.css")]

    assert plan(held) == [
        Planned("css", ["app.css"]),
        Planned("page", ["a.html"], {"templates": ["a.html"]}),
    ]


def test_a_page_update_for_every_tab_names_the_swaps_too() -> None:
    held = [page("list.hbs"), asset("app.css")]

    assert plan(held) == [Planned("page", ["app.css", "list.hbs"])]


def test_a_reload_of_a_content_file_covers_every_swap_in_one_message() -> None:
    held = [asset("notes.md"), asset("app.css"), page("a.html", "a.html")]

    assert plan(held) == [Planned("reload", ["a.html", "app.css", "notes.md"])]


def test_a_reload_for_a_script_and_a_template_goes_to_the_tabs_using_either() -> None:
    held = [asset("app.js"), page("a.html", "a.html")]

    expected = Planned(
        "reload", ["a.html", "app.js"], {"templates": ["a.html"], "scripts": ["app.js"]}
    )
    assert plan(held) == [expected]


def test_more_changes_than_a_message_names_become_one_reload_for_every_tab() -> None:
    held = [asset(f"{n}.css") for n in range(SHOWN + 1)]

    assert plan(held) == [Planned("reload", sorted(entry.name for entry in held))]


def test_one_name_in_two_folders_is_named_once() -> None:
    assert plan([asset("app.css"), asset("app.css")]) == [Planned("css", ["app.css"])]
