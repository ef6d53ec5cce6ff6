"""``InProcessExchange``: the ExchangePort over the simulator's venue model, called directly.

Used by unit tests and fast backtests: the same matching logic as the loopback Bybit server, with
no HTTP and no ccxt. Unified symbols: "BTC/USDT" is the spot market, "BTC/USDT:USDT" the linear
perp. ``create_order`` acknowledges like the ccxt adapter does (OPEN, or REJECTED), so the bot's
reconcile sees the same flow on both ports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from bot.domain import (
    Balance,
    Bar,
    Fill,
    FundingPayment,
    FundingRate,
    IntentStatus,
    MarketInfo,
    MarketKind,
    OpenOrder,
    OrderAck,
    OrderIntent,
    OrderKind,
    OrderReport,
    OrderState,
    PerpPosition,
    Side,
    Ticker,
)
from bot.errors import ExchangeError, FatalExchangeError, OrderNotFound, OrderRejected
from bot.exchange.found import ack_found
from bot.exchange.inprocess_batch import InProcessBatch
from bot.sim.bars import parse_timeframe
from bot.sim.book import OrderQuery
from bot.sim.errors import DUPLICATE_LINK_ID, LEVERAGE_NOT_MODIFIED, ORDER_NOT_FOUND, VenueError
from bot.sim.markets import MarketSpec
from bot.sim.model import REJECTED, Execution, OrderRequest, SimOrder
from bot.sim.venue import Venue

_STATE = {
    "New": OrderState.OPEN,
    "PartiallyFilled": OrderState.OPEN,
    "Untriggered": OrderState.OPEN,
    "Triggered": OrderState.OPEN,
    "Filled": OrderState.CLOSED,
    "Cancelled": OrderState.CANCELLED,
    "PartiallyFilledCanceled": OrderState.CANCELLED,
    "Deactivated": OrderState.CANCELLED,
    "Rejected": OrderState.REJECTED,
}
_NOT_FOUND = {ORDER_NOT_FOUND, 170213}
HISTORY_SPAN = timedelta(days=7)  # Bybit /v5/execution/list


def unified_symbol(spec: MarketSpec) -> str:
    pair = f"{spec.base}/{spec.quote}"
    return f"{pair}:{spec.settle}" if spec.category == "linear" else pair


def venue_error(exc: VenueError, operation: str) -> ExchangeError:
    text = f"{exc.ret_code} {exc.message}"
    if exc.ret_code in _NOT_FOUND:
        return OrderNotFound(text, operation=operation, code=str(exc.ret_code))
    if operation in ("create_order", "amend_order"):
        return OrderRejected(text, operation=operation, code=str(exc.ret_code))
    return ExchangeError(text, operation=operation, code=str(exc.ret_code))


class InProcessExchange(InProcessBatch):
    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self._specs = {unified_symbol(m): m for m in venue.config.markets}
        # the venue's (category, id) -> unified symbol: every row read names its market
        self._unified: dict[tuple[str, str], str] = {
            (m.category, m.symbol): u for u, m in reversed(self._specs.items())
        }

    def __repr__(self) -> str:
        return f"InProcessExchange(markets={len(self._specs)}, now={self.venue.now.isoformat()})"

    def _spec(self, symbol: str, operation: str) -> MarketSpec:
        spec = self._specs.get(symbol)
        if spec is None:
            raise FatalExchangeError(f"unknown symbol {symbol!r}", operation=operation)
        return spec

    def _symbol(self, category: str, venue_symbol: str) -> str:
        found = self._unified.get((category, venue_symbol))
        return (
            found if found is not None else unified_symbol(self.venue.spec(category, venue_symbol))
        )

    # ---- reads ---------------------------------------------------------------------------------
    async def load_markets(self) -> Mapping[str, MarketInfo]:
        return {
            symbol: MarketInfo(
                symbol=symbol,
                venue_id=m.symbol,
                base=m.base,
                quote=m.quote,
                kind=MarketKind.PERP if m.category == "linear" else MarketKind.SPOT,
                amount_step=m.qty_step,
                min_qty=m.min_qty,
                min_notional=m.min_notional,
                price_tick=m.tick,
                max_leverage=m.max_leverage,
                settle=m.settle,
            )
            for symbol, m in self._specs.items()
        }

    async def fetch_balances(self) -> Mapping[str, Balance]:
        out = {}
        for coin, total, locked, position_im, order_im in self.venue.balances():
            used = locked + position_im + order_im
            out[coin] = Balance(coin, free=total - used, used=used, total=total)
        return out

    async def fetch_positions(self) -> Mapping[str, PerpPosition]:
        return {
            (symbol := self._symbol(row.spec.category, row.spec.symbol)): PerpPosition(
                symbol=symbol,
                size=row.size,
                entry_price=row.entry,
                mark_price=row.mark,
                liquidation_price=row.liquidation_price,
                unrealized_pnl=row.unrealised,
                leverage=row.leverage,
                initial_margin=row.initial_margin,
                maintenance_margin=row.maintenance_margin,
            )
            for row in self.venue.positions()
        }

    async def fetch_tickers(self, symbols: Sequence[str]) -> Mapping[str, Ticker]:
        out = {}
        for symbol in symbols:
            spec = self._spec(symbol, "fetch_tickers")
            bid, ask, last, mark, index = self.venue.prices(spec)
            perp = spec.category == "linear"
            out[symbol] = Ticker(
                symbol=symbol,
                bid=bid,
                ask=ask,
                last=last,
                mark=mark if perp else None,
                index=index if perp else None,
                ts=self.venue.now,
            )
        return out

    async def fetch_funding_rates(self, symbols: Sequence[str]) -> Mapping[str, FundingRate]:
        out = {}
        for symbol in symbols:
            spec = self._spec(symbol, "fetch_funding_rates")
            if spec.category != "linear":
                continue
            rate, nxt = self.venue.funding_forecast(spec)
            out[symbol] = FundingRate(symbol, rate, nxt, spec.funding_minutes // 60)
        return out

    async def fetch_open_orders(self, symbol: str | None = None) -> Sequence[OpenOrder]:
        if symbol is None:
            query = OrderQuery("linear", settle="USDT")
        else:
            spec = self._spec(symbol, "fetch_open_orders")
            query = OrderQuery(spec.category, symbol=spec.symbol)
        rows = self.venue.orders_realtime(query, copies=False)  # read here, not kept
        return [self._open_order(o) for o in rows][::-1]

    def _open_order(self, o: SimOrder) -> OpenOrder:
        kind = (
            OrderKind.STOP_MARKET
            if o.is_conditional
            else OrderKind.LIMIT
            if o.order_type == "Limit"
            else OrderKind.MARKET
        )
        return OpenOrder(
            symbol=self._symbol(o.category, o.symbol),
            venue_order_id=o.order_id,
            client_order_id=o.link_id or None,
            side=Side(o.side.lower()),
            kind=kind,
            qty=o.qty,
            filled=o.cum_qty,
            reduce_only=o.reduce_only,
            price=o.price if kind == OrderKind.LIMIT else None,
            trigger_price=o.trigger_price,
        )

    async def fetch_order(self, symbol: str, client_order_id: str) -> OrderReport | None:
        spec = self._spec(symbol, "fetch_order")
        o = self.venue.order(link_id=client_order_id)
        if o is None or o.category != spec.category or o.symbol != spec.symbol:
            return None
        state = _STATE[o.status]
        final_without_fill = state in (OrderState.CANCELLED, OrderState.REJECTED)
        return OrderReport(
            symbol=symbol,
            venue_order_id=o.order_id,
            client_order_id=o.link_id or None,
            state=state,
            qty=o.qty,
            filled=o.cum_qty,
            average_price=o.avg_price,
            reason=o.reject_reason if final_without_fill else None,
            side=Side.BUY if o.side == "Buy" else Side.SELL,
            kind=OrderKind.STOP_MARKET
            if o.is_conditional
            else OrderKind.LIMIT
            if o.order_type == "Limit"
            else OrderKind.MARKET,
            created_at=o.created.replace(microsecond=o.created.microsecond // 1000 * 1000),
        )

    # ---- writes --------------------------------------------------------------------------------
    async def create_order(self, intent: OrderIntent) -> OrderAck:
        spec = self._spec(intent.symbol, "create_order")
        stop = intent.kind == OrderKind.STOP_MARKET
        if stop and intent.trigger_price is None:
            raise OrderRejected("a stop order needs a trigger price", operation="create_order")
        request = OrderRequest(
            category=spec.category,
            symbol=spec.symbol,
            side="Buy" if intent.side == Side.BUY else "Sell",
            order_type="Limit" if intent.kind == OrderKind.LIMIT else "Market",
            qty=intent.qty,
            price=intent.price if intent.kind == OrderKind.LIMIT else None,
            link_id=intent.client_order_id,
            reduce_only=intent.reduce_only or stop,
            trigger_price=intent.trigger_price if stop else None,
            # a buy stop protects a short: it fires when the price rises through the trigger
            trigger_direction=(1 if intent.side == Side.BUY else 2) if stop else None,
            trigger_by="MarkPrice",  # as the ccxt adapter sends for Bybit (venues.py stop_params)
            market_unit="baseCoin",
        )
        try:
            order = self.venue.place_order(request)
        except VenueError as exc:
            if exc.ret_code == DUPLICATE_LINK_ID:  # as the ccxt adapter does: look the id up
                report = await self.fetch_order(intent.symbol, intent.client_order_id)
                if report is not None:
                    return ack_found(intent, report, "create_order")
            raise venue_error(exc, "create_order") from None
        if order.status == REJECTED:
            return OrderAck(
                intent.client_order_id, order.order_id, IntentStatus.REJECTED, order.reject_reason
            )
        return OrderAck(intent.client_order_id, order.order_id, IntentStatus.OPEN)

    async def cancel_order(self, symbol: str, client_order_id: str) -> bool:
        spec = self._spec(symbol, "cancel_order")
        try:
            self.venue.cancel_order(spec.category, spec.symbol, link_id=client_order_id)
        except VenueError as exc:
            if exc.ret_code in _NOT_FOUND:
                return False
            raise venue_error(exc, "cancel_order") from None
        return True

    async def set_leverage(self, symbol: str, leverage: Decimal) -> None:
        spec = self._spec(symbol, "set_leverage")
        try:
            self.venue.set_leverage(spec.symbol, leverage)
        except VenueError as exc:
            if exc.ret_code != LEVERAGE_NOT_MODIFIED:
                raise venue_error(exc, "set_leverage") from None

    # ---- history -------------------------------------------------------------------------------
    def _executions(
        self,
        symbol: str | None,
        kind: str,
        operation: str,
        since: datetime | None,
        until: datetime | None,
    ) -> list[Execution]:
        """Bybit's window, as the HTTP front answers it: without times the last 7 days, one bound
        given the 7 days from or to it, a span above 7 days refused."""
        start, end = since, until
        if start is None:
            end = end or self.venue.now
            start = end - HISTORY_SPAN
        elif end is None:
            end = start + HISTORY_SPAN
        elif end - start > HISTORY_SPAN:
            raise ExchangeError(
                "10001 The time range between startTime and endTime cannot exceed 7 days",
                operation=operation,
                code="10001",
            )
        if symbol is None:
            return self.venue.executions("linear", exec_type=kind, start=start, end=end)
        spec = self._spec(symbol, operation)
        return self.venue.executions(
            spec.category, spec.symbol, exec_type=kind, start=start, end=end
        )

    async def fetch_fills(
        self, symbol: str | None, since: datetime | None, until: datetime | None = None
    ) -> Sequence[Fill]:
        rows = self._executions(symbol, "Trade", "fetch_fills", since, until)
        fills = [
            Fill(
                trade_id=e.exec_id,
                venue_order_id=e.order_id,
                client_order_id=e.link_id or None,
                symbol=self._symbol(e.category, e.symbol),
                side=Side(e.side.lower()),
                qty=e.qty,
                price=e.price,
                fee=e.fee,
                fee_asset=e.fee_currency,
                ts=e.time,
            )
            for e in rows
            if since is None or e.time >= since
        ]
        return sorted(fills, key=lambda f: (f.ts, f.trade_id))  # the ccxt adapter's order

    async def fetch_funding_payments(
        self, symbol: str | None, since: datetime | None, until: datetime | None = None
    ) -> Sequence[FundingPayment]:
        rows = self._executions(symbol, "Funding", "fetch_funding_payments", since, until)
        payments = [
            FundingPayment(
                payment_id=e.exec_id,
                symbol=self._symbol(e.category, e.symbol),
                amount=-e.fee,  # the venue's fee is positive when paid
                ts=e.time,
                rate=e.fee_rate,
                position_size=e.qty if e.side == "Buy" else -e.qty,
            )
            for e in rows
            if since is None or e.time >= since
        ]
        return sorted(payments, key=lambda p: (p.ts, p.payment_id))

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str, since: datetime | None, limit: int
    ) -> Sequence[Bar]:
        spec = self._spec(symbol, "fetch_ohlcv")
        try:
            interval = parse_timeframe(timeframe)
            return self.venue.klines(spec.category, spec.symbol, interval, start=since, limit=limit)
        except ValueError as exc:
            raise FatalExchangeError(str(exc), operation="fetch_ohlcv") from None
        except VenueError as exc:
            raise venue_error(exc, "fetch_ohlcv") from None

    async def fetch_funding_rate_history(
        self, symbol: str, since: datetime | None, limit: int
    ) -> Sequence[FundingRate]:
        spec = self._spec(symbol, "fetch_funding_rate_history")
        if since is None:
            rows = self.venue.funding_history(spec.symbol, limit=limit)
        else:  # the first ``limit`` settlements from ``since``
            end = since + limit * spec.funding_interval
            rows = self.venue.funding_history(spec.symbol, start=since, end=end, limit=200)
        hours = spec.funding_minutes // 60
        oldest_first = [FundingRate(symbol, rate, ts, hours) for ts, rate in reversed(rows)]
        return oldest_first[:limit] if since is not None else oldest_first

    async def close(self) -> None:
        return None
