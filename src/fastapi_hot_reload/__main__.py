"""``python -m fastapi_hot_reload dev app:app``: the development server."""

from __future__ import annotations

from ._dev.cli import main

raise SystemExit(main())
