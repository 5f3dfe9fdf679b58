"""Instant browser reload for FastAPI and Starlette apps that render Jinja2 templates."""

from __future__ import annotations

from ._jinja import hot_reload_script
from ._middleware import HotReload
from ._notify import notify

__all__ = ["HotReload", "hot_reload_script", "notify"]
