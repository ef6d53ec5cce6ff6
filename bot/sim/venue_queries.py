"""The venue's read side: typed answers that each front renders in its own format."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from decimal import Decimal

from bot.domain import Bar
from bot.sim.account import Account, CoinFunds, PositionRow, WalletReport
from bot.sim.book import OrderBook, OrderQuery
from bot.sim.feed_base import BarKind
from bot.sim.market_data import MarketData, TickerRow
from bot.sim.markets import MarketSpec, VenueConfig
from bot.sim.model import Execution, SimOrder


class VenueQueries:
    config: VenueConfig
    market: MarketData
    account: Account
    book: OrderBook
    now: datetime

    def spec(self, category: str, symbol: str) -> MarketSpec:
        return self.config.market(category, symbol)

    def instruments(self, category: str, symbol: str | None = None) -> list[MarketSpec]:
        return [
            m for m in self.config.markets if m.category == category and symbol in (None, m.symbol)
        ]

    def tickers(self, category: str, symbol: str | None = None) -> list[TickerRow]:
        if symbol is not None:  # unknown symbol: params error
            return [self.market.ticker(self.config.market(category, symbol), self.now)]
        return [self.market.ticker(m, self.now) for m in self.instruments(category)]

    def prices(self, spec: MarketSpec) -> tuple[Decimal, Decimal, Decimal, Decimal, Decimal]:
        """A ticker's prices (bid, ask, last, mark, index), without its 24 h figures and funding
        forecast: what the in-process port reads, at a fraction of a ticker's cost."""
        m = self.market
        return (*m.bid_ask(spec), m.last(spec), m.mark(spec), m.index(spec))

    def funding_forecast(self, spec: MarketSpec) -> tuple[Decimal, datetime]:
        return self.market.funding_forecast(spec, self.now)

    def wallet(self) -> WalletReport:
        return self.account.report(self.book.open_orders())

    def balances(self) -> list[CoinFunds]:
        """The wallet report's per-coin funds only (no account totals)."""
        return self.account.funds(self.book.open_orders())

    def positions(self, symbol: str | None = None) -> list[PositionRow]:
        """One symbol: its row even when flat. Otherwise every open position."""
        if symbol is not None:
            self.config.market("linear", symbol)
            return [self.account.row(self.account.positions[symbol])]
        held = [p for _, p in sorted(self.account.positions.items()) if p.size]
        totals = self.account.totals() if held else None
        return [self.account.row(p, totals) for p in held]

    def _base_of(self, order: SimOrder) -> str:
        return self.config.market(order.category, order.symbol).base

    def orders_realtime(
        self, query: OrderQuery, open_only: int = 0, *, copies: bool = True
    ) -> list[SimOrder]:
        """``copies=False``: the live orders, for a caller that only reads them at once."""
        return self.book.realtime(query, self._base_of, open_only, copies=copies)

    def order_history(self, query: OrderQuery) -> list[SimOrder]:
        return self.book.history(query, self._base_of)

    def order(self, order_id: str | None = None, link_id: str | None = None) -> SimOrder | None:
        found = self.book.find(order_id, link_id)
        return copy.copy(found) if found is not None else None

    def executions(
        self,
        category: str,
        symbol: str | None = None,
        exec_type: str | None = None,
        order_id: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        base: str | None = None,
    ) -> list[Execution]:
        """Newest first."""

        def of_base(e: Execution) -> bool:
            return self.config.market(e.category, e.symbol).base == base

        return self.book.select_executions(
            category, symbol, of_base if base else None, exec_type, order_id, start, end
        )

    def klines(
        self,
        category: str,
        symbol: str,
        interval: timedelta,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 200,
        kind: BarKind | None = None,
    ) -> list[Bar]:
        """Oldest first."""
        spec = self.config.market(category, symbol)
        chosen: BarKind = kind or ("spot" if category == "spot" else "perp")
        return self.market.klines(spec, chosen, interval, self.now, start, end, limit)

    def funding_history(
        self,
        symbol: str,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 200,
    ) -> list[tuple[datetime, Decimal]]:
        """Newest first."""
        spec = self.config.market("linear", symbol)
        return self.market.funding_history(spec, self.now, start, end, limit)
