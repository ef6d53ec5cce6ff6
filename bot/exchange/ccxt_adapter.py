"""CcxtExchange: the ExchangePort over one ccxt async client (the only place ccxt is called).

Every ccxt call goes through ``_once`` (request budget, classification into bot.errors), reads and
cancels through ``_read`` (bounded jittered retries); see ccxt_base. ``create_order`` is never
retried: an ambiguous outcome is resolved at once by looking the client order id up (ccxt_orders).
This module holds the market-data reads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.domain import Balance, Bar, FundingRate, MarketKind, PerpPosition, Ticker
from bot.exchange import ccxt_mapping as m
from bot.exchange.ccxt_base import BOTH_KINDS, POSITION_PAGE, CcxtBase
from bot.exchange.ccxt_batch import CcxtBatch
from bot.exchange.ccxt_values import EPOCH, datetime_to_ms, nested

__all__ = ["BOTH_KINDS", "CcxtBase", "CcxtExchange"]

_TYPE_PARAMS: dict[MarketKind, dict[str, Any]] = {
    MarketKind.SPOT: {"type": "spot"},
    MarketKind.PERP: {"type": "swap", "subType": "linear"},
}


_CATEGORY = {MarketKind.SPOT: "spot", MarketKind.PERP: "linear"}  # Bybit v5 category


class CcxtExchange(CcxtBatch):
    """ExchangePort over one ccxt client serving ``kinds`` (spot, linear perps or both)."""

    async def fetch_balances(self) -> Mapping[str, Balance]:
        return m.to_balances(await self._read("fetch_balances", self._client.fetch_balance))

    async def fetch_positions(self) -> Mapping[str, PerpPosition]:
        if MarketKind.PERP not in self._kinds:
            return {}
        await self.load_markets()
        rows = await self._pages(
            "fetch_positions",
            self._client.fetch_positions,
            None,
            params={**self._profile.perp_listing_params, **self._page_limit(POSITION_PAGE)},
            page_size=POSITION_PAGE,
        )
        out: dict[str, PerpPosition] = {}
        for row in rows:
            market = self._by_symbol(row.get("symbol"), MarketKind.PERP)
            if market is not None:
                position = m.to_position(row, market)
                if position.size != 0:
                    out[market.symbol] = position
                    self._traded.add(market.symbol)
        return out

    async def _tickers(self, kind: MarketKind, symbols: Sequence[str]) -> dict[str, Any]:
        """Raw ccxt tickers of one category, one request (shared by concurrent callers)."""
        if self._profile.tickers_all_per_category:
            key: object = ("tickers", kind)
            wanted: list[str] | None = None
        else:
            wanted = sorted(set(symbols))
            key = ("tickers", kind, tuple(wanted))
        if self._profile.tickers_raw_method:
            return await self._shared(key, lambda: self._stamped_tickers(kind))
        return await self._shared(
            key,
            lambda: self._read(
                "fetch_tickers", self._client.fetch_tickers, wanted, dict(_TYPE_PARAMS[kind])
            ),
        )

    async def _stamped_tickers(self, kind: MarketKind) -> dict[str, Any]:
        """Bybit's ticker rows carry no time, so ccxt leaves the timestamp empty and a frozen
        feed would pass as fresh: stamp each row with the answer's server time, then let ccxt
        parse the rows as its fetch_tickers does."""
        method = getattr(self._client, str(self._profile.tickers_raw_method))
        answer = await self._read("fetch_tickers", method, {"category": _CATEGORY[kind]})
        answer = answer if isinstance(answer, dict) else {}
        stamp, rows = answer.get("time"), nested(answer, "result", "list") or []
        stamped = [{"time": stamp, **row} for row in rows if isinstance(row, dict)]
        parsed: dict[str, Any] = self._client.parse_tickers(stamped)
        return parsed

    async def _premium(self, symbols: Sequence[str]) -> dict[str, Any]:
        """Mark, index and funding of perps whose tickers lack them (Binance premiumIndex)."""
        wanted = sorted(set(symbols))
        return await self._shared(
            ("premium", tuple(wanted)),
            lambda: self._read("fetch_funding_rates", self._client.fetch_funding_rates, wanted),
        )

    async def fetch_tickers(self, symbols: Sequence[str]) -> Mapping[str, Ticker]:
        await self.load_markets()
        groups: dict[MarketKind, list[str]] = {}
        for symbol in symbols:
            groups.setdefault(self._market(symbol).kind, []).append(symbol)
        # the categories' reads go out together: one round trip, not one per category
        parts = await asyncio.gather(*(self._kind_tickers(k, w) for k, w in groups.items()))
        return {symbol: t for part in parts for symbol, t in part.items()}

    async def _kind_tickers(self, kind: MarketKind, wanted: list[str]) -> dict[str, Ticker]:
        if kind == MarketKind.PERP and self._profile.perp_ticker_needs_book:
            return await self._book_tickers(wanted)
        raw = await self._tickers(kind, wanted)
        return {s: m.to_ticker(raw[s], s) for s in wanted if s in raw}

    async def _book_tickers(self, symbols: list[str]) -> dict[str, Ticker]:
        book = await self._shared(
            ("book", tuple(sorted(symbols))),
            lambda: self._read("fetch_tickers", self._client.fetch_bids_asks, sorted(symbols)),
        )
        premium = await self._premium(symbols)
        out = {}
        for symbol in symbols:
            b, p = book.get(symbol) or {}, premium.get(symbol) or {}
            if b or p:
                merged = {**b, "markPrice": p.get("markPrice"), "indexPrice": p.get("indexPrice")}
                out[symbol] = m.to_ticker(merged, symbol)
        return out

    async def fetch_funding_rates(self, symbols: Sequence[str]) -> Mapping[str, FundingRate]:
        await self.load_markets()
        perps = [s for s in symbols if self._market(s).kind == MarketKind.PERP]
        if not perps:
            return {}
        if self._profile.funding_in_tickers:
            raw = await self._tickers(MarketKind.PERP, perps)
        else:
            raw = await self._premium(perps)
        out = {}
        for symbol in perps:
            if symbol in raw:
                rate = m.funding_from_ticker(
                    raw[symbol], symbol, self._funding_hours.get(symbol, 8)
                )
                if rate is not None:
                    out[symbol] = rate
        return out

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str, since: datetime | None, limit: int
    ) -> Sequence[Bar]:
        await self.load_markets()
        self._market(symbol)
        since_ms = datetime_to_ms(since) if since is not None else None
        rows = await self._read(
            "fetch_ohlcv", self._client.fetch_ohlcv, symbol, timeframe, since_ms, limit
        )
        bars = [b for b in (m.to_bar(r) for r in rows) if b is not None]
        bars = [b for b in bars if since is None or b.ts >= since]
        return sorted(bars, key=lambda b: b.ts)[:limit]

    async def fetch_funding_rate_history(
        self, symbol: str, since: datetime | None, limit: int
    ) -> Sequence[FundingRate]:
        await self.load_markets()
        self._market(symbol)
        since_ms = datetime_to_ms(since) if since is not None else None
        rows = await self._read(
            "fetch_funding_rate_history",
            self._client.fetch_funding_rate_history,
            symbol,
            since_ms,
            limit,
        )
        hours = self._funding_hours.get(symbol, 8)
        rates = [
            r for r in (m.to_funding_history(row, symbol, hours) for row in rows) if r is not None
        ]
        return sorted(rates, key=lambda r: r.next_funding_time or EPOCH)[-limit:]
