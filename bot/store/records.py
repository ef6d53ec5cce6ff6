"""What the store takes in and hands back, beyond the domain types: frozen, Decimal amounts, UTC."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from bot.domain import (
    Fill,
    IntentPurpose,
    IntentStatus,
    OrderIntent,
    OrderKind,
    Rejection,
    Side,
    TradingState,
    frozen_map,
)


@dataclass(frozen=True, slots=True)
class TargetRecord:
    hedge: str
    symbol: str
    current_size: Decimal
    target_size: Decimal
    ratio: Decimal | None
    reason: str
    details: Mapping[str, str] = field(default_factory=frozen_map)


@dataclass(frozen=True, slots=True)
class EventRecord:
    kind: str
    message: str
    level: str = "info"
    data: Mapping[str, Any] = field(default_factory=frozen_map)


@dataclass(frozen=True, slots=True)
class CycleRecord:
    """Everything one cycle decided, written in one transaction before any order is sent."""

    number: int
    started_at: datetime
    trading_state: TradingState
    targets: list[TargetRecord] = field(default_factory=list)
    intents: list[OrderIntent] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    events: list[EventRecord] = field(default_factory=list)


# an intent in one of these may still be (or become) an order on the venue: reconcile reads them
OPEN_STATUSES = (IntentStatus.PENDING, IntentStatus.UNKNOWN, IntentStatus.OPEN)


class IntentRef(Protocol):
    """What reconcile needs of an intent to see that it still rests on the venue (a
    StoredIntent is one; the cycle's reads load just these columns)."""

    @property
    def client_order_id(self) -> str: ...
    @property
    def status(self) -> IntentStatus: ...
    @property
    def purpose(self) -> IntentPurpose: ...
    @property
    def symbol(self) -> str: ...
    @property
    def qty(self) -> Decimal: ...
    @property
    def trigger_price(self) -> Decimal | None: ...


@dataclass(frozen=True, slots=True)
class OpenIntent:
    client_order_id: str
    status: IntentStatus
    purpose: IntentPurpose
    symbol: str
    qty: Decimal
    trigger_price: Decimal | None


@dataclass(frozen=True, slots=True)
class CycleReads:
    """What a cycle reads from the database before it observes the venue, in one transaction."""

    number: int
    trading_state: TradingState
    state_reason: str
    cursor: str | None  # the value of the cursor asked for
    open_intents: Sequence[IntentRef]  # in OPEN_STATUSES, newest first
    # Store.hedge_activity as of the read; the newest per symbol only if after ``newest_since``
    last_order_at: dict[str, datetime]
    recent_orders: int


@dataclass(frozen=True, slots=True)
class StoredIntent:
    id: int
    client_order_id: str
    cycle: int
    hedge: str
    symbol: str
    side: Side
    kind: OrderKind
    purpose: IntentPurpose
    qty: Decimal
    price: Decimal | None
    trigger_price: Decimal | None
    reduce_only: bool
    status: IntentStatus
    venue_order_id: str | None
    filled_qty: Decimal
    avg_price: Decimal | None
    reason: str | None
    created_at: datetime
    updated_at: datetime

    def to_intent(self) -> OrderIntent:
        return OrderIntent(
            client_order_id=self.client_order_id,
            hedge=self.hedge,
            cycle=self.cycle,
            symbol=self.symbol,
            side=self.side,
            qty=self.qty,
            kind=self.kind,
            reduce_only=self.reduce_only,
            purpose=self.purpose,
            price=self.price,
            trigger_price=self.trigger_price,
        )


@dataclass(frozen=True, slots=True)
class StoredFill:
    """A venue fill plus the hedge it belongs to (None when no intent of ours matches it)."""

    id: int
    trade_id: str
    venue_order_id: str
    client_order_id: str | None
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal
    fee: Decimal
    fee_asset: str
    ts: datetime
    hedge: str | None
    fee_quote: Decimal | None = None  # the fee's value in the quote (None: a third coin)

    def to_fill(self) -> Fill:
        return Fill(
            trade_id=self.trade_id,
            venue_order_id=self.venue_order_id,
            client_order_id=self.client_order_id,
            symbol=self.symbol,
            side=self.side,
            qty=self.qty,
            price=self.price,
            fee=self.fee,
            fee_asset=self.fee_asset,
            ts=self.ts,
        )


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: int
    ts: datetime
    cycle: int | None
    level: str
    kind: str
    message: str
    data: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class StoredRejection:
    id: int
    cycle: int | None
    hedge: str
    symbol: str
    source: str  # "risk" | "venue"
    reason: str
    client_order_id: str | None
    side: Side | None
    qty: Decimal | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StoredTarget:
    cycle: int
    hedge: str
    symbol: str
    current_size: Decimal
    target_size: Decimal
    ratio: Decimal | None
    reason: str
    details: Mapping[str, str]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StoredCycle:
    number: int
    started_at: datetime
    finished_at: datetime | None
    outcome: str  # "started" until finish_cycle; then ok | skipped | error | halted ...
    trading_state: TradingState
    summary: Mapping[str, Any]


ACCOUNT = ""  # the ``hedge`` of the account row of a mark


@dataclass(frozen=True, slots=True)
class MarkRecord:
    """A mark-to-market snapshot of one hedge (its spot and its share of one perp), or of the
    account (``hedge`` == ACCOUNT: only ``equity``, the account value, is set)."""

    ts: datetime
    cycle: int | None
    hedge: str
    symbol: str
    equity: Decimal
    spot_asset: str | None = None
    spot_qty: Decimal | None = None
    spot_price: Decimal | None = None
    perp_size: Decimal | None = None
    position_size: Decimal | None = None
    perp_mark: Decimal | None = None
    target_size: Decimal | None = None
    band: Decimal | None = None
    protected: bool | None = None
    perp_last: Decimal | None = None  # the perp's last traded price (None in older rows)
