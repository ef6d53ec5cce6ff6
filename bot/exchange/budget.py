"""A request budget shared by every ccxt client of one account.

ccxt's own limiter (``enableRateLimit``) paces one client instance by endpoint weight and stays on.
It knows nothing about other instances: with spot and perp on two clients of one account
(Binance ``binance`` + ``binanceusdm``) both draw from the venue's per-account allowance. This
budget caps the sum, counting requests (not weights) over a sliding window (asyncio-throttle).

It is on by default with a ceiling well above what ccxt's limiter lets one client send (Bybit:
weight 5 x 20 ms = 10 reads/s), so it only binds when several clients of one account burst together:
measured on the loopback simulator (tests/integration/test_adapter_budget.py), a cycle's reads
through a shared 50/s budget took the same time as without it, while 60 concurrent requests through
a 20/s budget took >= 2 s, as the window requires.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import TracebackType

from asyncio_throttle import Throttler

DEFAULT_REQUESTS_PER_SECOND = 50


@dataclass
class RequestBudget:
    """``async with budget:`` before each request; the window is ``period`` seconds long."""

    rate: int = DEFAULT_REQUESTS_PER_SECOND
    period: float = 1.0
    used: int = 0  # requests admitted so far (for tests and diagnostics)
    _throttler: Throttler = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.rate < 1 or self.period <= 0:
            raise ValueError("a request budget needs rate >= 1 and period > 0")
        self._throttler = Throttler(rate_limit=self.rate, period=self.period, retry_interval=0.005)

    async def acquire(self) -> None:
        await self._throttler.acquire()
        self.used += 1

    async def __aenter__(self) -> RequestBudget:
        await self.acquire()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None
