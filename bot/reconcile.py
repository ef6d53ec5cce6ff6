"""Reconcile: the database's intents against the venue's orders, by client order id; then ingest
fills and funding idempotently (the venue's ids are unique keys) and detect position drift.

Reads stay constant per cycle: open intents are checked against the snapshot's open orders (one
request for all perps); only intents that left the open list are looked up one by one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from bot.domain import (
    ZERO,
    Fill,
    IntentPurpose,
    IntentStatus,
    MarketKind,
    OpenOrder,
    OrderState,
    Side,
    Snapshot,
)
from bot.errors import TransientError
from bot.exchange.found import mismatch, too_old
from bot.exchange.port import ExchangePort
from bot.logging import get_logger
from bot.planner import purpose_of
from bot.store.records import OPEN_STATUSES, IntentRef, StoredIntent
from bot.store.repo import Store

log = get_logger("bot.reconcile")
T = TypeVar("T")

_STATE_TO_STATUS = {
    OrderState.OPEN: IntentStatus.OPEN,
    OrderState.CLOSED: IntentStatus.FILLED,
    OrderState.CANCELLED: IntentStatus.CANCELLED,
    OrderState.REJECTED: IntentStatus.REJECTED,
}
# An ambiguous create not found on the venue by then never arrived: a signed request is refused by
# the venue once older than its receive window (Bybit: 5 s by default), so it cannot land later.
UNKNOWN_GRACE = timedelta(seconds=30)
HISTORY_WINDOW = timedelta(days=6)  # a little less than what a venue answers after a start time
CLOCK_MARGIN = timedelta(days=1)  # a scanned window's end stays this far behind our clock
MAX_SCAN = 16  # windows scanned forward per read, when a cursor is far behind (~3 months)
FILL_CURSOR = "fills_since"
SPOT_FILL_MARGIN = timedelta(minutes=1)  # the venue's clock may run a little behind ours
FUNDING_CURSOR = "funding_since"


@dataclass
class ReconcileResult:
    blocked: set[str] = field(default_factory=set)  # symbols with unresolved intents
    changed: int = 0
    fills: list[Fill] = field(default_factory=list)
    fresh_fills: list[Fill] = field(default_factory=list)  # not in the database before this cycle
    stop_fills: list[Fill] = field(default_factory=list)
    new_fills: int = 0
    new_funding: int = 0
    drift: dict[str, Decimal] = field(default_factory=dict)
    # spot symbols (basis legs) whose intents changed, with the oldest such intent's creation:
    # their fills are read by symbol, since the all-perps read leaves spot out
    spot_changed: dict[str, datetime] = field(default_factory=dict)


async def _as_resting(store: Store, ref: IntentRef, order: OpenOrder) -> None:
    """A resting stop's quantity and trigger are the venue's: an amendment applied whose answer
    was lost (or a crash before its record) is never sent again, as the stop rests as wanted."""
    moved = (order.qty, order.trigger_price) != (ref.qty, ref.trigger_price)
    if order.trigger_price is None or order.qty <= 0 or not moved:
        return  # a listing without a size (a close-position stop) corrects nothing
    await store.update_intent(
        ref.client_order_id,
        IntentStatus.OPEN,
        qty=order.qty,
        trigger_price=order.trigger_price,
        reason=f"as resting on the venue: qty {order.qty}, trigger {order.trigger_price}",
    )


async def resolve_intents(
    port: ExchangePort,
    store: Store,
    snapshot: Snapshot,
    result: ReconcileResult,
    pending: Sequence[IntentRef] | None = None,
) -> None:
    """``pending``: the intents in OPEN_STATUSES, if the cycle read them already (full rows
    are read for the ones not seen resting on the venue)."""
    open_by_cid = {o.client_order_id: o for o in snapshot.open_orders if o.client_order_id}
    rest: list[IntentRef] = []
    for ref in await store.intents(statuses=OPEN_STATUSES) if pending is None else pending:
        if ref.status == IntentStatus.OPEN and ref.client_order_id in open_by_cid:
            if ref.purpose != IntentPurpose.STOP:
                result.blocked.add(ref.symbol)
            else:
                await _as_resting(store, ref, open_by_cid[ref.client_order_id])
        else:
            rest.append(ref)
    todo = [i for i in rest if isinstance(i, StoredIntent)]
    if len(todo) < len(rest):  # references only: their full rows
        wanted = {i.client_order_id for i in rest}
        full = await store.intents(statuses=OPEN_STATUSES)
        todo = [i for i in full if i.client_order_id in wanted]
    for intent in todo:
        try:
            report = await port.fetch_order(intent.symbol, intent.client_order_id)
        except TransientError as exc:
            log.warning(
                "order lookup failed", client_order_id=intent.client_order_id, error=str(exc)
            )
            result.blocked.add(intent.symbol)
            continue
        if report is not None and intent.status.unresolved:
            # never sent or its answer lost: an order under this id counts only if it is ours
            why = mismatch(report, intent)
            if why is None and too_old(report.created_at, intent.created_at):
                why = "created before the intent was written"
            if why is not None:
                log.warning(
                    "another order under our client id",
                    client_order_id=intent.client_order_id,
                    why=why,
                )
                report = None
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
            market = snapshot.markets.get(intent.symbol)
            if market is not None and market.kind == MarketKind.SPOT:
                since = result.spot_changed.get(intent.symbol, intent.created_at)
                result.spot_changed[intent.symbol] = min(since, intent.created_at)
            log.info(
                "intent resolved",
                client_order_id=intent.client_order_id,
                status=status.value,
                filled=str(report.filled),
            )


async def _not_on_venue(
    store: Store, intent: StoredIntent, now: datetime, result: ReconcileResult
) -> None:
    # PENDING: written ahead, then the process stopped around the send; UNKNOWN: an ambiguous
    # submit. Either may still be on its way for a moment: declared lost only after the grace.
    if now - intent.updated_at < UNKNOWN_GRACE:
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
        fills, cursor = await _read_since(
            store,
            FILL_CURSOR,
            snapshot.ts,
            lambda since, until: port.fetch_fills(None, since, until),
            lambda f: (f.ts, f.trade_id),
        )
        for symbol, since in sorted(result.spot_changed.items()):
            fills = [*fills, *await port.fetch_fills(symbol, since - SPOT_FILL_MARGIN, None)]
        result.fills = fills
        if fills:
            known = await store.known_trade_ids([f.trade_id for f in fills])
            result.fresh_fills = [f for f in fills if f.trade_id not in known]
            result.new_fills = await store.add_fills(fills)
            result.stop_fills = [
                f for f in result.fresh_fills if purpose_of(f.client_order_id) == IntentPurpose.STOP
            ]
        await _move_cursor(store, FILL_CURSOR, cursor)
    if funding_due:
        payments, cursor = await _read_since(
            store,
            FUNDING_CURSOR,
            snapshot.ts,
            lambda since, until: port.fetch_funding_payments(None, since, until),
            lambda p: (p.ts, p.payment_id),
        )
        if payments:
            result.new_funding = await store.add_funding(payments)
        await _move_cursor(store, FUNDING_CURSOR, cursor)


async def _read_since(
    store: Store,
    name: str,
    now: datetime,
    read: Callable[[datetime | None, datetime | None], Awaitable[Sequence[T]]],
    key: Callable[[T], tuple[datetime, str]],
) -> tuple[list[T], datetime | None]:
    """Every row from the cursor up to now (oldest first, once each), and where the cursor goes
    next: the caller moves it only after storing the rows, so a crash in between re-reads.

    Venues answer a start time with at most a window after it (Bybit: 7 days), and the cursor's
    own last row is always in that window, so a non-empty answer does not mean there is nothing
    newer: walk windows with explicit end times until the last one reaches now; that last one is
    asked open-ended (the venue's own window from its start covers now, whatever our clock says).
    A window read in full is never asked again: the cursor moves to its end, kept a day short of
    now so that a difference between the venue's clock and ours loses nothing. After a very long
    absence the newest window is read as well, while the cursor goes on through the gap."""
    value = await store.get_cursor(name)
    since = datetime.fromisoformat(value) if value else None
    if since is None:  # first read: the venue's default, its most recent window
        rows = list(await read(None, None))
        reached = now - HISTORY_WINDOW
    else:
        rows, start, steps = [], since, 0
        while now - start > HISTORY_WINDOW and steps < MAX_SCAN:
            rows += await read(start, start + HISTORY_WINDOW)
            start, steps = start + HISTORY_WINDOW, steps + 1
        if now - start <= HISTORY_WINDOW:
            rows += await read(start, None)
            reached = min(start, now - CLOCK_MARGIN)
        else:  # still behind after a long absence: the newest window too, so a stop that fired
            rows += await read(now - HISTORY_WINDOW, None)  # just now is acted on at once
            reached = start  # the windows in between are scanned by the next reads
    unique = sorted({key(r): r for r in rows}.items())  # windows share their boundary instant
    # the cursor follows the scanned windows, never a row's own time: a row published late
    # with an earlier time is still read, and rows are stored idempotently by their venue id
    cursor = max([reached] + ([since] if since else []))
    return [r for _, r in unique], (cursor if cursor != since else None)


async def _move_cursor(store: Store, name: str, cursor: datetime | None) -> None:
    if cursor is not None:
        await store.set_cursor(name, cursor.isoformat())


def detect_drift(
    previous: Mapping[str, Decimal],
    snapshot: Snapshot,
    fills: list[Fill],
    step: Mapping[str, Decimal],
) -> dict[str, Decimal]:
    """Symbols whose position moved more than our own fills explain (liquidation, manual trade).
    Symbols our fills moved are checked too: a position answer that omits the short a fill of
    ours just opened is a move of the same size, not "0 before, 0 now"."""
    explained: dict[str, Decimal] = {}
    for f in fills:
        market = snapshot.markets.get(f.symbol)
        if market is not None and market.kind == MarketKind.SPOT:
            continue  # a basis leg's spot fill moves no position
        signed = f.qty if f.side == Side.BUY else -f.qty
        explained[f.symbol] = explained.get(f.symbol, ZERO) + signed
    drift = {}
    for symbol in sorted({*previous, *snapshot.positions, *explained}):
        before = previous.get(symbol, ZERO)
        now = snapshot.position_size(symbol)
        unexplained = now - before - explained.get(symbol, ZERO)
        if abs(unexplained) > step.get(symbol, ZERO):
            drift[symbol] = unexplained
    return drift
