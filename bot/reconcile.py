"""Reconcile: the database's intents against the venue's orders, by client order id; then ingest
fills and funding idempotently (the venue's ids are unique keys) and detect position drift.

Reads stay constant per cycle: open intents are checked against the snapshot's open orders (one
request for all perps); only intents that left the open list are looked up one by one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from bot.domain import (
    ZERO,
    Fill,
    IntentPurpose,
    IntentStatus,
    OrderState,
    Side,
    Snapshot,
)
from bot.errors import TransientError
from bot.exchange.port import ExchangePort
from bot.logging import get_logger
from bot.store.records import StoredIntent
from bot.store.repo import Store

log = get_logger("bot.reconcile")

_STATE_TO_STATUS = {
    OrderState.OPEN: IntentStatus.OPEN,
    OrderState.CLOSED: IntentStatus.FILLED,
    OrderState.CANCELLED: IntentStatus.CANCELLED,
    OrderState.REJECTED: IntentStatus.REJECTED,
}
# An ambiguous create not found on the venue by then never arrived: a signed request is refused by
# the venue once older than its receive window (Bybit: 5 s by default), so it cannot land later.
UNKNOWN_GRACE = timedelta(seconds=30)
HISTORY_WINDOW = timedelta(days=6)  # venues keep executions queryable about a week
FILL_CURSOR = "fills_since"
FUNDING_CURSOR = "funding_since"


@dataclass
class ReconcileResult:
    blocked: set[str] = field(default_factory=set)  # symbols with unresolved intents
    changed: int = 0
    fills: list[Fill] = field(default_factory=list)
    stop_fills: list[Fill] = field(default_factory=list)
    new_fills: int = 0
    new_funding: int = 0
    drift: dict[str, Decimal] = field(default_factory=dict)


async def resolve_intents(
    port: ExchangePort, store: Store, snapshot: Snapshot, result: ReconcileResult
) -> None:
    open_by_cid = {o.client_order_id: o for o in snapshot.open_orders if o.client_order_id}
    pending = await store.intents(
        statuses=(IntentStatus.PENDING, IntentStatus.UNKNOWN, IntentStatus.OPEN)
    )
    for intent in pending:
        if intent.status == IntentStatus.OPEN and intent.client_order_id in open_by_cid:
            if intent.purpose != IntentPurpose.STOP:
                result.blocked.add(intent.symbol)
            continue
        try:
            report = await port.fetch_order(intent.symbol, intent.client_order_id)
        except TransientError as exc:
            log.warning(
                "order lookup failed", client_order_id=intent.client_order_id, error=str(exc)
            )
            result.blocked.add(intent.symbol)
            continue
        if report is None:
            await _not_on_venue(store, intent, snapshot.ts, result)
            continue
        status = _STATE_TO_STATUS[report.state]
        if status == IntentStatus.OPEN and intent.purpose != IntentPurpose.STOP:
            result.blocked.add(intent.symbol)
        if status != intent.status or report.filled != (intent.filled_qty or ZERO):
            await store.update_intent(
                intent.client_order_id,
                status,
                venue_order_id=report.venue_order_id,
                filled_qty=report.filled,
                avg_price=report.average_price,
                reason=report.reason,
            )
            result.changed += 1
            log.info(
                "intent resolved",
                client_order_id=intent.client_order_id,
                status=status.value,
                filled=str(report.filled),
            )


async def _not_on_venue(
    store: Store, intent: StoredIntent, now: datetime, result: ReconcileResult
) -> None:
    # PENDING: written ahead but the process stopped before sending: it never left.
    # UNKNOWN: an ambiguous submit; give the venue a grace period before declaring it lost.
    if intent.status == IntentStatus.UNKNOWN and now - intent.updated_at < UNKNOWN_GRACE:
        result.blocked.add(intent.symbol)
        return
    await store.update_intent(
        intent.client_order_id, IntentStatus.LOST, reason="not found on the venue by client id"
    )
    result.changed += 1
    log.warning("intent never reached the venue", client_order_id=intent.client_order_id)


async def ingest(
    port: ExchangePort,
    store: Store,
    snapshot: Snapshot,
    result: ReconcileResult,
    *,
    fills_due: bool,
    funding_due: bool,
) -> None:
    """Fetch fills only when something may have executed and funding only after a settlement."""
    if fills_due:
        since = await _cursor(store, FILL_CURSOR, snapshot.ts)
        fills = list(await port.fetch_fills(None, since))
        result.fills = fills
        if fills:
            result.new_fills = await store.add_fills(fills)
            await store.set_cursor(FILL_CURSOR, max(f.ts for f in fills).isoformat())
            stop_ids = {
                i.client_order_id
                for i in await store.intents(purpose=IntentPurpose.STOP, limit=200)
            }
            result.stop_fills = [f for f in fills if f.client_order_id in stop_ids]
    if funding_due:
        since = await _cursor(store, FUNDING_CURSOR, snapshot.ts)
        payments = list(await port.fetch_funding_payments(None, since))
        if payments:
            result.new_funding = await store.add_funding(payments)
            await store.set_cursor(FUNDING_CURSOR, max(p.ts for p in payments).isoformat())


async def _cursor(store: Store, name: str, now: datetime) -> datetime | None:
    """Where to read from. Venues keep executions queryable for a window (Bybit: 7 days from the
    start given); a cursor older than that would never advance, so it is clamped, with a warning:
    what happened while the bot was down longer than that can only be seen on the venue."""
    value = await store.get_cursor(name)
    if not value:
        return None
    since = datetime.fromisoformat(value)
    if now - since > HISTORY_WINDOW:
        log.warning(
            "cursor older than the venue's history window; clamped",
            cursor=name,
            since=since.isoformat(),
        )
        await store.add_event(
            "history_gap",
            f"{name} older than {HISTORY_WINDOW.days} days",
            level="warning",
            data={"since": since.isoformat()},
        )
        since = now - HISTORY_WINDOW
    return since


def detect_drift(
    previous: Mapping[str, Decimal],
    snapshot: Snapshot,
    fills: list[Fill],
    step: Mapping[str, Decimal],
) -> dict[str, Decimal]:
    """Symbols whose position moved more than our own fills explain (liquidation, manual trade)."""
    explained: dict[str, Decimal] = {}
    for f in fills:
        signed = f.qty if f.side == Side.BUY else -f.qty
        explained[f.symbol] = explained.get(f.symbol, ZERO) + signed
    drift = {}
    for symbol in sorted({*previous, *snapshot.positions}):
        before = previous.get(symbol, ZERO)
        now = snapshot.position_size(symbol)
        unexplained = now - before - explained.get(symbol, ZERO)
        if abs(unexplained) > step.get(symbol, ZERO):
            drift[symbol] = unexplained
    return drift
