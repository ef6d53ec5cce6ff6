"""Frozen domain types shared by every layer. Amounts are Decimal; perp sizes are signed base units.

This module imports nothing from the project: strategies, the planner, the store and the exchange
adapters all speak these types, so ccxt structures never leak above ``bot/exchange``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

ZERO = Decimal(0)


def frozen_map(data: Mapping | None = None) -> Mapping:
    """A read-only view, so a strategy cannot mutate the snapshot it was handed."""
    return MappingProxyType(dict(data or {}))


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class MarketKind(StrEnum):
    SPOT = "spot"
    PERP = "perp"


class OrderKind(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP_MARKET = "stop_market"


class IntentPurpose(StrEnum):
    HEDGE = "hedge"  # moves the perp position toward a strategy target
    STOP = "stop"  # the protective reduce-only stop-loss resting on the venue
    CLOSE = "close"  # closes a disabled hedge (on_disable = "close")


class IntentStatus(StrEnum):
    PENDING = "pending"  # written ahead, not yet known to the venue
    OPEN = "open"  # acknowledged, resting (limits, stops) or not yet filled
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"  # the venue refused it; the reason is recorded
    UNKNOWN = "unknown"  # ambiguous submit: not yet found on the venue
    LOST = "lost"  # confirmed never to have reached the venue

    @property
    def unresolved(self) -> bool:
        return self in (IntentStatus.PENDING, IntentStatus.UNKNOWN)

    @property
    def final(self) -> bool:
        return self in (
            IntentStatus.FILLED,
            IntentStatus.CANCELLED,
            IntentStatus.REJECTED,
            IntentStatus.LOST,
        )


class OrderState(StrEnum):
    """The venue's view of one order, normalised."""

    OPEN = "open"
    CLOSED = "closed"  # fully filled
    CANCELLED = "cancelled"
    REJECTED = "rejected"


class TradingState(StrEnum):
    ACTIVE = "active"
    REDUCING = "reducing"  # only orders that shrink a short are allowed
    HALTED = "halted"  # no orders at all until an operator resumes


@dataclass(frozen=True, slots=True)
class MarketInfo:
    symbol: str  # unified symbol, e.g. "BTC/USDT" (spot) or "BTC/USDT:USDT" (linear perp)
    venue_id: str  # the venue's own id, e.g. "BTCUSDT"
    base: str
    quote: str
    kind: MarketKind
    amount_step: Decimal
    min_qty: Decimal
    min_notional: Decimal
    price_tick: Decimal
    contract_size: Decimal = Decimal(1)
    max_leverage: Decimal = Decimal(1)
    settle: str | None = None


@dataclass(frozen=True, slots=True)
class Balance:
    asset: str
    free: Decimal
    used: Decimal
    total: Decimal


@dataclass(frozen=True, slots=True)
class PerpPosition:
    symbol: str
    size: Decimal  # signed base units: a short is negative
    entry_price: Decimal
    mark_price: Decimal
    liquidation_price: Decimal | None = None
    unrealized_pnl: Decimal = ZERO
    leverage: Decimal | None = None
    initial_margin: Decimal = ZERO
    maintenance_margin: Decimal = ZERO

    @property
    def notional(self) -> Decimal:
        return abs(self.size) * self.mark_price


@dataclass(frozen=True, slots=True)
class Ticker:
    symbol: str
    bid: Decimal | None
    ask: Decimal | None
    last: Decimal | None
    mark: Decimal | None = None
    index: Decimal | None = None
    ts: datetime | None = None

    @property
    def price(self) -> Decimal | None:
        """The price used for valuation: mark for perps, last (or mid) otherwise."""
        if self.mark is not None:
            return self.mark
        if self.last is not None:
            return self.last
        if self.bid is not None and self.ask is not None:
            return (self.bid + self.ask) / 2
        return None


@dataclass(frozen=True, slots=True)
class FundingRate:
    symbol: str
    rate: Decimal  # per settlement; positive: longs pay shorts, so a short receives it
    next_funding_time: datetime | None = None
    interval_hours: int = 8


@dataclass(frozen=True, slots=True)
class Bar:
    ts: datetime  # bar open time, UTC
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


