"""Queries for small persisted state: the trading state (one row) and named cursors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.domain import TradingState
from bot.store.models import CursorRow, CycleRow, RiskStateRow
from bot.store.upsert import insert_for

_RISK_ROW = 1


async def trading_state(session: AsyncSession) -> tuple[TradingState, str]:
    row = await session.get(RiskStateRow, _RISK_ROW)
    if row is None:
        return TradingState.ACTIVE, ""
    return TradingState(row.state), row.reason


async def set_trading_state(
    session: AsyncSession, dialect: str, state: TradingState, reason: str, now: datetime
) -> None:
    values = {"state": TradingState(state).value, "reason": reason, "updated_at": now}
    stmt = insert_for(dialect, RiskStateRow).values(id=_RISK_ROW, **values)
    await session.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=values))


async def get_cursor(session: AsyncSession, name: str) -> str | None:
    return await session.scalar(select(CursorRow.value).where(CursorRow.name == name))


async def set_cursor(session: AsyncSession, dialect: str, name: str, value: str) -> None:
    stmt = insert_for(dialect, CursorRow).values(name=name, value=value)
    await session.execute(
        stmt.on_conflict_do_update(index_elements=["name"], set_={"value": value})
    )


_RISK = select(RiskStateRow.state).where(RiskStateRow.id == _RISK_ROW)
_HEAD = select(  # built once: building a statement cost more than running it
    select(func.max(CycleRow.number)).scalar_subquery(),
    _RISK.scalar_subquery(),
    _RISK.with_only_columns(RiskStateRow.reason).scalar_subquery(),
    select(CursorRow.value).where(CursorRow.name == bindparam("cursor")).scalar_subquery(),
)


async def cycle_head(
    conn: AsyncSession | AsyncConnection, cursor: str
) -> tuple[int, TradingState, str, str | None]:
    """The next cycle number, the trading state and its reason and the value of ``cursor``, in
    one statement (a steady cycle's reads are few statements: each is a trip to the driver)."""
    highest, state, reason, value = (await conn.execute(_HEAD, {"cursor": cursor})).one()
    number = 1 if highest is None else int(highest) + 1
    if state is None:
        return number, TradingState.ACTIVE, "", value
    return number, TradingState(state), reason, value
