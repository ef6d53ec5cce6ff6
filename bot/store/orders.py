"""Queries for our order intents, the write-ahead log of every order we mean to send.

Each function runs inside the caller's transaction; ``bot.store.repo.Store`` owns the transactions.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam, case, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.domain import IntentPurpose, IntentStatus, OrderIntent, OrderKind, Side
from bot.store.errors import IntentTransitionError, NotFound
from bot.store.models import IntentRow, RejectionRow, table_of
from bot.store.records import OPEN_STATUSES, OpenIntent, StoredIntent


def _limited(stmt: Any, limit: int | None) -> Any:
    return stmt if limit is None else stmt.limit(limit)


def _intent_values(i: OrderIntent, now: datetime) -> dict[str, Any]:
    return {
        "client_order_id": i.client_order_id,
        "cycle": i.cycle,
        "hedge": i.hedge,
        "symbol": i.symbol,
        "side": Side(i.side).value,
        "kind": OrderKind(i.kind).value,
        "purpose": IntentPurpose(i.purpose).value,
        "qty": i.qty,
        "price": i.price,
        "trigger_price": i.trigger_price,
        "reduce_only": i.reduce_only,
        "status": IntentStatus.PENDING.value,
        "venue_order_id": None,
        "filled_qty": Decimal(0),
        "avg_price": None,
        "reason": None,
        "created_at": now,
        "updated_at": now,
    }


async def insert_intents(
    conn: AsyncSession | AsyncConnection, intents: Collection[OrderIntent], now: datetime
) -> None:
    """Write intents ahead (PENDING), all in one statement."""
    if intents:
        await conn.execute(_INSERT, [_intent_values(i, now) for i in intents])


_T = table_of(IntentRow).c
_INSERT = insert(table_of(IntentRow))
_SENT = case((_T.status != IntentStatus.LOST.value, _T.created_at))
_ACTIVITY = (
    select(_T.symbol, func.max(_SENT), func.count(case((_T.created_at > bindparam("since"), 1))))
    .where(_T.purpose == IntentPurpose.HEDGE.value)
    .group_by(_T.symbol)
)
_SENT_AFTER = case(
    (and_(_T.status != IntentStatus.LOST.value, _T.created_at > bindparam("newest")), _T.created_at)
)
_RECENT_ACTIVITY = (
    select(
        _T.symbol, func.max(_SENT_AFTER), func.count(case((_T.created_at > bindparam("since"), 1)))
    )
    .where(_T.purpose == IntentPurpose.HEDGE.value, _T.created_at > bindparam("lower"))
    .group_by(_T.symbol)
)
_OPEN_REFS = (
    select(_T.client_order_id, _T.status, _T.purpose, _T.symbol, _T.qty, _T.trigger_price)
    .where(_T.status.in_([s.value for s in OPEN_STATUSES]))
    .order_by(_T.id.desc())
)


async def hedge_activity(
    conn: AsyncSession | AsyncConnection, since: datetime, newest_since: datetime | None = None
) -> tuple[dict[str, datetime], int]:
    """For the planner's cooldown and the risk guard's order rate, in one aggregate query: the
    newest hedge intent per symbol that reached (or may have reached) the venue, and how many
    hedge intents were written since ``since``. With ``newest_since`` the newest per symbol only
    if written after it (the cooldown's window: older ones cannot hold an order back), and only
    recent rows are grouped: the cost stays flat as the history grows."""
    if newest_since is None:
        rows = await conn.execute(_ACTIVITY, {"since": since})
    else:
        bounds = {"since": since, "newest": newest_since, "lower": min(since, newest_since)}
        rows = await conn.execute(_RECENT_ACTIVITY, bounds)
    newest: dict[str, datetime] = {}
    count = 0
    for symbol, at, n in rows:
        count += int(n or 0)
        if at is not None:
            newest[symbol] = at
    return newest, count


async def open_intents(conn: AsyncSession | AsyncConnection) -> list[OpenIntent]:
    """The intents in OPEN_STATUSES, newest first: the columns reconcile matches on (a full
    row per resting stop was most of a steady cycle's database time at 200 hedges)."""
    rows = await conn.execute(_OPEN_REFS)
    return [OpenIntent(c, IntentStatus(s), IntentPurpose(p), y, q, t) for c, s, p, y, q, t in rows]


async def update_intent(
    session: AsyncSession,
    client_order_id: str,
    status: IntentStatus,
    now: datetime,
    *,
    venue_order_id: str | None,
    filled_qty: Decimal | None,
    avg_price: Decimal | None,
    reason: str | None,
    qty: Decimal | None = None,
    trigger_price: Decimal | None = None,
) -> None:
    row = await session.scalar(
        select(IntentRow).where(IntentRow.client_order_id == client_order_id).with_for_update()
    )
    if row is None:
        raise NotFound(f"no intent with client order id {client_order_id!r}")
    old, new = IntentStatus(row.status), IntentStatus(status)
    if old.final and new != old:
        raise IntentTransitionError(
            f"intent {client_order_id!r} is {old.value}; refusing to make it {new.value}"
        )
    row.status = new.value
    if venue_order_id is not None:
        row.venue_order_id = venue_order_id
    if filled_qty is not None:
        row.filled_qty = filled_qty
    if avg_price is not None:
        row.avg_price = avg_price
    if reason is not None:
        row.reason = reason
    if qty is not None:  # a stop-loss amended in place: the order it names now
        row.qty = qty
    if trigger_price is not None:
        row.trigger_price = trigger_price
    row.updated_at = now
    if new == IntentStatus.REJECTED and old != new:
        # venue refusals land next to risk denials, so one table answers "what was refused and why"
        session.add(
            RejectionRow(
                cycle=row.cycle,
                hedge=row.hedge,
                symbol=row.symbol,
                source="venue",
                reason=reason or row.reason or "",
                client_order_id=row.client_order_id,
                side=row.side,
                qty=row.qty,
                created_at=now,
            )
        )


async def intents(
    session: AsyncSession,
    *,
    statuses: Collection[IntentStatus] | None,
    symbol: str | None,
    purpose: IntentPurpose | None,
    limit: int | None,
) -> list[StoredIntent]:
    stmt = select(IntentRow.__table__).order_by(IntentRow.id.desc())  # rows, not ORM objects
    if statuses is not None:
        stmt = stmt.where(IntentRow.status.in_([IntentStatus(s).value for s in statuses]))
    if symbol is not None:
        stmt = stmt.where(IntentRow.symbol == symbol)
    if purpose is not None:
        stmt = stmt.where(IntentRow.purpose == IntentPurpose(purpose).value)
    rows = await session.execute(_limited(stmt, limit))
    return [_stored_intent(r) for r in rows]


def _stored_intent(r: Any) -> StoredIntent:
    return StoredIntent(
        id=r.id,
        client_order_id=r.client_order_id,
        cycle=r.cycle,
        hedge=r.hedge,
        symbol=r.symbol,
        side=Side(r.side),
        kind=OrderKind(r.kind),
        purpose=IntentPurpose(r.purpose),
        qty=r.qty,
        price=r.price,
        trigger_price=r.trigger_price,
        reduce_only=r.reduce_only,
        status=IntentStatus(r.status),
        venue_order_id=r.venue_order_id,
        filled_qty=r.filled_qty,
        avg_price=r.avg_price,
        reason=r.reason,
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


async def intent_hedges(
    session: AsyncSession, client_ids: Collection[str], venue_ids: Collection[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """Hedge names of our intents, by client order id and by venue order id."""
    by_client: dict[str, str] = {}
    by_venue: dict[str, str] = {}
    if client_ids:
        by_client_stmt = select(IntentRow.client_order_id, IntentRow.hedge).where(
            IntentRow.client_order_id.in_(list(client_ids))
        )
        by_client = {cid: hedge for cid, hedge in await session.execute(by_client_stmt)}
    if venue_ids:
        by_venue_stmt = select(IntentRow.venue_order_id, IntentRow.hedge).where(
            IntentRow.venue_order_id.in_(list(venue_ids))
        )
        rows = await session.execute(by_venue_stmt)
        by_venue = {vid: hedge for vid, hedge in rows if vid is not None}
    return by_client, by_venue
