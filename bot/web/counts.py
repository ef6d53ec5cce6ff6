"""Counts for the metrics, one GROUP BY per table (cheap on every scrape)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import CycleRow, EventRow, IntentRow, RejectionRow
from bot.store.repo import Store

FATAL_MARK = "fatal venue error"
READ_MARK = "venue read failed"


async def counts(store: Store) -> dict[str, dict[tuple[str, ...], int]]:
    async with AsyncSession(store.engine) as s:
        orders = await s.execute(
            select(IntentRow.purpose, IntentRow.status, func.count()).group_by(
                IntentRow.purpose, IntentRow.status
            )
        )
        rejections = await s.execute(
            select(RejectionRow.source, func.count()).group_by(RejectionRow.source)
        )
        cycles = await s.execute(select(CycleRow.outcome, func.count()).group_by(CycleRow.outcome))
        halts = await s.scalar(select(func.count()).where(EventRow.kind == "halted"))
        fatal = await s.scalar(
            select(func.count()).where(
                EventRow.kind == "halted", EventRow.message.contains(FATAL_MARK)
            )
        )
        reads = await s.scalar(
            select(func.count()).where(
                EventRow.kind == "cycle_skipped", EventRow.message.startswith(READ_MARK)
            )
        )
        unknown = await s.scalar(
            select(func.count()).where(IntentRow.status.in_(("unknown", "lost")))
        )
    return {
        "orders": {(p, st): n for p, st, n in orders},
        "rejections": {(src,): n for src, n in rejections},
        "cycles": {(o,): n for o, n in cycles},
        "halts": {(): halts or 0},
        "venue_errors": {
            ("read_failed",): reads or 0,
            ("fatal",): fatal or 0,
            ("order_outcome_unknown",): unknown or 0,
        },
    }
