"""The alerts beside the daemon: a watcher task polling the database and a delivery task, both
started and stopped with the daemon, neither in a cycle's path."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

from bot.logging import get_logger
from bot.notify.channel import Notifier, split_urls
from bot.notify.config import AlertsSection
from bot.notify.watch import AlertWatcher

log = get_logger("bot.notify")


@contextlib.asynccontextmanager
async def alerts_running(app: Any, interval: float) -> AsyncIterator[Notifier]:
    """``app`` is a ``bot.app.App``. Alerts go out only when HEDGEBOT_NOTIFY_URLS is set."""
    secret = app.runtime.notify_urls
    alerts: AlertsSection = app.engine.config.alerts
    notifier = Notifier(
        split_urls(secret.get_secret_value() if secret else None),
        timeout=alerts.send_timeout_seconds,
    )
    if not notifier.enabled:
        yield notifier
        return

    def settings() -> tuple[AlertsSection, Decimal, str]:
        cfg = app.engine.config  # follows configuration reloads
        return cfg.alerts, cfg.planner.rebalance_band, cfg.bot.quote

    watcher = AlertWatcher(app.store, notifier, settings)
    stop = asyncio.Event()
    notifier.start()
    task = asyncio.create_task(watcher.run(min(interval, 10.0), stop), name="hedgebot-watch")
    log.info("alerts on", channels=[name for name, _ in notifier.channels])
    try:
        yield notifier
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await task
            await watcher.check()  # what the last cycle did (a halt on the way out)
        await notifier.close()
