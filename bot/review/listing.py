"""Filtered listings for `hedgebot events|orders|fills|funding|rejections`.

Each listing reads the tables directly (read-only), newest first; amounts stay Decimal as stored.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import (
    CycleRow,
    EventRow,
    FillRow,
    FundingRow,
    IntentRow,
    RejectionRow,
    TargetRow,
)
from bot.store.repo import Store

_AGO = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(text: str, now: datetime | None = None) -> datetime:
    """An ISO date or datetime (UTC when no zone is given) or an age such as `2h`, `7d`."""
    text = text.strip()
    match = _AGO.match(text)
    if match:
        delta = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        return (now or datetime.now(UTC)) - delta
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time: use 2024-05-01, 2024-05-01T12:00, or an age like 2h or 7d"
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


@dataclass(frozen=True)
class Filters:
    since: datetime | None = None
    until: datetime | None = None
    symbol: str | None = None
    hedge: str | None = None
    limit: int | None = 50


def _select(model: Any, column: Any, f: Filters, *, hedge: bool = True) -> Any:
    """Rows of ``model`` in the time window, newest first, of the symbol and hedge asked for."""
    stmt = select(model)
    if f.since is not None:
        stmt = stmt.where(column >= f.since)
    if f.until is not None:
        stmt = stmt.where(column < f.until)
    if f.symbol:
        stmt = stmt.where(model.symbol == f.symbol)
    if f.hedge and hedge:
        stmt = stmt.where(model.hedge == f.hedge)
    return stmt.order_by(column.desc(), model.id.desc())


def _limited(stmt: Any, f: Filters) -> Any:
    return stmt if f.limit is None else stmt.limit(f.limit)


async def _hedge_symbols(s: AsyncSession, hedge: str) -> set[str]:
    """Perps a hedge trades: funding is per symbol, so --hedge selects its symbols."""
    rows = await s.scalars(select(IntentRow.symbol).where(IntentRow.hedge == hedge).distinct())
    targets = await s.scalars(select(TargetRow.symbol).where(TargetRow.hedge == hedge).distinct())
    return set(rows) | set(targets)


# listing column -> model attribute, in display order
COLUMNS: dict[str, dict[str, str]] = {
    "fills": {
        "time": "ts",
        "symbol": "symbol",
        "side": "side",
        "qty": "qty",
        "price": "price",
        "fee": "fee",
        "fee_asset": "fee_asset",
        "hedge": "hedge",
        "client_order_id": "client_order_id",
        "trade_id": "trade_id",
    },
    "orders": {
        "created": "created_at",
        "updated": "updated_at",
        "cycle": "cycle",
        "hedge": "hedge",
        "symbol": "symbol",
        "side": "side",
        "kind": "kind",
        "purpose": "purpose",
        "qty": "qty",
        "trigger_price": "trigger_price",
        "reduce_only": "reduce_only",
        "status": "status",
        "filled_qty": "filled_qty",
        "avg_price": "avg_price",
        "client_order_id": "client_order_id",
        "venue_order_id": "venue_order_id",
        "venue_reason": "reason",
    },
    "funding": {
        "time": "ts",
        "symbol": "symbol",
        "amount": "amount",
        "rate": "rate",
        "position_size": "position_size",
        "payment_id": "payment_id",
    },
    "rejections": {
        "time": "created_at",
        "cycle": "cycle",
        "hedge": "hedge",
        "symbol": "symbol",
        "source": "source",
        "side": "side",
        "qty": "qty",
        "client_order_id": "client_order_id",
        "reason": "reason",
    },
}


def _rows(rows: Any, name: str) -> list[dict[str, Any]]:
    """Values as stored (Decimal stays Decimal); a missing text reads as an empty string."""
    cols = COLUMNS[name]
    text = {"hedge", "client_order_id", "venue_order_id", "venue_reason", "side"}
    return [
        {
            k: ("" if v is None and k in text else v)
            for k, v in ((k, getattr(r, attr)) for k, attr in cols.items())
        }
        for r in rows
    ]


async def fills(s: AsyncSession, f: Filters) -> list[dict[str, Any]]:
    stmt = _select(FillRow, FillRow.ts, f)
    return _rows(await s.scalars(_limited(stmt, f)), "fills")


async def orders(s: AsyncSession, f: Filters) -> list[dict[str, Any]]:
    stmt = _select(IntentRow, IntentRow.created_at, f)
    return _rows(await s.scalars(_limited(stmt, f)), "orders")


async def funding(s: AsyncSession, f: Filters) -> list[dict[str, Any]]:
    stmt = _select(FundingRow, FundingRow.ts, f, hedge=False)
    if f.hedge:
        stmt = stmt.where(FundingRow.symbol.in_(await _hedge_symbols(s, f.hedge)))
    return _rows(await s.scalars(_limited(stmt, f)), "funding")


async def rejections(s: AsyncSession, f: Filters) -> list[dict[str, Any]]:
    stmt = _select(RejectionRow, RejectionRow.created_at, f)
    return _rows(await s.scalars(_limited(stmt, f)), "rejections")


def _event_matches(data: dict[str, Any], f: Filters) -> bool:
    if f.symbol and data.get("symbol") != f.symbol:
        return False
    return not (f.hedge and data.get("hedge") != f.hedge)


async def events(s: AsyncSession, f: Filters) -> list[dict[str, Any]]:
    stmt = _select(EventRow, EventRow.ts, replace(f, symbol=None, hedge=None))
    # symbol and hedge live in the event's JSON data (text on both databases): filter here
    if not (f.symbol or f.hedge):
        stmt = _limited(stmt, f)
    found = [r for r in await s.scalars(stmt) if _event_matches(r.data or {}, f)]
    return [
        {
            "time": r.ts,
            "cycle": r.cycle,
            "level": r.level,
            "kind": r.kind,
            "message": r.message,
        }
        for r in (found if f.limit is None else found[: f.limit])
    ]


Listing = Callable[[AsyncSession, Filters], Awaitable[list[dict[str, Any]]]]
LISTINGS: dict[str, Listing] = {
    "events": events,
    "orders": orders,
    "fills": fills,
    "funding": funding,
    "rejections": rejections,
}


async def bot_now(store: Store) -> datetime:
    """The bot's clock as recorded: the newest cycle's time (the venue's, which a replaying
    simulator may set in the past), or the wall clock before any cycle. Ages such as `2h` count
    back from it: "the last two hours the bot saw", the same on every venue."""
    async with AsyncSession(store.engine) as session:
        newest = await session.scalar(select(func.max(CycleRow.started_at)))
    if newest is None:
        return datetime.now(UTC)
    return newest.replace(tzinfo=UTC) if newest.tzinfo is None else newest


async def listing(store: Store, name: str, f: Filters) -> list[dict[str, Any]]:
    async with AsyncSession(store.engine) as session:
        return await LISTINGS[name](session, f)
