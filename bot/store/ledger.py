"""Queries for what the venue reports: fills, funding payments and the market history cache.

Inserts are idempotent on the venue's ids, because reconcile re-reads overlapping windows.
Each function runs inside the caller's transaction; ``bot.store.repo.Store`` owns the transactions.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict, fields
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import Bar, Fill, FundingPayment, Side
from bot.store import orders
from bot.store.models import BarRow, FillRow, FundingRow, MarkRow
from bot.store.records import MarkRecord, StoredFill
from bot.store.upsert import insert_for

_Row = TypeVar("_Row", FillRow, FundingRow)

# keeps one statement's bound parameters under SQLite's and asyncpg's limits
_CHUNK = 500


def fee_in_quote(symbol: str, fee: Decimal, fee_asset: str, price: Decimal) -> Decimal | None:
    """A fee's value in the quote: as is when paid in the quote (or settle) coin, at the fill
    price when paid in the base (a spot buy on Bybit); None for a third coin."""
    base, _, rest = symbol.partition("/")
    quote, _, settle = rest.partition(":")
    if fee_asset in (quote, settle) or fee == 0:
        return fee
    if fee_asset == base:
        return fee * price
    return None


def _chunks(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [rows[i : i + _CHUNK] for i in range(0, len(rows), _CHUNK)]


async def add_fills(session: AsyncSession, dialect: str, fills: Sequence[Fill]) -> int:
    if not fills:
        return 0
    by_client, by_venue = await orders.intent_hedges(
        session,
        {f.client_order_id for f in fills if f.client_order_id},
        {f.venue_order_id for f in fills},
    )
    rows = [
        {
            "trade_id": f.trade_id,
            "venue_order_id": f.venue_order_id,
            "client_order_id": f.client_order_id,
            "symbol": f.symbol,
            "side": Side(f.side).value,
            "qty": f.qty,
            "price": f.price,
            "fee": f.fee,
            "fee_asset": f.fee_asset,
            "fee_quote": fee_in_quote(f.symbol, f.fee, f.fee_asset, f.price),
            "ts": f.ts,
            "hedge": by_client.get(f.client_order_id or "") or by_venue.get(f.venue_order_id),
        }
        for f in fills
    ]
    return await _insert_new(session, dialect, FillRow, "trade_id", rows)


async def known_trade_ids(session: AsyncSession, trade_ids: Collection[str]) -> set[str]:
    known: set[str] = set()
    ids = sorted(set(trade_ids))
    for start in range(0, len(ids), 500):  # stay under every driver's bound-parameter limit
        chunk = ids[start : start + 500]
        known.update(
            await session.scalars(select(FillRow.trade_id).where(FillRow.trade_id.in_(chunk)))
        )
    return known


async def add_funding(
    session: AsyncSession, dialect: str, payments: Sequence[FundingPayment]
) -> int:
    rows = [
        {
            "payment_id": p.payment_id,
            "symbol": p.symbol,
            "amount": p.amount,
            "rate": p.rate,
            "position_size": p.position_size,
            "ts": p.ts,
        }
        for p in payments
    ]
    return await _insert_new(session, dialect, FundingRow, "payment_id", rows)


async def _insert_new(
    session: AsyncSession, dialect: str, model: Any, key: str, rows: list[dict[str, Any]]
) -> int:
    """Insert rows whose ``key`` is new; return how many were inserted."""
    added = 0
    for chunk in _chunks(rows):
        stmt = (
            insert_for(dialect, model)
            .values(chunk)
            .on_conflict_do_nothing(index_elements=[key])
            .returning(getattr(model, key))
        )
        added += len((await session.execute(stmt)).all())
    return added


async def _recent(
    session: AsyncSession,
    model: type[_Row],
    *,
    symbol: str | None,
    since: datetime | None,
    limit: int | None,
) -> list[_Row]:
    """Rows of a timestamped ledger table, oldest first; ``limit`` keeps the most recent."""
    stmt = select(model)
    if symbol is not None:
        stmt = stmt.where(model.symbol == symbol)
    if since is not None:
        stmt = stmt.where(model.ts >= since)
    if limit is not None:
        stmt = stmt.order_by(model.ts.desc(), model.id.desc()).limit(limit)
    return sorted(await session.scalars(stmt), key=lambda r: (r.ts, r.id))


async def fills(
    session: AsyncSession, *, symbol: str | None, since: datetime | None, limit: int | None
) -> list[StoredFill]:
    rows = await _recent(session, FillRow, symbol=symbol, since=since, limit=limit)
    return [
        StoredFill(
            id=r.id,
            trade_id=r.trade_id,
            venue_order_id=r.venue_order_id,
            client_order_id=r.client_order_id,
            symbol=r.symbol,
            side=Side(r.side),
            qty=r.qty,
            price=r.price,
            fee=r.fee,
            fee_asset=r.fee_asset,
            ts=r.ts,
            hedge=r.hedge,
            fee_quote=r.fee_quote,
        )
        for r in rows
    ]


async def funding(
    session: AsyncSession, *, symbol: str | None, since: datetime | None, limit: int | None
) -> list[FundingPayment]:
    rows = await _recent(session, FundingRow, symbol=symbol, since=since, limit=limit)
    return [
        FundingPayment(
            payment_id=r.payment_id,
            symbol=r.symbol,
            amount=r.amount,
            ts=r.ts,
            rate=r.rate,
            position_size=r.position_size,
        )
        for r in rows
    ]


async def funding_total(session: AsyncSession) -> Decimal:
    """The sum of every funding payment (received minus paid), exact: the amounts alone are read
    and added as Decimal (SQL's SUM would go through floats on SQLite, where they are text)."""
    return sum(await session.scalars(select(FundingRow.amount)), Decimal(0))


async def add_marks(session: AsyncSession, dialect: str, marks: Sequence[MarkRecord]) -> int:
    """Idempotent on (hedge, symbol, ts): a mark taken twice at one time is kept once. One
    cached statement executed for many rows (a backtest writes a mark every cycle)."""
    if not marks:
        return 0
    stmt = (
        insert_for(dialect, MarkRow)
        .on_conflict_do_nothing(index_elements=["hedge", "symbol", "ts"])
        .returning(MarkRow.id)
    )
    result = await session.execute(stmt, [asdict(m) for m in marks])
    return len(result.all())


_MARK_FIELDS = [f.name for f in fields(MarkRecord)]


async def marks(
    session: AsyncSession,
    *,
    since: datetime | None,
    until: datetime | None,
    hedge: str | None,
) -> list[MarkRecord]:
    """Oldest first; the account rows come with every hedge filter."""
    stmt = select(MarkRow)
    if since is not None:
        stmt = stmt.where(MarkRow.ts >= since)
    if until is not None:
        stmt = stmt.where(MarkRow.ts <= until)
    if hedge is not None:
        stmt = stmt.where(MarkRow.hedge.in_([hedge, ""]))
    rows = await session.scalars(stmt.order_by(MarkRow.ts, MarkRow.id))
    return [MarkRecord(**{k: getattr(r, k) for k in _MARK_FIELDS}) for r in rows]


async def add_bars(
    session: AsyncSession, dialect: str, symbol: str, timeframe: str, bars: Sequence[Bar]
) -> int:
    """Upsert bars: a re-fetched bar replaces the stored one (the last bar may have been partial).
    Returns how many bars were not stored before."""
    latest = {b.ts: b for b in bars}  # the last copy of a bar within one batch wins
    if not latest:
        return 0
    key = (BarRow.symbol, BarRow.timeframe, BarRow.ts)
    known: set[datetime] = set()
    stamps = list(latest)
    for i in range(0, len(stamps), _CHUNK):
        wanted = [(symbol, timeframe, ts) for ts in stamps[i : i + _CHUNK]]
        stmt = select(BarRow.ts).where(tuple_(*key).in_(wanted))
        known.update(await session.scalars(stmt))
    rows = [
        {
            "symbol": symbol,
            "timeframe": timeframe,
            "ts": b.ts,
            "open": b.open,
            "high": b.high,
            "low": b.low,
            "close": b.close,
            "volume": b.volume,
        }
        for b in latest.values()
    ]
    for chunk in _chunks(rows):
        stmt = insert_for(dialect, BarRow).values(chunk)
        stmt = stmt.on_conflict_do_update(
            index_elements=[c.key for c in key],
            set_={c: getattr(stmt.excluded, c) for c in ("open", "high", "low", "close", "volume")},
        )
        await session.execute(stmt)
    return len(latest) - len(known)


async def bars(
    session: AsyncSession,
    symbol: str,
    timeframe: str,
    *,
    since: datetime | None,
    limit: int | None,
) -> list[Bar]:
    stmt = select(BarRow).where(BarRow.symbol == symbol, BarRow.timeframe == timeframe)
    if since is not None:
        stmt = stmt.where(BarRow.ts >= since)
    if limit is not None:
        stmt = stmt.order_by(BarRow.ts.desc()).limit(limit)
    rows = sorted(await session.scalars(stmt), key=lambda r: r.ts)
    return [
        Bar(ts=r.ts, open=r.open, high=r.high, low=r.low, close=r.close, volume=r.volume)
        for r in rows
    ]
