"""Instant browser reload for FastAPI and Starlette apps that render Jinja2 templates."""

from __future__ import annotations

from ._middleware.app import HotReload
from ._middleware.jinja import hot_reload_script
from ._middleware.notify import notify

__all__ = ["HotReload", "hot_reload_script", "notify"]
