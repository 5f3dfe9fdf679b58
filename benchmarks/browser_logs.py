"""What ``browser_logs`` (on by default) adds per HTML request, in instructions under callgrind.

The same app as ``benchmarks.instructions``'s, once as the README wires it and once with
``browser_logs=False``. Run: ``python -m benchmarks.browser_logs`` (about 2 minutes).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from ._server import write_site
from .instructions import per_request

WIRING = "templates=templates)"


WIRINGS = {"on (the default)": "", "off": ", browser_logs=False"}


def main() -> None:
    counts: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        for label, option in WIRINGS.items():
            site = write_site(Path(folder) / f"site{len(counts)}", "ours.py", None)
            app = site / "app.py"
            app.write_text(app.read_text().replace(WIRING, WIRING[:-1] + option + ")"))
            counts[label] = per_request(site, True, 20, 80)
            print(f"browser logs {label}: {counts[label]:,.0f} instructions per request")
    print(f"browser logs add {counts['on (the default)'] - counts['off']:,.0f}")


if __name__ == "__main__":
    main()
