"""An order found on the venue under one of our client ids is taken for our intent only when it is
that order: the same side, quantity and kind. Ids are unique per process start (planner), but a
database restored from a backup or shared between two bots could still meet an id the account
used before; then the old order must never stand in for the new one (a cancelled stop taken for
a resting one left a short bare). Its age is judged by the caller, who knows when the intent was
written (``too_old``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from bot.domain import (
    IntentStatus,
    OrderAck,
    OrderIntent,
    OrderKind,
    OrderReport,
    OrderState,
    Side,
)
from bot.errors import OrderRejected

# an order created this long before its intent was written is another one (venue clocks and ours
# may differ by a few seconds; an id reused by a restored database is minutes to months older)
CREATED_BEFORE_INTENT = timedelta(minutes=2)
_STATUS = {  # filled: acknowledged as any sent order is; reconcile records the fill
    OrderState.OPEN: IntentStatus.OPEN,
    OrderState.CLOSED: IntentStatus.OPEN,
    OrderState.CANCELLED: IntentStatus.CANCELLED,
    OrderState.REJECTED: IntentStatus.REJECTED,
}


class Intended(Protocol):
    @property
    def side(self) -> Side: ...
    @property
    def kind(self) -> OrderKind: ...
    @property
    def qty(self) -> Decimal: ...


def mismatch(report: OrderReport, intent: Intended) -> str | None:
    """Why the found order is not the intended one, or None when it is."""
    if report.side is not None and report.side != intent.side:
        return f"side {report.side.value}, not {intent.side.value}"
    if report.kind is not None and report.kind != intent.kind:
        return f"a {report.kind.value} order, not {intent.kind.value}"
    if report.qty != intent.qty:
        return f"quantity {report.qty}, not {intent.qty}"
    return None


def too_old(created_at: datetime | None, written_at: datetime) -> bool:
    return created_at is not None and created_at < written_at - CREATED_BEFORE_INTENT


def ack_found(intent: OrderIntent, report: OrderReport, operation: str) -> OrderAck:
    """The acknowledgement of a create whose order was found by its id: its real state (a
    cancelled or rejected one is not open), or a refusal when it is another order."""
    why = mismatch(report, intent)
    if why is not None:
        raise OrderRejected(
            f"client order id {intent.client_order_id} already names another order ({why})",
            operation=operation,
            code="duplicate_client_id",
        )
    status = _STATUS[report.state]
    reason = report.reason if status in (IntentStatus.CANCELLED, IntentStatus.REJECTED) else None
    return OrderAck(
        intent.client_order_id, report.venue_order_id, status, reason, report.created_at
    )