@dataclass(frozen=True, slots=True)
class OpenOrder:
    symbol: str
    venue_order_id: str
    client_order_id: str | None
    side: Side
    kind: OrderKind
    qty: Decimal
    filled: Decimal
    reduce_only: bool
    price: Decimal | None = None
    trigger_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class OrderReport:
    """What the venue says about one order, found by its client order id."""

    symbol: str
    venue_order_id: str
    client_order_id: str | None
    state: OrderState
    qty: Decimal
    filled: Decimal
    average_price: Decimal | None = None
    reason: str | None = None
    # what the order is, to tell ours from another one under a reused client id
    side: Side | None = None
    kind: OrderKind | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Fill:
    trade_id: str  # the venue's execution id; unique per venue
    venue_order_id: str
    client_order_id: str | None
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal
    fee: Decimal  # positive: paid by us
    fee_asset: str
    ts: datetime


@dataclass(frozen=True, slots=True)
class FundingPayment:
    payment_id: str  # the venue's id; unique per venue
    symbol: str
    amount: Decimal  # positive: received by us (a short usually receives when the rate is positive)
    ts: datetime
    rate: Decimal | None = None
    position_size: Decimal | None = None


@dataclass(frozen=True, slots=True)
class HedgeSpec:
    """One configured hedge: which spot holding, which perp hedges it, and how."""

    name: str
    spot_asset: str  # e.g. "BTC"
    perp_symbol: str  # unified perp symbol, e.g. "BTC/USDT:USDT"
    strategy: str = "direct"
    params: Mapping = field(default_factory=frozen_map)
    enabled: bool = True
    on_disable: str = "keep"  # "keep" the position or "close" it when disabled


@dataclass(frozen=True, slots=True)
class Snapshot:
    ts: datetime
    balances: Mapping[str, Balance] = field(default_factory=frozen_map)
    positions: Mapping[str, PerpPosition] = field(default_factory=frozen_map)
    tickers: Mapping[str, Ticker] = field(default_factory=frozen_map)
    funding: Mapping[str, FundingRate] = field(default_factory=frozen_map)
    markets: Mapping[str, MarketInfo] = field(default_factory=frozen_map)
    open_orders: tuple[OpenOrder, ...] = ()
    # price history keyed by history_key(symbol, timeframe), oldest bar first
    history: Mapping[str, tuple[Bar, ...]] = field(default_factory=frozen_map)
    # recent funding rates per perp symbol, oldest first (for funding-aware strategies)
    funding_history: Mapping[str, tuple[FundingRate, ...]] = field(default_factory=frozen_map)

    def spot_qty(self, asset: str) -> Decimal:
        bal = self.balances.get(asset)
        return bal.total if bal is not None else ZERO

    def position_size(self, symbol: str) -> Decimal:
        pos = self.positions.get(symbol)
        return pos.size if pos is not None else ZERO

    def price(self, symbol: str) -> Decimal | None:
        ticker = self.tickers.get(symbol)
        return ticker.price if ticker is not None else None

    def bars(self, symbol: str, timeframe: str) -> tuple[Bar, ...]:
        return self.history.get(history_key(symbol, timeframe), ())


def history_key(symbol: str, timeframe: str) -> str:
    return f"{symbol}|{timeframe}"


@dataclass(frozen=True, slots=True)
class HedgeTarget:
    hedge: str
    perp_symbol: str
    size: Decimal  # signed target perp position in base units: a short is negative
    reason: str  # human-readable: why this size (ratio, beta, regime, ...)
    ratio: Decimal | None = None
    details: Mapping[str, str] = field(default_factory=frozen_map)
    # Only strategies that trade the spot leg themselves (basis / cash and carry) set this: the
    # signed spot holding of ``spot_symbol`` they want; None leaves spot alone (the usual case).
    spot_symbol: str | None = None
    spot_size: Decimal | None = None


@dataclass(frozen=True, slots=True)
class OrderIntent:
    client_order_id: str
    hedge: str
    cycle: int
    symbol: str
    side: Side
    qty: Decimal  # base units, positive
    kind: OrderKind = OrderKind.MARKET
    reduce_only: bool = False
    purpose: IntentPurpose = IntentPurpose.HEDGE
    price: Decimal | None = None
    trigger_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class OrderAck:
    client_order_id: str
    venue_order_id: str | None
    status: IntentStatus
    reason: str | None = None
    created_at: datetime | None = None  # set when the order was found by its id, not just created


@dataclass(frozen=True, slots=True)
class Rejection:
    hedge: str
    symbol: str
    source: str  # "risk" or "venue"
    reason: str
    client_order_id: str | None = None
    side: Side | None = None
    qty: Decimal | None = None

    @classmethod
    def of(cls, intent: OrderIntent, source: str, reason: str) -> Rejection:
        """The denial of one intent, by our guards ("risk") or by the venue ("venue")."""
        return cls(
            intent.hedge,
            intent.symbol,
            source,
            reason,
            intent.client_order_id,
            side=intent.side,
            qty=intent.qty,
        )
