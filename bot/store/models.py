"""The database schema as SQLAlchemy 2 declarative models. Migrations must match it exactly
(a test compares them); change both together.

Enumerations are stored as their string values in plain VARCHAR columns: no Postgres enum types,
so adding a status never needs a type migration.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Index, Integer, MetaData, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.store.types import JSONText, Money, UTCDateTime

# Named constraints, so SQLite batch migrations can find and alter them later.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class CycleRow(Base):
    __tablename__ = "cycles"

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String)  # started | ok | skipped | error | halted ...
    trading_state: Mapped[str] = mapped_column(String)
    summary: Mapped[dict[str, Any]] = mapped_column(JSONText)


class TargetRow(Base):
    __tablename__ = "targets"
    __table_args__ = (Index(None, "hedge", "symbol", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle: Mapped[int] = mapped_column(Integer, index=True)
    hedge: Mapped[str] = mapped_column(String)
    symbol: Mapped[str] = mapped_column(String)
    current_size: Mapped[Decimal] = mapped_column(Money)
    target_size: Mapped[Decimal] = mapped_column(Money)
    ratio: Mapped[Decimal | None] = mapped_column(Money)
    reason: Mapped[str] = mapped_column(Text)
    # the strategy's own state (hysteresis, entered/exited), restored into `previous` on restart
    details: Mapped[dict[str, Any]] = mapped_column(JSONText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IntentRow(Base):
    __tablename__ = "intents"
    __table_args__ = (Index(None, "symbol", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_order_id: Mapped[str] = mapped_column(String, unique=True)
    cycle: Mapped[int] = mapped_column(Integer, index=True)
    hedge: Mapped[str] = mapped_column(String)
    symbol: Mapped[str] = mapped_column(String)
    side: Mapped[str] = mapped_column(String)
    kind: Mapped[str] = mapped_column(String)
    purpose: Mapped[str] = mapped_column(String)
    qty: Mapped[Decimal] = mapped_column(Money)
    price: Mapped[Decimal | None] = mapped_column(Money)
    trigger_price: Mapped[Decimal | None] = mapped_column(Money)
    reduce_only: Mapped[bool]
    status: Mapped[str] = mapped_column(String)
    venue_order_id: Mapped[str | None] = mapped_column(String, index=True)
    filled_qty: Mapped[Decimal] = mapped_column(Money)
    avg_price: Mapped[Decimal | None] = mapped_column(Money)
    reason: Mapped[str | None] = mapped_column(Text)  # the venue's words when it rejected the order
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RejectionRow(Base):
    __tablename__ = "rejections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle: Mapped[int | None] = mapped_column(Integer, index=True)
    hedge: Mapped[str] = mapped_column(String)
    symbol: Mapped[str] = mapped_column(String)
    source: Mapped[str] = mapped_column(String)  # "risk" | "venue"
    reason: Mapped[str] = mapped_column(Text)
    client_order_id: Mapped[str | None] = mapped_column(String)
    side: Mapped[str | None] = mapped_column(String)
    qty: Mapped[Decimal | None] = mapped_column(Money)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FillRow(Base):
    __tablename__ = "fills"
    __table_args__ = (Index(None, "symbol", "ts"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trade_id: Mapped[str] = mapped_column(String, unique=True)
    venue_order_id: Mapped[str] = mapped_column(String, index=True)
    client_order_id: Mapped[str | None] = mapped_column(String, index=True)
    symbol: Mapped[str] = mapped_column(String)
    side: Mapped[str] = mapped_column(String)
    qty: Mapped[Decimal] = mapped_column(Money)
    price: Mapped[Decimal] = mapped_column(Money)
    fee: Mapped[Decimal] = mapped_column(Money)
    fee_asset: Mapped[str] = mapped_column(String)
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    hedge: Mapped[str | None] = mapped_column(String)  # from our intent; None for foreign orders
    # the fee's value in the quote at the fill price; None when the fee is in a third coin.
    # Last, as migration 0002 added it: a fresh database has the migrated column order
    fee_quote: Mapped[Decimal | None] = mapped_column(Money)


class FundingRow(Base):
    __tablename__ = "funding_payments"
    __table_args__ = (Index(None, "symbol", "ts"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[str] = mapped_column(String, unique=True)
    symbol: Mapped[str] = mapped_column(String)
    amount: Mapped[Decimal] = mapped_column(Money)  # positive: received by us
    rate: Mapped[Decimal | None] = mapped_column(Money)
    position_size: Mapped[Decimal | None] = mapped_column(Money)
    ts: Mapped[datetime] = mapped_column(UTCDateTime)


class MarkRow(Base):
    """A mark-to-market snapshot, so reports need no venue. One row per hedge and perp per mark
    time, plus one account row (``hedge`` = ACCOUNT) whose ``equity`` is the account value."""

    __tablename__ = "marks"
    __table_args__ = (UniqueConstraint("hedge", "symbol", "ts"), Index(None, "ts"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    cycle: Mapped[int | None] = mapped_column(Integer)
    hedge: Mapped[str] = mapped_column(String)
    symbol: Mapped[str] = mapped_column(String)  # the perp; "" on the account row
    spot_asset: Mapped[str | None] = mapped_column(String)
    spot_qty: Mapped[Decimal | None] = mapped_column(Money)
    spot_price: Mapped[Decimal | None] = mapped_column(Money)
    perp_size: Mapped[Decimal | None] = mapped_column(Money)  # this hedge's share of the position
    position_size: Mapped[Decimal | None] = mapped_column(Money)  # the whole position
    perp_mark: Mapped[Decimal | None] = mapped_column(Money)
    target_size: Mapped[Decimal | None] = mapped_column(Money)
    band: Mapped[Decimal | None] = mapped_column(Money)
    protected: Mapped[bool | None]  # a stop rests for this short
    equity: Mapped[Decimal] = mapped_column(Money)
    # the perp's last traded price (orders fill at it, not at the mark); NULL before rev 0003
    perp_last: Mapped[Decimal | None] = mapped_column(Money)


class EventRow(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    cycle: Mapped[int | None] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String)
    kind: Mapped[str] = mapped_column(String, index=True)
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONText)


class RiskStateRow(Base):
    """A single row (id = 1): the persisted trading state that survives restarts."""

    __tablename__ = "risk_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String)
    reason: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CursorRow(Base):
    __tablename__ = "cursors"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class BarRow(Base):
    """Market history cache; one row per (symbol, timeframe, bar open time)."""

    __tablename__ = "bars"
    __table_args__ = (UniqueConstraint("symbol", "timeframe", "ts"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    symbol: Mapped[str] = mapped_column(String)
    timeframe: Mapped[str] = mapped_column(String)
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    open: Mapped[Decimal] = mapped_column(Money)
    high: Mapped[Decimal] = mapped_column(Money)
    low: Mapped[Decimal] = mapped_column(Money)
    close: Mapped[Decimal] = mapped_column(Money)
    volume: Mapped[Decimal] = mapped_column(Money)


def table_of(model: type[Base]) -> Table:
    """A model's Table, for Core statements (no ORM path when a session runs them)."""
    return cast(Table, model.__table__)
