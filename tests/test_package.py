"""The built wheel carries the browser client and the typing marker."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_ships_client_modules_and_py_typed(tmp_path: Path) -> None:
    if not (ROOT / "pyproject.toml").exists():  # pragma: no cover - tests run from a checkout
        pytest.skip("needs the source checkout")
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("fastapi_hot_reload-*.whl")
    names = zipfile.ZipFile(wheel).namelist()

    assert "fastapi_hot_reload/client/main.js" in names
    assert "fastapi_hot_reload/client/connection.js" in names
    assert "fastapi_hot_reload/py.typed" in names
    assert "fastapi_hot_reload/__init__.py" in names
    (entry_points,) = (name for name in names if name.endswith("entry_points.txt"))
    scripts = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "fastapi-hot-reload = fastapi_hot_reload._dev.cli:main" in scripts
