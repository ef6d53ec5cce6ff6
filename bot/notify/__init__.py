"""Alerts: apprise channels (``channel``), what is worth one (``watch``), when (``config``)."""

from bot.notify.channel import Alert, Notifier, split_urls
from bot.notify.config import AlertsSection
from bot.notify.watch import AlertWatcher

__all__ = ["Alert", "AlertWatcher", "AlertsSection", "Notifier", "split_urls"]
