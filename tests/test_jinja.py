"""Finding the folders behind Jinja loaders, and clearing their caches."""

from __future__ import annotations

import sys
from pathlib import Path

import jinja2
import pytest
from fastapi.templating import Jinja2Templates

from fastapi_hot_reload._middleware.jinja import (
    clear_caches,
    environments,
    evict,
    loader_folders,
    name_roots,
)


def test_environments_accepts_templates_environment_list_and_none(tmp_path: Path) -> None:
    templates = Jinja2Templates(directory=tmp_path)
    env = jinja2.Environment()

    assert environments(templates) == [templates.env]
    assert environments(env) == [env]
    assert environments([templates, env]) == [templates.env, env]
    assert environments(None) == []


def test_file_system_loader_gives_its_search_path(tmp_path: Path) -> None:
    loader = jinja2.FileSystemLoader([tmp_path / "a", tmp_path / "b"])

    assert list(loader_folders(loader)) == [tmp_path / "a", tmp_path / "b"]


def test_choice_and_prefix_loaders_give_their_loaders_folders(tmp_path: Path) -> None:
    loader = jinja2.ChoiceLoader(
        [
            jinja2.FileSystemLoader(tmp_path / "a"),
            jinja2.PrefixLoader({"admin": jinja2.FileSystemLoader(tmp_path / "b")}),
            jinja2.DictLoader({"x": "y"}),
        ]
    )

    assert list(loader_folders(loader)) == [tmp_path / "a", tmp_path / "b"]


def test_package_loader_gives_the_package_templates_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "mypkg"
    (package / "templates").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    loader = jinja2.PackageLoader("mypkg")

    assert [p.resolve() for p in loader_folders(loader)] == [(package / "templates").resolve()]
    sys.modules.pop("mypkg", None)


def test_loaders_without_folders_give_none() -> None:
    assert list(loader_folders(jinja2.DictLoader({}))) == []
    assert list(loader_folders(None)) == []


def test_clear_caches_forgets_compiled_templates() -> None:
    env = jinja2.Environment(loader=jinja2.DictLoader({"page": "x"}))
    env.get_template("page")
    no_cache = jinja2.Environment(cache_size=0)

    clear_caches([env, no_cache])

    assert env.cache is not None
    assert len(env.cache) == 0


def test_evict_forgets_one_name_and_keeps_the_rest() -> None:
    env = jinja2.Environment(loader=jinja2.DictLoader({"a": "a", "b": "b"}))
    a, b = env.get_template("a"), env.get_template("b")

    evict(env, "a")
    evict(env, "never loaded")
    evict(jinja2.Environment(cache_size=0), "a")

    assert env.get_template("a") is not a
    assert env.get_template("b") is b


def test_name_roots_give_each_folder_its_prefix(tmp_path: Path) -> None:
    loader = jinja2.PrefixLoader(
        {"admin": jinja2.ChoiceLoader([jinja2.FileSystemLoader(tmp_path / "a")])}, delimiter=":"
    )

    assert list(name_roots(loader)) == [(tmp_path / "a", "admin:")]
