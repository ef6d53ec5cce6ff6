"""What the API, the dashboard and the metrics show, assembled from the database only: the
latest cycle's account figures (``bot.account_view``), targets, stops and the ledgers."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import IntentPurpose, IntentStatus
from bot.flatten import flattened
from bot.review.queries import status_rows
from bot.store.models import CycleRow
from bot.store.records import StoredCycle
from bot.store.repo import Store
from bot.web.jsonable import dec

ZERO = Decimal(0)


async def latest_account(store: Store) -> tuple[StoredCycle | None, dict[str, Any]]:
    """The newest cycle that recorded account figures (skipped cycles record none)."""
    for cycle in await store.cycles(limit=50):
        account = cycle.summary.get("account")
        if isinstance(account, dict):
            return cycle, account
    return None, {}


def cycle_view(cycle: StoredCycle | None) -> dict[str, Any] | None:
    if cycle is None:
        return None
    duration = (cycle.finished_at - cycle.started_at).total_seconds() if cycle.finished_at else None
    summary = {k: v for k, v in cycle.summary.items() if k != "account"}
    return {
        "number": cycle.number,
        "started_at": cycle.started_at,
        "finished_at": cycle.finished_at,
        "outcome": cycle.outcome,
        "trading_state": cycle.trading_state,
        "duration_seconds": duration,
        "summary": summary,
    }


async def funding_by_symbol(store: Store) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for payment in await store.funding():
        totals[payment.symbol] += payment.amount
    return dict(totals)


async def stop_triggers(store: Store) -> dict[str, Decimal]:
    """The trigger of the newest resting stop-loss per symbol."""
    stops = await store.intents(statuses=[IntentStatus.OPEN], purpose=IntentPurpose.STOP)
    found: dict[str, Decimal] = {}
    for intent in stops:  # newest first
        if intent.symbol not in found and intent.trigger_price is not None:
            found[intent.symbol] = intent.trigger_price
    return found


def _fraction(num: Decimal | None, den: Decimal | None) -> Decimal | None:
    if num is None or den is None or den == 0:
        return None
    return num / den


async def hedge_rows(
    store: Store, status: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    targets = await store.last_targets()
    # `hedgebot status` explains, per hedge, why no order went out: show the same words
    status = status if status is not None else (await status_rows(store))["hedges"]
    why = {(r["hedge"], r["symbol"]): r.get("why_no_order", "") for r in status}
    _cycle, account = await latest_account(store)
    funding = await funding_by_symbol(store)
    stops = await stop_triggers(store)
    perps = account.get("perps", {})
    spot = account.get("spot", {})
    hedges = account.get("hedges", {})
    rows = []
    for (hedge, symbol), t in sorted(targets.items()):
        asset = hedges.get(hedge, {}).get("spot_asset") or symbol.split("/")[0]
        spot_qty = dec(spot.get(asset, {}).get("qty"))
        perp = perps.get(symbol, {})
        current = t.current_size
        rows.append(
            {
                "hedge": hedge,
                "symbol": symbol,
                "spot_asset": asset,
                "spot": spot_qty,
                "spot_price": dec(spot.get(asset, {}).get("price")),
                "perp": current,
                "mark": dec(perp.get("mark")),
                # the hedge ratio held: short size over the spot holding
                "ratio": _fraction(-current, spot_qty),
                "target_ratio": t.ratio,
                "target": t.target_size,
                "deviation": _fraction(current - t.target_size, abs(t.target_size)),
                "stop_trigger": stops.get(symbol),
                "liquidation_price": dec(perp.get("liquidation")),
                "liquidation_distance": dec(perp.get("liquidation_distance")),
                "funding_received": funding.get(symbol, ZERO),
                "reason": t.reason,
                "why_no_order": why.get((hedge, symbol), ""),
                "cycle": t.cycle,
            }
        )
    return rows


async def hedge_names(store: Store) -> set[str]:
    """Every configured hedge the last cycles named (the account figures list all of them)."""
    _cycle, account = await latest_account(store)
    return set(account.get("hedges", {})) | {h for h, _s in await store.last_targets()}


async def status_view(store: Store) -> dict[str, Any]:
    sections = await status_rows(store)
    summary = sections["summary"][0]
    last = await store.cycles(limit=1)
    acc_cycle, account = await latest_account(store)
    return {
        "trading_state": summary["trading_state"],
        "reason": summary["reason"],
        "last_cycle": cycle_view(last[0] if last else None),
        "account": {**account, "cycle": acc_cycle.number if acc_cycle else None},
        "hedges": await hedge_rows(store, sections["hedges"]),
        "flattened": sorted(await flattened(store)),
        "recent_orders": sections["recent_orders"],
    }


async def value_series(
    store: Store,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    points: int = 300,
) -> list[dict[str, Any]]:
    """Hedged value (everything at market: quote, spot and the perps' unrealised PnL) against the
    same holdings unhedged (spot at market plus the starting rest), about ``points`` cycles evenly
    spread over the period (the first and the last included). Both start equal, so the gap is what
    the hedge did. Thinned in SQL: a long history costs the event loop no more than a short one."""
    window = []
    if since is not None:
        window.append(CycleRow.started_at >= since)
    if until is not None:
        window.append(CycleRow.started_at < until)
    async with AsyncSession(store.engine) as s:
        lo, hi = (
            await s.execute(
                select(func.min(CycleRow.number), func.max(CycleRow.number)).where(*window)
            )
        ).one()
        if lo is None:
            return []
        step = max(1, -(-(hi - lo + 1) // max(points - 1, 1)))
        picked = or_((CycleRow.number - lo) % step == 0, CycleRow.number == hi)
        stmt = select(CycleRow.number, CycleRow.started_at, CycleRow.summary).where(*window, picked)
        rows = list(await s.execute(stmt.order_by(CycleRow.number)))
    samples = []
    for number, ts, summary in rows:
        account = (summary or {}).get("account")
        if not isinstance(account, dict):
            continue  # a skipped cycle observed no account
        total, spot_value = dec(account.get("total_value")), dec(account.get("spot_value"))
        if total is not None and spot_value is not None:
            samples.append((number, ts, total, spot_value))
    if not samples:
        return []
    rest = samples[0][2] - samples[0][3]
    return [
        {"cycle": n, "time": ts, "hedged": total, "unhedged": spot_value + rest}
        for n, ts, total, spot_value in samples
    ]
