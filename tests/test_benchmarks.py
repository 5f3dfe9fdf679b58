"""The benchmark harness still runs: ``python -m benchmarks --quick``, end to end."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parent.parent
COUNTS = (1, 10, 100)  # the --quick plan's client counts
LATENCIES = [
    *(f"msg.{style}.1.first" for style in ("in-place", "atomic")),
    *(
        f"msg.{style}.{n}.{end}"
        for style in ("in-place", "atomic")
        for n in (10, 100)
        for end in ("first", "last")
    ),
    "py.baseline",
    "py.answer.0",
]
BROWSER = ["px.1.first", "px.5.last", "py.page.1", "py.page.5", "py.answer.5"]
BROWSER += ["px.1.first.reload", "px.5.last.reload", "py.page.1.reload"]
VALUES = {
    "rps.on": "req/s",
    "rps.off": "req/s",
    "rps.overhead": "%",
    "idle.cpu": "%",
    "mem.per1000": "MB",
    "app.on": "µs",
    "app.off": "µs",
    "app.added": "µs",
}
HAVE_BROWSER = Path("/usr/bin/chromium").exists() and importlib.util.find_spec("playwright")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    out = tmp_path_factory.mktemp("bench")
    # Ours only: with arel the quick run takes ~75 s on 2 busy cores; the full run covers arel.
    command = [sys.executable, "-m", "benchmarks", "--quick", "--only", "ours"]
    command += ["--out", str(out)] + ([] if HAVE_BROWSER else ["--no-browser"])
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=100)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout, json.loads((out / "results.json").read_text())


@pytest.mark.timeout(120)
def test_every_latency_cell_has_sane_percentiles(run: tuple[str, dict[str, Any]]) -> None:
    _, results = run
    for cell in LATENCIES + (BROWSER if HAVE_BROWSER else []):
        ours = results["cells"][cell]["ours"]
        assert ours["na"] is None, cell
        assert 0 < ours["p50"] <= ours["p90"] <= ours["p99"] <= ours["max"] < 30_000, cell
        assert ours["n"] >= 2, cell  # --quick: 2 restarts, 3 pixel saves, 5 message saves


def test_cost_cells_have_values_in_their_units(run: tuple[str, dict[str, Any]]) -> None:
    _, results = run
    for cell, unit in VALUES.items():
        ours = results["cells"][cell]["ours"]
        assert ours["unit"] == unit, cell
        if ours["na"] is None:  # only psutil's absence makes the CPU and memory cells n/a
            assert ours["value"] is not None, cell
    assert results["cells"]["rps.on"]["ours"]["value"] > 0


def test_the_table_shows_each_row_and_the_targets(run: tuple[str, dict[str, Any]]) -> None:
    stdout, results = run
    labels = ("save→message in-place, 1 client", "save→pixels, 1 tab", "req/s lost to it")
    for label in (*labels, "app time added by it (in-process)"):
        assert label in stdout
    assert "fastapi-hot-reload" in stdout.splitlines()[0]
    assert "targets (fastapi-hot-reload):" in stdout
    assert results["machine"]["cores"] >= 1
    assert results["command"].startswith("python -m benchmarks --quick")


@pytest.mark.timeout(180)
@pytest.mark.skipif(
    importlib.util.find_spec("fastapi.__main__") is None,
    reason="`fastapi dev` needs fastapi 0.111+",
)
def test_dev_servers_are_timed_side_by_side(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "benchmarks",
        "--quick",
        "--only",
        "dev",
        "--out",
        str(tmp_path),
    ]
    command += [] if HAVE_BROWSER else ["--no-browser"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=170)
    assert done.returncode == 0, done.stdout + done.stderr
    cells = json.loads((tmp_path / "results.json").read_text())["cells"]
    for key in ("uvicorn", "fastapi", "ours"):
        for cell in ("dev.answer", "dev.page") if HAVE_BROWSER else ("dev.answer",):
            figure = cells[cell][key]
            assert 0 < figure["p50"] <= figure["max"] < 30_000, (cell, key)
    assert "fastapi-hot-reload dev" in done.stdout
    assert "target (new text p50 <= 300 ms" in done.stdout
