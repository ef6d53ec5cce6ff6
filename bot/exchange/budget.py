"""A request budget shared by every ccxt client of one account.

ccxt's own limiter (``enableRateLimit``) paces one client instance by endpoint weight and stays on.
It knows nothing about other instances: with spot and perp on two clients of one account
(Binance ``binance`` + ``binanceusdm``) both draw from the venue's per-account allowance. This
budget caps the sum, counting adapter calls to ccxt (one unit per call and per page; a
``load_markets`` that makes 3 HTTP requests counts once) over a sliding window (asyncio-throttle).

On by default at 50 calls/s per account, above what ccxt's limiter lets one Bybit client send
(weight 5 x 20 ms = 10 reads/s), so stacking costs nothing in normal operation. Measured on the
loopback simulator, one observe cycle (6 reads, mean of 5 cycles):
ccxt limiter on: 523 ms without a budget, 523 ms with 50/s, 522 ms with 20/s;
ccxt limiter off: 5 ms without, 5 ms with 50/s, 204 ms with 20/s (the window binding).
tests/integration/test_adapter_budget.py checks the accounting and the sharing.
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
