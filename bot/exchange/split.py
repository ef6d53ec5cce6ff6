"""SplitExchange: one ExchangePort over two, spot on one and linear perps on the other.

Used when spot and perps live on different clients (Binance ``binance`` + ``binanceusdm``) or
even different venues. Symbols are routed by the market kind each side reports; balances are
merged: the margin (settle) coins of the perp side come from the perp client, every other asset
from the spot wallet.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.domain import (
    Balance,
    Bar,
    Fill,
    FundingPayment,
    FundingRate,
    MarketInfo,
    MarketKind,
    OpenOrder,
    OrderAck,
    OrderIntent,
    OrderReport,
    PerpPosition,
    Ticker,
)
from bot.errors import FatalExchangeError
from bot.exchange.port import ExchangePort


class SplitExchange:
    def __init__(self, spot: ExchangePort, perp: ExchangePort) -> None:
        self._spot = spot
        self._perp = perp
        self._markets: dict[str, MarketInfo] | None = None

    def __repr__(self) -> str:
        return f"SplitExchange(spot={self._spot!r}, perp={self._perp!r})"

    @property
    def requests_used(self) -> int | None:
        counts = [getattr(p, "requests_used", None) for p in (self._spot, self._perp)]
        known = [c for c in counts if isinstance(c, int)]
        return sum(known) if known else None

    async def load_markets(self) -> Mapping[str, MarketInfo]:
        if self._markets is None:
            spot, perp = await asyncio.gather(self._spot.load_markets(), self._perp.load_markets())
            merged = {s: mk for s, mk in spot.items() if mk.kind == MarketKind.SPOT}
            merged.update({s: mk for s, mk in perp.items() if mk.kind == MarketKind.PERP})
            self._markets = merged
        return self._markets

    async def _side(self, symbol: str) -> ExchangePort:
        market = (await self.load_markets()).get(symbol)
        if market is None:
            raise FatalExchangeError(f"unknown symbol {symbol!r}")
        return self._perp if market.kind == MarketKind.PERP else self._spot

    async def _split(self, symbols: Sequence[str]) -> tuple[list[str], list[str]]:
        markets = await self.load_markets()
        unknown = [s for s in symbols if s not in markets]
        if unknown:
            raise FatalExchangeError(f"unknown symbols {unknown!r}")
        spot = [s for s in symbols if markets[s].kind == MarketKind.SPOT]
        perp = [s for s in symbols if markets[s].kind == MarketKind.PERP]
        return spot, perp

    def _margin_coins(self) -> set[str]:
        return {
            m.settle or m.quote for m in (self._markets or {}).values() if m.kind == MarketKind.PERP
        }

    async def fetch_balances(self) -> Mapping[str, Balance]:
        await self.load_markets()
        spot, perp = await asyncio.gather(self._spot.fetch_balances(), self._perp.fetch_balances())
        margin = self._margin_coins()
        merged = {a: b for a, b in spot.items() if a not in margin}
        merged.update({a: b for a, b in perp.items() if a in margin})
        return merged

    async def fetch_positions(self) -> Mapping[str, PerpPosition]:
        return await self._perp.fetch_positions()

    async def fetch_tickers(self, symbols: Sequence[str]) -> Mapping[str, Ticker]:
        spot, perp = await self._split(symbols)
        reads = [side.fetch_tickers(s) for side, s in ((self._spot, spot), (self._perp, perp)) if s]
        out: dict[str, Ticker] = {}
        for part in await asyncio.gather(*reads):  # both clients at once: one round trip
            out.update(part)
        return out

    async def fetch_funding_rates(self, symbols: Sequence[str]) -> Mapping[str, FundingRate]:
        _, perp = await self._split(symbols)
        return await self._perp.fetch_funding_rates(perp) if perp else {}

    async def fetch_open_orders(self, symbol: str | None = None) -> Sequence[OpenOrder]:
        if symbol is None:
            return await self._perp.fetch_open_orders(None)
        return await (await self._side(symbol)).fetch_open_orders(symbol)

    async def fetch_order(self, symbol: str, client_order_id: str) -> OrderReport | None:
        return await (await self._side(symbol)).fetch_order(symbol, client_order_id)

    async def create_order(self, intent: OrderIntent) -> OrderAck:
        return await (await self._side(intent.symbol)).create_order(intent)

    async def cancel_order(self, symbol: str, client_order_id: str) -> bool:
        return await (await self._side(symbol)).cancel_order(symbol, client_order_id)

    async def create_orders(
        self, intents: Sequence[OrderIntent]
    ) -> Sequence[OrderAck | BaseException]:
        sides = [await self._side(i.symbol) for i in intents]
        return await self._each_side(
            sides, lambda port, picked: port.create_orders([intents[n] for n in picked])
        )

    async def cancel_orders(
        self, cancels: Sequence[tuple[str, str]]
    ) -> Sequence[bool | BaseException]:
        sides = [await self._side(symbol) for symbol, _ in cancels]
        return await self._each_side(
            sides, lambda port, picked: port.cancel_orders([cancels[n] for n in picked])
        )

    async def amend_stops(
        self, amends: Sequence[tuple[str, str, Decimal, Decimal]]
    ) -> Sequence[OrderAck | BaseException]:
        sides = [await self._side(a[0]) for a in amends]
        return await self._each_side(
            sides, lambda port, picked: port.amend_stops([amends[n] for n in picked])
        )

    async def _each_side(
        self, sides: list[ExchangePort], send: Callable[[ExchangePort, list[int]], Awaitable[Any]]
    ) -> list[Any]:
        """Both clients at once, each with its own items; outcomes back in the callers' order."""
        pairs = [(p, [n for n, s in enumerate(sides) if s is p]) for p in (self._spot, self._perp)]
        groups = [(port, picked) for port, picked in pairs if picked]
        answers = await asyncio.gather(*(send(port, picked) for port, picked in groups))
        outcomes: list[Any] = [None] * len(sides)
        for (_, picked), answer in zip(groups, answers, strict=True):
            for n, outcome in zip(picked, answer, strict=True):
                outcomes[n] = outcome
        return outcomes

    async def amend_stop(
        self, symbol: str, client_order_id: str, qty: Decimal, trigger_price: Decimal
    ) -> OrderAck:
        side = await self._side(symbol)
        return await side.amend_stop(symbol, client_order_id, qty, trigger_price)

    async def fetch_fills(
        self, symbol: str | None, since: datetime | None, until: datetime | None = None
    ) -> Sequence[Fill]:
        if symbol is None:
            return await self._perp.fetch_fills(None, since, until)
        return await (await self._side(symbol)).fetch_fills(symbol, since, until)

    async def fetch_funding_payments(
        self, symbol: str | None, since: datetime | None, until: datetime | None = None
    ) -> Sequence[FundingPayment]:
        if symbol is not None:
            await self._side(symbol)
        return await self._perp.fetch_funding_payments(symbol, since, until)

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str, since: datetime | None, limit: int
    ) -> Sequence[Bar]:
        return await (await self._side(symbol)).fetch_ohlcv(symbol, timeframe, since, limit)

    async def fetch_funding_rate_history(
        self, symbol: str, since: datetime | None, limit: int
    ) -> Sequence[FundingRate]:
        return await (await self._side(symbol)).fetch_funding_rate_history(symbol, since, limit)

    async def set_leverage(self, symbol: str, leverage: Decimal) -> None:
        await (await self._side(symbol)).set_leverage(symbol, leverage)

    async def close(self) -> None:
        results = await asyncio.gather(
            self._spot.close(), self._perp.close(), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
