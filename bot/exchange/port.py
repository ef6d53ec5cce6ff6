"""The exchange port: what the bot needs from a venue, in domain types.

Implementations: ``ccxt_adapter.CcxtExchange`` (any ccxt venue, including the loopback Bybit
simulator) and ``inprocess.InProcessExchange`` (the simulator's venue model called directly, for
unit tests and fast backtests). Errors are raised as ``bot.errors`` classes, never ccxt's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

from bot.domain import (
    Balance,
    Bar,
    Fill,
    FundingPayment,
    FundingRate,
    MarketInfo,
    OpenOrder,
    OrderAck,
    OrderIntent,
    OrderReport,
    PerpPosition,
    Ticker,
)


@runtime_checkable
class ExchangePort(Protocol):
    async def load_markets(self) -> Mapping[str, MarketInfo]:
        """All spot and linear perp markets, keyed by unified symbol. Cached by implementations."""
        ...

    async def fetch_balances(self) -> Mapping[str, Balance]:
        """Every asset of the (unified) wallet, in one request."""
        ...

    async def fetch_positions(self) -> Mapping[str, PerpPosition]:
        """All open linear perp positions (by settle coin, one request), keyed by symbol.
        Flat positions may be omitted."""
        ...

    async def fetch_tickers(self, symbols: Sequence[str]) -> Mapping[str, Ticker]:
        """Tickers for the given symbols: one request per market category, whatever their number."""
        ...

    async def fetch_funding_rates(self, symbols: Sequence[str]) -> Mapping[str, FundingRate]:
        """Current (next) funding rate per perp symbol."""
        ...

    async def fetch_open_orders(self, symbol: str | None = None) -> Sequence[OpenOrder]:
        """Open orders including untriggered stop orders: of one symbol, or (None) of every linear
        perp in one request (by settle coin), so reads per cycle do not grow with the hedges."""
        ...

    async def fetch_order(self, symbol: str, client_order_id: str) -> OrderReport | None:
        """Look an order up by client order id (open or closed); None if the venue never saw it."""
        ...

    async def create_order(self, intent: OrderIntent) -> OrderAck:
        """Send one order. Raises OrderRejected (with the venue's reason) or AmbiguousSubmit.
        Never retried by the implementation."""
        ...

    async def cancel_order(self, symbol: str, client_order_id: str) -> bool:
        """Cancel by client order id. False if no longer open (filled, cancelled, unknown)."""
        ...

    async def create_orders(
        self, intents: Sequence[OrderIntent]
    ) -> Sequence[OrderAck | BaseException]:
        """Send several orders in as few requests as the venue allows (Bybit: one batch per
        category); one outcome per intent, in order: its ack, or the error it alone met (as
        create_order raises them). Never retried; an unknown batch outcome is resolved by
        client id for each of its orders."""
        ...

    async def cancel_orders(
        self, cancels: Sequence[tuple[str, str]]
    ) -> Sequence[bool | BaseException]:
        """Cancel several (symbol, client order id) in as few requests as the venue allows; one
        outcome per cancel, in order: as cancel_order answers, or the error it met."""
        ...

    async def amend_stop(
        self, symbol: str, client_order_id: str, qty: Decimal, trigger_price: Decimal
    ) -> OrderAck:
        """Move a resting stop-loss in place: new quantity and trigger, the same venue and client
        order ids. Raises OrderNotFound when it is gone (filled, cancelled), OrderRejected when
        refused (or the venue does not amend), TransientError when the outcome is unknown."""
        ...

    async def amend_stops(
        self, amends: Sequence[tuple[str, str, Decimal, Decimal]]
    ) -> Sequence[OrderAck | BaseException]:
        """amend_stop for several (symbol, client order id, qty, trigger) in as few requests as
        the venue allows (Bybit: amend-batch); one outcome per amendment, in order."""
        ...

    async def fetch_fills(
        self, symbol: str | None, since: datetime | None, until: datetime | None = None
    ) -> Sequence[Fill]:
        """Our executions from ``since`` to ``until`` (inclusive), oldest first: of one symbol, or
        (None) of every linear perp in one request. Like Bybit, a venue answers at most a window
        (7 days) from ``since``; ``until - since`` must stay within it."""
        ...

    async def fetch_funding_payments(
        self, symbol: str | None, since: datetime | None, until: datetime | None = None
    ) -> Sequence[FundingPayment]:
        """Funding settlements from ``since`` to ``until`` (inclusive), oldest first: of one perp,
        or (None) of every linear perp in one request; the same window as fetch_fills."""
        ...

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str, since: datetime | None, limit: int
    ) -> Sequence[Bar]:
        """Bars oldest first, at most ``limit``, starting at ``since`` when given."""
        ...

    async def fetch_funding_rate_history(
        self, symbol: str, since: datetime | None, limit: int
    ) -> Sequence[FundingRate]:
        """Past settled funding rates of one perp, oldest first (for funding-aware strategies)."""
        ...

    async def set_leverage(self, symbol: str, leverage: Decimal) -> None:
        """Set the perp leverage; tolerates 'not modified'."""
        ...

    async def close(self) -> None: ...
