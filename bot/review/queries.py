"""Read-only views over the database for `hedgebot status` (listings: ``listing.py``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bot.domain import TradingState
from bot.store.records import StoredCycle, StoredIntent, StoredTarget

if TYPE_CHECKING:
    from bot.store.repo import Store


STATUS_CYCLES, STATUS_ORDERS = 5, 20  # the newest cycles and intents `status` reads


async def status_rows(store: Store) -> dict[str, list[dict[str, Any]]]:
    state, reason = await store.trading_state()
    cycles = await store.cycles(limit=STATUS_CYCLES)
    targets = await store.last_targets()
    open_intents = await store.intents(statuses=None, limit=STATUS_ORDERS)
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.store import ledger

    async with AsyncSession(store.engine) as session:  # every payment, none left out
        received = await ledger.funding_total(session)
    return status_tables(state, reason, cycles, targets, open_intents, received)


def status_tables(
    state: TradingState,
    reason: str,
    cycles: Sequence[StoredCycle],
    targets: Mapping[tuple[str, str], StoredTarget],
    open_intents: Sequence[StoredIntent],
    received: Decimal,
) -> dict[str, list[dict[str, Any]]]:
    """The tables of `status` from what it read (by the Store, or bot.review.status_lite)."""
    done = [c for c in cycles if c.outcome != "started"]
    last = cycles[0] if cycles else None
    summary = [
        {
            "trading_state": state.value,
            "reason": reason,
            "last_cycle": last.number if last else None,
            "last_cycle_at": last.started_at if last else None,
            "last_outcome": last.outcome if last else None,
            # a skipped cycle says why (venue read failed, every symbol untrusted)
            "last_note": (done[0].summary.get("reason") or "") if done else "",
            "funding_received": received,
        }
    ]
    # the last finished cycle's explanation, per hedge, of why no order went out
    why: dict[str, str] = next(
        (c.summary["why"] for c in done if isinstance(c.summary.get("why"), dict)), {}
    )
    hedges = [
        {
            "hedge": h,
            "symbol": s,
            "current": t.current_size,
            "target": t.target_size,
            "ratio": t.ratio,
            "reason": t.reason,
            "why_no_order": why.get(h, ""),
        }
        for (h, s), t in sorted(targets.items())
    ]
    orders = [
        {
            "created": i.created_at,
            "client_order_id": i.client_order_id,
            "symbol": i.symbol,
            "side": i.side.value,
            "qty": i.qty,
            "purpose": i.purpose.value,
            "status": i.status.value,
            "reason": i.reason or "",
        }
        for i in open_intents
    ]
    return {"summary": summary, "hedges": hedges, "recent_orders": orders}
