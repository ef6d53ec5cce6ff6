"""Records of the venue model: order requests, orders, executions, liquidations, and ids."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from bot.sim.markets import Category

ZERO = Decimal(0)
Side = Literal["Buy", "Sell"]
OrderType = Literal["Market", "Limit"]

# Bybit order statuses.
NEW = "New"
PARTIALLY_FILLED = "PartiallyFilled"
FILLED = "Filled"
CANCELLED = "Cancelled"
PARTIALLY_FILLED_CANCELED = "PartiallyFilledCanceled"
UNTRIGGERED = "Untriggered"
TRIGGERED = "Triggered"
DEACTIVATED = "Deactivated"
REJECTED = "Rejected"
OPEN_STATUSES = frozenset({NEW, PARTIALLY_FILLED, UNTRIGGERED, TRIGGERED})
TIME_IN_FORCE = ("GTC", "IOC", "FOK", "PostOnly")
TRIGGER_BY = ("MarkPrice", "LastPrice", "IndexPrice")


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A new order as the venue understands it; fronts translate their wire format into this."""

    category: Category
    symbol: str
    side: Side
    order_type: OrderType
    qty: Decimal
    price: Decimal | None = None
    link_id: str = ""
    reduce_only: bool = False
    time_in_force: str | None = None  # GTC for limits, IOC for markets by default
    trigger_price: Decimal | None = None
    trigger_direction: int | None = None  # 1: fire when the price rises to it, 2: falls to it
    trigger_by: str = "LastPrice"  # Bybit's default when a conditional order names none
    market_unit: str | None = None  # spot market orders: "baseCoin" or "quoteCoin"
    close_on_trigger: bool = False


@dataclass(slots=True)
class SimOrder:
    order_id: str
    seq: int
    link_id: str
    category: Category
    symbol: str
    side: Side
    order_type: OrderType
    qty: Decimal  # base units (a spot market buy in quote units is converted at acceptance)
    price: Decimal | None
    time_in_force: str
    reduce_only: bool
    status: str
    created: datetime
    updated: datetime
    trigger_price: Decimal | None = None
    trigger_direction: int | None = None
    trigger_by: str = ""
    close_on_trigger: bool = False
    cum_qty: Decimal = ZERO
    cum_value: Decimal = ZERO
    cum_fee: Decimal = ZERO
    reject_reason: str = "EC_NoError"
    locked: Decimal = ZERO  # spot funds held by a resting order (quote for buys, base for sells)
    is_conditional: bool = False

    @property
    def leaves(self) -> Decimal:
        return self.qty - self.cum_qty if self.status in OPEN_STATUSES else ZERO

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def avg_price(self) -> Decimal | None:
        return self.cum_value / self.cum_qty if self.cum_qty else None

    @property
    def signed_leaves(self) -> Decimal:
        return self.leaves if self.side == "Buy" else -self.leaves


@dataclass(frozen=True, slots=True)
class Execution:
    exec_id: str
    seq: int
    category: Category
    symbol: str
    exec_type: str  # "Trade", "Funding" or "BustTrade" (liquidation)
    side: Side
    price: Decimal
    qty: Decimal
    fee: Decimal  # positive: paid; for funding: signed size x mark x rate
    fee_rate: Decimal  # for funding: the funding rate
    fee_currency: str
    is_maker: bool
    time: datetime
    order_id: str = ""
    link_id: str = ""
    order_type: str = ""
    order_price: Decimal = ZERO
    order_qty: Decimal = ZERO
    leaves_qty: Decimal = ZERO
    mark_price: Decimal = ZERO
    closed_size: Decimal = ZERO

    @property
    def value(self) -> Decimal:
        return self.price * self.qty


@dataclass(frozen=True, slots=True)
class Liquidation:
    symbol: str
    time: datetime
    size: Decimal  # signed size that was closed
    price: Decimal
    exec_id: str


class Ids:
    """Deterministic ids: numeric order ids like Bybit's, UUID-shaped execution ids."""

    ORDER_BASE = 1_800_000_000_000_000_000
    _NAMESPACE = uuid.UUID("6f1c1d52-8d5e-4b51-9a55-2b8d1c0e7a10")

    def __init__(self) -> None:
        self._orders = 0
        self._execs = 0

    def order(self) -> tuple[str, int]:
        self._orders += 1
        return str(self.ORDER_BASE + self._orders), self._orders

    def execution(self) -> tuple[str, int]:
        self._execs += 1
        return str(uuid.uuid5(self._NAMESPACE, str(self._execs))), self._execs
