"""Queries for what the bot decided: cycles, targets, intents, rejections and events.

Each function runs inside the caller's transaction; ``bot.store.repo.Store`` owns the transactions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.domain import (
    Rejection,
    Side,
    TradingState,
    frozen_map,
)
from bot.store import orders
from bot.store.errors import NotFound
from bot.store.models import CycleRow, EventRow, RejectionRow, TargetRow, table_of
from bot.store.records import (
    CycleRecord,
    StoredCycle,
    StoredEvent,
    StoredRejection,
    StoredTarget,
)

STARTED = "started"
Conn = AsyncSession | AsyncConnection  # Core statements run on either


def _limited(stmt: Any, limit: int | None) -> Any:
    return stmt if limit is None else stmt.limit(limit)


async def next_cycle_number(session: AsyncSession) -> int:
    highest = await session.scalar(select(func.max(CycleRow.number)))
    return 1 if highest is None else int(highest) + 1


# Core statements built once: building and keying a statement cost more than running it
_CYCLE = insert(table_of(CycleRow))
_TARGETS = insert(table_of(TargetRow))
_REJECTIONS = insert(table_of(RejectionRow))
_EVENTS = insert(table_of(EventRow))
_FINISH = (
    update(table_of(CycleRow))
    .where(CycleRow.number == bindparam("n"))
    .values(finished_at=bindparam("at"), outcome=bindparam("out"), summary=bindparam("s"))
)


async def add_cycle(
    conn: Conn,
    record: CycleRecord,
    now: datetime,
    finish: tuple[datetime, str, dict[str, Any]] | None = None,
) -> None:
    """The cycle row and its children, each table in one statement (Core, no ORM objects: at 50
    hedges the unit of work cost more than the statements). ``finish``: the cycle is over
    already (finished_at, outcome, summary), its row is written finished."""
    finished_at, outcome, summary = finish or (None, STARTED, {})
    await conn.execute(
        _CYCLE,
        {
            "number": record.number,
            "started_at": record.started_at,
            "finished_at": finished_at,
            "outcome": outcome,
            "trading_state": TradingState(record.trading_state).value,
            "summary": dict(summary),
        },
    )
    targets = [
        {
            "cycle": record.number,
            "hedge": t.hedge,
            "symbol": t.symbol,
            "current_size": t.current_size,
            "target_size": t.target_size,
            "ratio": t.ratio,
            "reason": t.reason,
            "details": dict(t.details),
            "created_at": now,
        }
        for t in record.targets
    ]
    if targets:
        await conn.execute(_TARGETS, targets)
    await orders.insert_intents(conn, record.intents, now)
    if record.rejections:
        rows = [_risk_rejection(r, record.number, now) for r in record.rejections]
        await conn.execute(_REJECTIONS, rows)
    events = [
        {
            "ts": now,
            "cycle": record.number,
            "level": e.level,
            "kind": e.kind,
            "message": e.message,
            "data": dict(e.data),
        }
        for e in record.events
    ]
    if events:
        await conn.execute(_EVENTS, events)


def _risk_rejection(rejection: Rejection, cycle: int, now: datetime) -> dict[str, Any]:
    # the domain Rejection has no side/qty yet: read them when a newer type carries them
    side = getattr(rejection, "side", None)
    return {
        "cycle": cycle,
        "hedge": rejection.hedge,
        "symbol": rejection.symbol,
        "source": rejection.source,
        "reason": rejection.reason,
        "client_order_id": rejection.client_order_id,
        "side": None if side is None else Side(side).value,
        "qty": getattr(rejection, "qty", None),
        "created_at": now,
    }


async def finish_cycle(
    conn: Conn, number: int, outcome: str, summary: dict[str, Any], now: datetime
) -> None:
    values = {"n": number, "at": now, "out": outcome, "s": dict(summary)}
    done = await conn.execute(_FINISH, values)
    if getattr(done, "rowcount", 1) == 0:
        raise NotFound(f"no cycle {number}")


async def events(
    session: AsyncSession, *, kind: str | None, limit: int | None
) -> list[StoredEvent]:
    stmt = select(EventRow).order_by(EventRow.id.desc())
    if kind is not None:
        stmt = stmt.where(EventRow.kind == kind)
    rows = await session.scalars(_limited(stmt, limit))
    return [
        StoredEvent(
            id=r.id,
            ts=r.ts,
            cycle=r.cycle,
            level=r.level,
            kind=r.kind,
            message=r.message,
            data=frozen_map(r.data),
        )
        for r in rows
    ]


async def rejections(session: AsyncSession, *, limit: int | None) -> list[StoredRejection]:
    rows = await session.scalars(
        _limited(select(RejectionRow).order_by(RejectionRow.id.desc()), limit)
    )
    return [
        StoredRejection(
            id=r.id,
            cycle=r.cycle,
            hedge=r.hedge,
            symbol=r.symbol,
            source=r.source,
            reason=r.reason,
            client_order_id=r.client_order_id,
            side=None if r.side is None else Side(r.side),
            qty=r.qty,
            created_at=r.created_at,
        )
        for r in rows
    ]


async def last_targets(session: AsyncSession) -> dict[tuple[str, str], StoredTarget]:
    latest = (
        select(func.max(TargetRow.id).label("id"))
        .group_by(TargetRow.hedge, TargetRow.symbol)
        .scalar_subquery()
    )
    rows = await session.scalars(select(TargetRow).where(TargetRow.id.in_(latest)))
    return {
        (r.hedge, r.symbol): StoredTarget(
            cycle=r.cycle,
            hedge=r.hedge,
            symbol=r.symbol,
            current_size=r.current_size,
            target_size=r.target_size,
            ratio=r.ratio,
            reason=r.reason,
            details=frozen_map(r.details or {}),
            created_at=r.created_at,
        )
        for r in rows
    }


async def cycles(session: AsyncSession, *, limit: int | None) -> list[StoredCycle]:
    rows = await session.scalars(_limited(select(CycleRow).order_by(CycleRow.number.desc()), limit))
    return [
        StoredCycle(
            number=r.number,
            started_at=r.started_at,
            finished_at=r.finished_at,
            outcome=r.outcome,
            trading_state=TradingState(r.trading_state),
            summary=frozen_map(r.summary),
        )
        for r in rows
    ]


async def prune(session: AsyncSession, before: datetime) -> dict[str, int]:
    """Delete cycles started before ``before`` and their targets (issue 10.8). Kept: the newest
    cycle (it numbers the next), the latest target of every (hedge, symbol) (a restart resumes
    from it), and every order, fill, funding payment, rejection and event."""
    newest = await session.scalar(select(func.max(CycleRow.number)))
    last = await session.scalar(
        select(func.max(CycleRow.number)).where(CycleRow.started_at < before)
    )
    if newest is None or last is None:
        return {"cycles": 0, "targets": 0}
    last = min(int(last), int(newest) - 1)
    latest = select(func.max(TargetRow.id)).group_by(TargetRow.hedge, TargetRow.symbol)
    targets = await session.execute(
        delete(TargetRow).where(TargetRow.cycle <= last, TargetRow.id.not_in(latest))
    )
    done = await session.execute(delete(CycleRow).where(CycleRow.number <= last))
    return {
        "cycles": int(getattr(done, "rowcount", 0) or 0),
        "targets": int(getattr(targets, "rowcount", 0) or 0),
    }
