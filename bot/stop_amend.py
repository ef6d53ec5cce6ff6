"""Move a superseded stop-loss in place instead of placing a new one and cancelling the old.

Where a perp has exactly one of our stops resting, untouched, and the plan replaces it with one
new stop, the resting one is amended (new quantity and trigger, same venue and client ids): one
request instead of two, and never a moment with two stops or none. Where the amendment fails,
the plan's own way is taken: the stop is gone (filled, cancelled) or the venue refused -> place
the replacement (written ahead like every order) and cancel the old one once it rests. An
amendment whose outcome is unknown is left alone: the stop rests either way, moved or not, and
the next cycle plans from what it then sees (amending again is harmless: no order is created).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from bot.domain import IntentStatus, OpenOrder, OrderAck, OrderIntent
from bot.errors import FatalExchangeError, OrderNotFound, OrderRejected
from bot.exchange.port import ExchangePort
from bot.logging import get_logger
from bot.protect import StopPlan
from bot.store import IntentTransitionError, NotFound
from bot.store.repo import Store

log = get_logger("bot.stops")
Pair = tuple[OpenOrder, OrderIntent]


def amendable(plan: StopPlan, resting: Sequence[OpenOrder]) -> tuple[list[Pair], StopPlan]:
    """The (resting stop, replacement) pairs to amend, and the rest of the plan."""
    by_cid = {o.client_order_id: o for o in resting if o.client_order_id}
    pairs: list[Pair] = []
    for intent in plan.place:
        superseded = [cid for symbol, cid in plan.cancel if symbol == intent.symbol]
        order = by_cid.get(superseded[0]) if len(superseded) == 1 else None
        if (
            order is None
            or order.filled
            or order.side != intent.side
            or order.kind != intent.kind
            or intent.trigger_price is None
        ):
            continue
        pairs.append((order, intent))
    moved = {i.client_order_id for _, i in pairs}
    old = {(o.symbol, o.client_order_id) for o, _ in pairs}
    rest = StopPlan(
        tuple(i for i in plan.place if i.client_order_id not in moved),
        tuple(c for c in plan.cancel if c not in old),
    )
    return pairs, rest


async def send_amends(port: ExchangePort, pairs: Sequence[Pair]) -> Sequence[object]:
    """Every amendment at once (in batches where the venue takes them); one outcome (ack or
    error) per pair. No store access here, so it can run beside other sends."""
    if not pairs:
        return []
    amends = [(o.symbol, str(o.client_order_id), i.qty, _trigger(i)) for o, i in pairs]
    return await port.amend_stops(amends)


def fatal(outcomes: Sequence[object]) -> FatalExchangeError | None:
    return next((o for o in outcomes if isinstance(o, FatalExchangeError)), None)


def _trigger(intent: OrderIntent) -> Decimal:
    assert intent.trigger_price is not None  # amendable() pairs stops only
    return intent.trigger_price


async def record_amends(
    store: Store, pairs: Sequence[Pair], outcomes: Sequence[object]
) -> tuple[list[str], StopPlan]:
    """Returns the client ids amended and, for the amendments that failed, the plan to carry
    out instead. A fatal refusal (``fatal``) is the caller's: it halts, as for any order."""
    amended: list[str] = []
    place: list[OrderIntent] = []
    cancel: list[tuple[str, str]] = []
    for (order, intent), outcome in zip(pairs, outcomes, strict=True):
        cid = str(order.client_order_id)
        if isinstance(outcome, OrderAck):
            await _record(store, order, intent)
            amended.append(cid)
        elif isinstance(outcome, FatalExchangeError):
            log.error(
                "stop-loss not amended: the venue refuses us",
                symbol=order.symbol,
                error=str(outcome),
            )
        elif isinstance(outcome, OrderNotFound | OrderRejected):
            log.warning(
                "stop-loss not amended; placing a new one", symbol=order.symbol, error=str(outcome)
            )
            place.append(intent)
            cancel.append((order.symbol, cid))
        elif isinstance(outcome, Exception):
            log.warning(
                "stop-loss amendment outcome unknown; planned again next cycle",
                symbol=order.symbol,
                client_order_id=cid,
                error=str(outcome),
            )
        elif isinstance(outcome, BaseException):
            raise outcome  # not the venue's answer: the process is going down
    return amended, StopPlan(tuple(place), tuple(cancel))


async def _record(store: Store, order: OpenOrder, intent: OrderIntent) -> None:
    """The stored intent names the order as it now rests (its history is in the log)."""
    cid = str(order.client_order_id)
    why = f"amended: qty {order.qty} -> {intent.qty}, trigger {order.trigger_price} -> " + str(
        intent.trigger_price
    )
    try:
        await store.update_intent(
            cid, IntentStatus.OPEN, qty=intent.qty, trigger_price=intent.trigger_price, reason=why
        )
    except (NotFound, IntentTransitionError):
        log.info("amended a stop with no open intent here", client_order_id=cid)
    log.info(
        "stop-loss amended",
        symbol=order.symbol,
        client_order_id=cid,
        qty=str(intent.qty),
        trigger=str(intent.trigger_price),
    )
