"""Instructions per HTML request inside each contestant's app, counted by valgrind's callgrind.

Seconds on a shared VM swing by tens of percent between two identical processes; instruction
counts do not. Each app runs in-process (``_inprocess.DRIVER``: lifespan on, ``GET /`` in a loop)
twice under callgrind, with two call counts; the difference divided by the extra calls is the
cost of one request, free of start-up. Run: ``python -m benchmarks.instructions`` (about 4 min).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ._contestants import ALL
from ._inprocess import DRIVER, ROUNDS
from ._server import write_site

#: The watcher would wake every few ms of wall time, and valgrind runs ~50x slower: with its
#: usual step the watcher's wake-ups would be counted 50 times over. Count the request path.
SLOW_WATCHER = "import fastapi_hot_reload._middleware.changes.watcher as w; w.STEP_MS = 1000\n"


def instructions(site: Path, on: bool, calls: int) -> int:
    callgrind = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    done = subprocess.run(
        [*callgrind, sys.executable, "-c", SLOW_WATCHER + DRIVER, str(calls), str(ROUNDS)],
        cwd=site,
        env={**os.environ, "BENCH_HOT_RELOAD": "1" if on else "0", "PYTHONHASHSEED": "0"},
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(f"callgrind printed no total:\n{done.stderr}")
    return int(found[1])


def per_request(site: Path, on: bool, few: int, many: int) -> float:
    return (instructions(site, on, many) - instructions(site, on, few)) / (ROUNDS * (many - few))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="ours,arel,diy", help="contestants, comma-separated")
    parser.add_argument("--calls", type=int, default=100, help="extra calls per round")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    print(f"{'contestant':<22}{'with it':>14}{'without it':>14}{'added':>14}{'added %':>9}")
    with tempfile.TemporaryDirectory() as folder:
        for contestant in ALL:
            if contestant.key not in args.only.split(","):
                continue
            if contestant.module and not _importable(contestant.module):
                print(f"{contestant.title:<22}n/a: {contestant.module} is not installed")
                continue
            site = write_site(
                Path(folder) / contestant.key, contestant.app_file, contestant.script_file
            )
            on, off = (per_request(site, flag, 10, 10 + args.calls) for flag in (True, False))
            print(
                f"{contestant.title:<22}{on:>14,.0f}{off:>14,.0f}{on - off:>14,.0f}"
                f"{100 * (on - off) / off:>8.1f}%",
                flush=True,
            )


def _importable(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


if __name__ == "__main__":
    main()
