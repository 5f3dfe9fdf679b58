"""Data flows one way: no import runs back up the layers (ARCHITECTURE.md's invariants)."""

from __future__ import annotations

import ast
from pathlib import Path

import fastapi_hot_reload

PACKAGE = Path(fastapi_hot_reload.__file__).parent
NAME = "fastapi_hot_reload"

#: The middleware's layers, top first: a module imports only from its own layer or below.
LAYERS = [
    {"_middleware.app"},
    {"_middleware.routes"},
    {"_middleware.pages"},
    {"_middleware.tag"},
    {"_middleware.lifespan"},
    {"_middleware.notify", "_middleware.options"},
    {"_middleware.changes"},
]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """The package's modules ``path`` imports, relative to the package (``_middleware.hub``)."""
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            elif node.module and node.module.startswith(NAME):
                target = node.module[len(NAME) + 1 :]
            else:
                continue
            names = [f"{target}.{alias.name}".strip(".") for alias in node.names]
            found |= {name if _exists(name) else target for name in names}
        elif isinstance(node, ast.Import):
            found |= {a.name[len(NAME) + 1 :] for a in node.names if a.name.startswith(NAME + ".")}
    return {name for name in found if name}


def _exists(name: str) -> bool:
    path = PACKAGE.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def layer(name: str) -> int:
    """The layer of a middleware module; the leaf modules (inject, hub, ...) are the lowest."""
    for index, members in enumerate(LAYERS):
        if any(name == m or name.startswith(m + ".") for m in members):
            return index
    return len(LAYERS)


def test_the_protocol_imports_nothing_of_the_package() -> None:
    assert graph()["_protocol"] == set()


def test_the_dev_server_imports_nothing_of_the_middleware() -> None:
    dev = {name: found for name, found in graph().items() if name.startswith("_dev")}
    assert dev and all(
        not any(f.startswith("_middleware") for f in found) for found in dev.values()
    )


def test_no_middleware_module_imports_one_above_it() -> None:
    upward = {
        (name, target)
        for name, found in graph().items()
        if name.startswith("_middleware")
        for target in found
        if target.startswith("_middleware") and layer(target) < layer(name)
    }
    assert upward == set()


def test_within_changes_only_the_outbox_and_the_pipeline_know_the_hub() -> None:
    knowing = {
        name
        for name, found in graph().items()
        if name.startswith("_middleware.changes") and "_middleware.hub" in found
    }
    # The pipeline takes the hub only to hand it to its Outbox.
    assert knowing == {"_middleware.changes.outbox", "_middleware.changes.pipeline"}


def test_the_check_sees_a_relative_import(tmp_path: Path) -> None:
    graph_ = graph()
    assert "_middleware.hub" in graph_["_middleware.changes.outbox"]
    assert "_middleware.changes.pipeline" in graph_["_middleware.lifespan"]
    assert layer("_middleware.app") < layer("_middleware.changes.outbox") < layer("_middleware.hub")
