"""Plumbing shared by the ccxt adapter's parts: one client, its profile and markets, the request
budget, classification of every ccxt exception (``_once``), bounded retries for reads and cancels
(``_read``), request sharing between concurrent identical reads and cursor pagination.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import structlog
from ccxt.base import errors as ccxt_errors

from bot.domain import MarketInfo, MarketKind
from bot.errors import ExchangeError, FatalExchangeError
from bot.exchange import ccxt_mapping as m
from bot.exchange.budget import RequestBudget, release
from bot.exchange.classify import classify
from bot.exchange.limits import cost, endpoint
from bot.exchange.retry import RetryPolicy, Sleep, with_retry
from bot.exchange.venues import VenueProfile

T = TypeVar("T")
BOTH_KINDS = frozenset({MarketKind.SPOT, MarketKind.PERP})
MAX_PAGES = 20  # cursor pages per listing: 20 x 100-200 rows is far beyond one cycle's needs
PAGE_SIZE = 100  # executions per page (Bybit max)
POSITION_PAGE = 200  # ccxt asks Bybit for 200 positions a page


def _next_cursor(rows: Sequence[Mapping[str, Any]]) -> str | None:
    # ccxt puts the page cursor into the info of one (the first raw) row of the page
    for row in rows:
        cursor = (row.get("info") or {}).get("nextPageCursor")
        if cursor:
            return str(cursor)
    return None


class CcxtBase:
    """One ccxt client serving ``kinds`` (spot, linear perps or both) of one venue profile."""

    def __init__(
        self,
        client: Any,
        profile: VenueProfile,
        *,
        kinds: frozenset[MarketKind] = BOTH_KINDS,
        budget: RequestBudget | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        self._client = client
        self._profile = profile
        self._kinds = kinds
        self._budget = budget
        self._retry = retry or RetryPolicy()
        self._sleep_kw: dict[str, Sleep] = {"sleep": sleep} if sleep is not None else {}
        self._markets: dict[str, MarketInfo] | None = None
        self._funding_hours: dict[str, int] = {}
        self._inflight: dict[object, asyncio.Future[Any]] = {}
        self._traded: set[str] = set()  # perps we touched: venues that list fills per symbol
        self._sent = 0  # HTTP requests sent (every page, every retry, load_markets' three)
        self._pace()

    def __repr__(self) -> str:
        kinds = ",".join(sorted(k.value for k in self._kinds))
        name, venue = type(self).__name__, self._profile.name
        return f"{name}(venue={venue!r}, client={self._client.id!r}, kinds={kinds})"

    __str__ = __repr__

    @property
    def profile(self) -> VenueProfile:
        return self._profile

    @property
    def kinds(self) -> frozenset[MarketKind]:
        return self._kinds

    @property
    def requests_used(self) -> int:
        """HTTP requests sent so far (the cycle summary records the delta)."""
        return self._sent

    # -- plumbing -------------------------------------------------------------------------------

    def _pace(self) -> None:
        """Route every HTTP request of the client (ccxt's implicit API methods all call
        ``request``) through the budget's windows for its endpoint, and count it."""
        send = self._client.request

        async def paced(path: str, *args: Any, **kwargs: Any) -> Any:
            params = args[2] if len(args) > 2 else kwargs.get("params")
            ticket = None
            if self._budget is not None:
                window = endpoint(path, params)
                ticket = await self._budget.acquire(window, cost(path, params), held=True)
            self._sent += 1
            try:
                return await send(path, *args, **kwargs)
            finally:
                if ticket is not None:
                    release(ticket)

        self._client.request = paced

    async def _once(self, operation: str, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        try:
            return await fn(*args)
        except ExchangeError:
            raise
        except Exception as exc:  # everything ccxt (or aiohttp under it) raises is classified
            if isinstance(exc, ccxt_errors.InvalidNonce):
                await self._resync_clock()
            # from None: the ccxt message holds the raw URL and body; only the sanitised one goes on
            raise classify(exc, operation, secrets=self._secrets()) from None

    def _secrets(self) -> tuple[str | None, str | None]:
        return getattr(self._client, "apiKey", None), getattr(self._client, "secret", None)

    async def _resync_clock(self) -> None:
        """The venue refused our timestamp: ccxt never re-measures the offset by itself
        (EXCHANGE-PROTOCOL §3.2), so measure it now and let the retry sign with it."""
        try:
            await self._client.load_time_difference()
        except Exception as exc:  # the retry reports the original error; this is best effort
            structlog.get_logger().warning("exchange_clock_resync_failed", error=type(exc).__name__)

    async def _read(self, operation: str, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        return await with_retry(
            operation, lambda: self._once(operation, fn, *args), self._retry, **self._sleep_kw
        )

    async def _shared(self, key: object, factory: Callable[[], Awaitable[T]]) -> T:
        """Concurrent identical reads (tickers and funding of one cycle) share one request."""
        future = self._inflight.get(key)
        if future is None:
            future = asyncio.ensure_future(factory())
            self._inflight[key] = future
            future.add_done_callback(lambda f: self._forget(key, f))
        result: T = await asyncio.shield(future)
        return result

    def _forget(self, key: object, future: asyncio.Future[Any]) -> None:
        if self._inflight.get(key) is future:
            del self._inflight[key]
        if not future.cancelled():
            future.exception()  # retrieved: a failure every waiter abandoned is not "never seen"

    def _market(self, symbol: str) -> MarketInfo:
        market = (self._markets or {}).get(symbol)
        if market is None:
            raise FatalExchangeError(f"unknown symbol {symbol!r} on {self._profile.name}")
        return market

    def _by_symbol(self, symbol: Any, kind: MarketKind | None = None) -> MarketInfo | None:
        market = (self._markets or {}).get(str(symbol))
        if market is None or (kind is not None and market.kind != kind):
            return None
        return market

    def _page_limit(self, size: int) -> dict[str, int]:
        # only cursor venues get an explicit page size (Binance refuses unread parameters)
        return {"limit": size} if self._profile.cursor_pages else {}

    async def _pages(
        self,
        operation: str,
        fn: Callable[..., Awaitable[list[Any]]],
        *args: Any,
        params: dict,
        page_size: int,
    ) -> list[Any]:
        """Follow the venue's cursor, but only past a full page: Bybit returns a cursor on the
        last page too, and asking again would double the reads of every cycle."""
        rows: list[Any] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            extra = {"cursor": cursor} if cursor else {}
            page = await self._read(operation, fn, *args, {**params, **extra})
            rows.extend(page)
            following = _next_cursor(page) if self._profile.cursor_pages else None
            if len(page) < page_size or not following or following == cursor:
                break
            cursor = following
        return rows

    async def load_markets(self) -> Mapping[str, MarketInfo]:
        if self._markets is None:
            raw = await self._shared(
                "markets", lambda: self._read("load_markets", self._client.load_markets)
            )
            markets: dict[str, MarketInfo] = {}
            for market in raw.values():
                info = m.to_market(market)
                if info is not None and info.kind in self._kinds:
                    markets[info.symbol] = info
                    if info.kind == MarketKind.PERP:
                        self._funding_hours[info.symbol] = m.interval_hours(market)
            self._markets = markets
        return self._markets

    async def close(self) -> None:
        await self._client.close()
