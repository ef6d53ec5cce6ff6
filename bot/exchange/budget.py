"""A request budget shared by every ccxt client of one account: the venue's own windows.

Each HTTP request waits, if it must, until every window it draws on has room: the account-wide
window (Bybit: 600 requests per 5 s per IP) and its endpoint's window (Bybit: per UID, per
endpoint, per second; ``bot.exchange.limits``). A window is a rolling log of admissions, as the
venue counts them, not a token bucket: a bucket refilled continuously lets 1.5x its size through
in some one-second span, which is exactly what the venue refuses. ``margin`` stretches every window
a little, so requests the network bunches together on the way still arrive inside the limit.

Requests that find room are never delayed: a steady cycle's 5 reads go out at once (ccxt's own
limiter, which paced every Bybit request 100 ms apart, is off; see factory).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from types import TracebackType

from bot.exchange.limits import IP_LIMIT, Endpoint

DEFAULT_REQUESTS, DEFAULT_PERIOD = IP_LIMIT
DEFAULT_MARGIN = 0.05  # windows 5 % longer than the venue's


class Window:
    """At most ``rate`` units in any ``period`` seconds (a sliding log). A unit held by a request
    still on its way counts until the answer is in, then from the answer's time: the venue counts
    a request when it arrives, which is after it left, however late the network or the event
    loop delivers it; counting it from the answer keeps every next one a full window behind."""

    def __init__(self, rate: int, period: float) -> None:
        if rate < 1 or period <= 0:
            raise ValueError("a request budget needs rate >= 1 and period > 0")
        self.rate, self.period = rate, period
        self._cells: list[list[float]] = []  # [time, done]: done 0.0 while in flight

    def wait(self, now: float, units: int) -> float:
        """Seconds until ``units`` fit (0: now)."""
        if units > self.rate:
            raise ValueError(f"{units} units can never fit a window of {self.rate}")
        self._cells = [c for c in self._cells if not c[1] or c[0] > now - self.period]
        over = len(self._cells) + units - self.rate
        if over <= 0:
            return 0.0
        done = sorted(c[0] for c in self._cells if c[1])
        # units in flight free nothing until answered: look again shortly
        return done[over - 1] + self.period - now if len(done) >= over else 0.01

    def take(self, now: float, units: int, *, held: bool = False) -> list[list[float]]:
        cells = [[now, 0.0 if held else 1.0] for _ in range(units)]
        self._cells.extend(cells)
        return cells


def release(ticket: list[list[float]]) -> None:
    """The request's answer is in: its units count from now."""
    now = time.monotonic()
    for cell in ticket:
        cell[0], cell[1] = now, 1.0


@dataclass
class RequestBudget:
    """``await budget.acquire(endpoint, units)`` before each request."""

    rate: int = DEFAULT_REQUESTS
    period: float = DEFAULT_PERIOD
    margin: float = DEFAULT_MARGIN
    used: int = 0  # requests admitted so far (the cycle summary records the delta)
    waited: float = 0.0  # seconds requests spent waiting for a window (diagnostics)
    _all: Window = field(init=False, repr=False)
    _endpoints: dict[str, Window] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._all = Window(self.rate, self.period * (1 + self.margin))

    async def acquire(
        self, endpoint: Endpoint | None = None, units: int = 1, *, held: bool = False
    ) -> list[list[float]]:
        """Wait for room; ``held``: the units count until ``release(ticket)`` (the answer)."""
        windows = [self._all]
        if endpoint is not None:
            window = self._endpoints.get(endpoint.key)
            if window is None:
                window = Window(endpoint.limit, 1.0 + self.margin)
                self._endpoints[endpoint.key] = window
            windows.append(window)
        start = time.monotonic()
        while True:
            now = time.monotonic()
            # all-request window counts requests; endpoint windows count orders of a batch
            delay = max([windows[0].wait(now, 1), *(w.wait(now, units) for w in windows[1:])])
            if delay <= 0:
                break
            await asyncio.sleep(delay)
        ticket = windows[0].take(now, 1, held=held)
        for w in windows[1:]:
            ticket += w.take(now, units, held=held)
        self.used += 1
        self.waited += now - start
        return ticket

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
