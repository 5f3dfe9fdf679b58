"""Run every benchmark; print a table, write JSON and a PNG: ``python -m benchmarks [--quick]``."""

from __future__ import annotations

import argparse
import asyncio
import datetime
import importlib.metadata
import os
import platform
import resource
import sys
import tempfile
import time
from collections.abc import Coroutine
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

from ._contestants import ALL
from ._devservers import dev_table
from ._report import Cells, chart, table, write_json
from ._run import FULL, QUICK, browser_missing, measure
from ._targets import check

T = TypeVar("T")


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a small run (about 40 s)")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "out", help="where JSON and PNG go"
    )
    parser.add_argument(
        "--only",
        default=",".join([*(c.key for c in ALL), "dev"]),
        help="contestants to run, comma-separated: "
        + ", ".join(c.key for c in ALL)
        + "; dev: `.py` saves under uvicorn --reload, fastapi dev and fastapi-hot-reload dev",
    )
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium cells")
    return parser.parse_args(argv)


def raise_file_limit() -> None:
    """1000+ sockets on each side: the servers inherit the limit from this process."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else hard
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def run_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """On uvloop when there (uvicorn[standard] brings it): the client measures less of itself."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def machine() -> dict[str, Any]:
    model = ""
    with Path("/proc/cpuinfo").open() as info:
        model = next((line.split(":", 1)[1].strip() for line in info if "model name" in line), "")
    versions: dict[str, str | None] = {}
    for name in ("fastapi-hot-reload", "arel", "uvicorn", "watchfiles", "websockets", "playwright"):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
        "load_before": os.getloadavg(),
    }


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    plan = QUICK if args.quick else FULL
    contestants = [c for c in ALL if c.key in args.only.split(",")]
    raise_file_limit()
    args.out.mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {
        "command": " ".join(
            ["python -m benchmarks", *(argv if argv is not None else sys.argv[1:])]
        ),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "plan": asdict(plan),
        "contestants": {c.key: c.title for c in contestants},
    }
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hot-reload-bench-") as folder:
        cells: Cells = run_loop(
            measure(
                plan,
                contestants,
                Path(folder),
                browser_missing(not args.no_browser),
                "dev" in args.only.split(","),
            )
        )
    meta["seconds"] = round(time.monotonic() - started, 1)
    meta["machine"]["load_after"] = os.getloadavg()
    meta["targets"] = check(cells, plan.counts[-1])
    write_json(args.out / "results.json", cells, meta)
    if contestants:
        print(table(cells, contestants, list(plan.counts)))
        print("\ntargets (fastapi-hot-reload):\n  " + "\n  ".join(meta["targets"]))
        print("\n" + chart(args.out / "latency.png", cells, contestants, list(plan.counts)))
    if "dev.page" in cells:
        print("\n" + dev_table(cells))
    load = meta["machine"]["load_after"][0]
    print(f"json: {args.out / 'results.json'} ({meta['seconds']} s, load average {load:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
