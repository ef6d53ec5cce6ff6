"""Alerts: apprise channels (``channel``), what is worth one (``watch``), when (``config``).

The names are loaded on first use: ``bot.settings`` imports ``bot.notify.config``, and the package
must not pull the watcher (SQLAlchemy, the store) into every command's start-up (issue 10.5)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.notify.channel import Alert, Notifier, split_urls
    from bot.notify.config import AlertsSection
    from bot.notify.watch import AlertWatcher

__all__ = ["Alert", "AlertWatcher", "AlertsSection", "Notifier", "split_urls"]
_HOME = {
    "Alert": "channel",
    "Notifier": "channel",
    "split_urls": "channel",
    "AlertsSection": "config",
    "AlertWatcher": "watch",
}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'bot.notify' has no attribute {name!r}")
    return getattr(importlib.import_module(f"bot.notify.{module}"), name)
