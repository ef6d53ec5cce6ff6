"""Sending alerts through apprise (one library, many services: Telegram, Discord, Slack, e-mail,
webhooks), configured by ``HEDGEBOT_NOTIFY_URLS``.

Sending never blocks or breaks a cycle: ``send`` only queues the message; a background task
delivers it, each channel with a timeout, and a channel that fails is logged (redacted) and the
others still get it. Each channel sends on its own daemon thread, never on the loop's default
executor (the heartbeat and aiohttp's DNS lookups need that one): a channel whose call outlives
its timeout keeps its one thread, and the alerts for it are dropped (counted, logged once) until
that call returns. The URLs hold tokens and passwords: they are registered with the log
redactor and shown only in apprise's privacy form.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from bot.logging import REDACTOR, get_logger

log = get_logger("bot.notify")
QUEUE_SIZE = 200
_SPLIT = re.compile(r"[\s,]+")
_TOKENISH = re.compile(r"[A-Za-z0-9_\-:.]{8,}")


def split_urls(text: str | None) -> list[str]:
    """Several URLs separated by commas, spaces or new lines."""
    return [u for u in _SPLIT.split(text or "") if u]


@dataclass(frozen=True)
class Alert:
    kind: str  # halt | stop_fill | unprotected | outside_band | liquidation | venue | summary ...
    title: str
    body: str
    level: str = "warning"  # info | warning | failure (apprise's notify types)


class Notifier:
    """``send`` queues; ``start`` begins delivering; ``close`` delivers what is queued (bounded
    by the timeout) and stops. Without URLs every call is a no-op."""

    def __init__(self, urls: Iterable[str], *, timeout: float = 10.0) -> None:
        self.timeout = timeout
        self.channels: list[tuple[str, Any]] = []
        for i, url in enumerate(urls):
            import apprise  # with a URL only: no alerts, no apprise import (issue 10.5)

            _register_secrets(url)
            app = apprise.Apprise()
            if not app.add(url):
                log.warning("alert URL not understood; ignored", channel=i + 1)
                continue
            self.channels.append((app[0].url(privacy=True), app))
        self._queue: asyncio.Queue[Alert] = asyncio.Queue(QUEUE_SIZE)
        self._task: asyncio.Task[None] | None = None
        self.delivered = 0
        self.failed = 0
        self._busy: dict[str, concurrent.futures.Future[Any]] = {}  # a call past its timeout
        self._dropped: dict[str, int] = {}

    @property
    def enabled(self) -> bool:
        return bool(self.channels)

    def start(self) -> None:
        if self.enabled and self._task is None:
            self._task = asyncio.create_task(self._deliver_forever(), name="hedgebot-alerts")

    def send(self, alert: Alert) -> None:
        """Queue an alert and return at once. A full queue drops the alert (logged)."""
        getattr(log, "warning" if alert.level != "info" else "info")(
            "alert", kind=alert.kind, title=alert.title, body=alert.body
        )
        if not self.enabled:
            return
        try:
            self._queue.put_nowait(alert)
        except asyncio.QueueFull:
            log.warning("alert queue full; alert dropped", kind=alert.kind)

    async def _deliver_forever(self) -> None:
        while True:
            alert = await self._queue.get()
            try:
                await self._deliver(alert)
            finally:
                self._queue.task_done()

    async def _deliver(self, alert: Alert) -> None:
        import apprise

        notify_type = {
            "info": apprise.NotifyType.INFO,
            "failure": apprise.NotifyType.FAILURE,
        }.get(alert.level, apprise.NotifyType.WARNING)
        for name, app in self.channels:
            ok, why = await self._send_one(name, app, alert, notify_type)
            if ok:
                self.delivered += 1
            else:
                self.failed += 1
                if why:
                    log.warning("alert not delivered", channel=name, kind=alert.kind, why=why)

    async def _send_one(
        self, name: str, app: Any, alert: Alert, notify_type: Any
    ) -> tuple[bool, str]:
        """(delivered, why not); why is empty when the alert was dropped for a stuck channel."""
        busy = self._busy.get(name)
        if busy is not None and not busy.done():
            self._dropped[name] = self._dropped.get(name, 0) + 1
            if self._dropped[name] == 1:
                log.warning(
                    "alert channel stuck; its alerts are dropped until it answers",
                    channel=name,
                    kind=alert.kind,
                )
            return False, ""
        if self._dropped.pop(name, 0):
            log.info("alert channel answers again", channel=name)
        call = _in_daemon_thread(
            lambda: app.notify(body=alert.body, title=alert.title, notify_type=notify_type)
        )
        try:
            ok = await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(call)), self.timeout)
        except TimeoutError:
            self._busy[name] = call
            return False, f"no answer within {self.timeout:g}s"
        except Exception as exc:  # a broken channel must never reach the daemon
            return False, f"{type(exc).__name__}: {exc}"
        return bool(ok), "the service refused it or could not be reached"

    async def drain(self) -> None:
        """Wait until everything queued so far was attempted (tests, shutdown)."""
        if self._task is not None:
            await self._queue.join()

    async def close(self) -> None:
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), self.timeout)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None


def _in_daemon_thread(fn: Callable[[], Any]) -> concurrent.futures.Future[Any]:
    """Run ``fn`` on a new daemon thread: a call that never returns neither holds a pooled
    worker nor keeps the process from exiting (an executor's threads are joined at exit)."""
    future: concurrent.futures.Future[Any] = concurrent.futures.Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn())
        except BaseException as exc:  # handed to the awaiting side
            future.set_exception(exc)

    threading.Thread(target=run, name="hedgebot-alert", daemon=True).start()
    return future


def _register_secrets(url: str) -> None:
    """The URL and each token-like part of it (bot tokens, webhook ids, passwords) are redacted
    wherever they would appear in a log line or an error."""
    from urllib.parse import parse_qsl, urlsplit

    REDACTOR.register(url)
    try:
        split = urlsplit(url)
        password = split.password
        parts = [*re.split(r"[:@]", split.netloc), *split.path.split("/")]
        parts += [v for _, v in parse_qsl(split.query)]
    except ValueError:
        return
    REDACTOR.register(password)
    for part in parts:
        for token in _TOKENISH.findall(part):
            mixed = re.search(r"\d", token) and re.search(r"[A-Za-z]", token)
            if mixed or len(token) >= 16:  # tokens and ids, not host names or ports
                REDACTOR.register(token)
