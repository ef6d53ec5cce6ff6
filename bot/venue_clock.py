"""The bot's clock when it trades on an external simulator (`run --venue-url`): the simulator's
own time, as its answers report it (Bybit v5's envelope ``time``), so orders and fills share one
time base even when the simulator replays the past or runs at another speed.

The clock reads the latest time the simulator reported and never runs ahead of it: an order is
stamped no later than the venue's time when it is sent, so a fill (stamped by the venue) is never
before its order.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import aiohttp

from bot.logging import get_logger

log = get_logger("bot.clock")
PATH = "/v5/market/tickers?category=linear"  # public, small; any answer carries the time


class VenueTimeClock:
    def __init__(self, url: str, every: float = 0.5) -> None:
        self.url = url.rstrip("/") + PATH
        self.every = every
        self._latest: datetime | None = None
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._answered = asyncio.Event()

    def __call__(self) -> datetime:
        return self._latest or datetime.now(UTC)

    async def start(self) -> None:
        """Begin following; never blocks (a silent simulator must not hold up a SIGTERM)."""
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._task = asyncio.create_task(self._follow(), name="venue-clock")

    async def ready(self, wait: float = 10.0) -> bool:
        """Wait for the simulator's first answer, before the first cycle stamps anything."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._answered.wait(), wait)
        if not self._answered.is_set():
            log.warning("simulator time unknown; using the machine's clock", url=self.url)
        return self._answered.is_set()

    async def _poll(self) -> None:
        assert self._session is not None
        async with self._session.get(self.url) as resp:
            body = await resp.json(content_type=None)
        reported = datetime.fromtimestamp(int(body["time"]) / 1000, UTC)
        if self._latest is None or reported > self._latest:  # never backwards
            self._latest = reported
        self._answered.set()

    async def _follow(self) -> None:
        while True:
            try:
                await self._poll()
            except Exception as exc:  # the cycle's own reads report an unreachable venue
                log.debug("venue clock not refreshed", error=str(exc))
            await asyncio.sleep(self.every)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._session is not None:
            await self._session.close()
