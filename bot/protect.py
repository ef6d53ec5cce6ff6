"""Keep exactly one reduce-only stop-loss resting on the venue for every short, sized to it.

Pure planning: positions and open orders in, stop intents to place and client ids to cancel out.
The stop guards against liquidation, not against price (ARCHITECTURE rule 11): in a hedged book a
rally is not a loss, the spot gains what the short loses. So the trigger is anchored to the
liquidation price the venue reports (``liquidation_buffer`` below it), or to a fixed multiple of the
entry price when the venue reports none. It never trails the mark: a resting stop is re-placed only
when the short is resized or its anchor moved by more than ``tolerance``, and never to a point the
mark has already reached. A new stop is placed before the old one is cancelled, so a short is never
left unprotected between the two.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_DOWN, Decimal

from bot.domain import (
    ZERO,
    IntentPurpose,
    OpenOrder,
    OrderIntent,
    OrderKind,
    PerpPosition,
    Side,
    Snapshot,
)
from bot.planner import client_order_id

OUR_PREFIX = "hb-"
TWO = Decimal(2)


@dataclass(frozen=True, slots=True)
class StopPolicy:
    liquidation_buffer: Decimal = Decimal("0.05")  # trigger at liquidation price x (1 - buffer)
    entry_multiple: Decimal = Decimal(3)  # trigger at entry x this when no liquidation price
    ceiling: Decimal = Decimal(10)  # never above entry x this (venues cap prices; it is far enough)
    tolerance: Decimal = Decimal("0.03")  # re-place only when the anchor moved by more than this
    min_gap: Decimal = Decimal("0.01")  # closer than this above the mark: would fire at once


@dataclass(frozen=True, slots=True)
class StopPlan:
    place: tuple[OrderIntent, ...]
    cancel: tuple[tuple[str, str], ...]  # (symbol, client order id)


def is_our_stop(order: OpenOrder) -> bool:
    return (
        order.trigger_price is not None
        and order.reduce_only
        and (order.client_order_id or "").startswith(OUR_PREFIX)
    )


def usable_liquidation(pos: PerpPosition) -> Decimal | None:
    """A short's liquidation price when it is above the mark; a venue that reports none (or one
    below the mark: the account as a whole is long) gives the short no upward liquidation."""
    liq = pos.liquidation_price
    if liq is None or not liq.is_finite() or liq <= pos.mark_price:
        return None
    return liq


def anchor(pos: PerpPosition, policy: StopPolicy) -> Decimal | None:
    """Where the stop belongs, independent of the mark: a buffer below the liquidation price, or
    a multiple of the entry price; at most ``ceiling`` x entry (a venue reporting a liquidation
    price beyond its own price limit would refuse the trigger)."""
    if pos.entry_price <= 0:
        return None
    liq = usable_liquidation(pos)
    point = liq * (1 - policy.liquidation_buffer) if liq is not None else None
    if point is None:
        point = pos.entry_price * policy.entry_multiple
    return min(point, _ceiling(pos, policy))


def _ceiling(pos: PerpPosition, policy: StopPolicy) -> Decimal:
    return pos.entry_price * policy.ceiling


def _in_reach(pos: PerpPosition, point: Decimal | None, policy: StopPolicy) -> bool:
    """True when a trigger at ``point`` would fire at once (or nearly)."""
    return point is None or point <= pos.mark_price * (1 + policy.min_gap)


def desired_trigger(pos: PerpPosition, policy: StopPolicy, tick: Decimal) -> Decimal:
    """The anchor, rounded down to the tick; when the mark already stands at or beyond it, the
    midpoint between mark and liquidation (or the entry multiple applied to the mark), so the new
    stop still protects without firing the moment it is placed."""
    mark = pos.mark_price
    liq = usable_liquidation(pos)
    trigger = anchor(pos, policy)
    if trigger is None or _in_reach(pos, trigger, policy):
        trigger = (mark + liq) / TWO if liq is not None else mark * policy.entry_multiple
        if pos.entry_price > 0:  # the ceiling holds here too, unless it would fire at once
            trigger = min(trigger, max(_ceiling(pos, policy), mark * (1 + TWO * policy.min_gap)))
    if tick > 0:
        trigger = (trigger / tick).to_integral_value(rounding=ROUND_DOWN) * tick
        if trigger <= mark:
            trigger += tick
    return trigger


def _acceptable(
    order: OpenOrder, size: Decimal, pos: PerpPosition, policy: StopPolicy, tick: Decimal
) -> bool:
    trigger = order.trigger_price
    assert trigger is not None
    if order.side != Side.BUY or order.qty - order.filled != size:
        return False
    liq = usable_liquidation(pos)
    if trigger <= pos.mark_price or (liq is not None and trigger >= liq):
        return False  # already reached, or beyond liquidation: it protects nothing
    desired = desired_trigger(pos, policy, tick)
    if pos.entry_price > 0 and trigger > max(_ceiling(pos, policy), desired):
        return False  # beyond the ceiling: the venue may refuse it, or it comes too late
    wanted = anchor(pos, policy)
    if wanted is None or _in_reach(pos, wanted, policy):
        # the mark came to the anchor: a stop between mark and liquidation is kept (moving it
        # away from the mark would trail the price; it is there to fire now)
        return True
    if _in_reach(pos, trigger, policy) and trigger < desired:
        return False  # below its anchor, a hair above the mark: it would fire on noise
    # within the tolerance or a tick of where it belongs (at tiny prices a tick is more than 3%)
    return abs(trigger - wanted) <= max(wanted * policy.tolerance, tick)


def plan_stops(
    snapshot: Snapshot,
    *,
    cycle: int,
    tag: str,
    policy: StopPolicy,
    symbols: Sequence[str],
    hold: Collection[str] = (),
) -> StopPlan:
    """``hold``: symbols whose short vanished from one answer without a fill of ours; their stops
    rest until a second observation confirms it (reduce-only on a flat position, harmless)."""
    place: list[OrderIntent] = []
    cancel: list[tuple[str, str]] = []
    stops: dict[str, list[OpenOrder]] = {}
    for o in snapshot.open_orders:
        if is_our_stop(o):
            stops.setdefault(o.symbol, []).append(o)
    for symbol in sorted(symbols):
        market = snapshot.markets.get(symbol)
        ours = stops.get(symbol, [])
        pos = snapshot.positions.get(symbol)
        if pos is None or pos.size >= 0 or market is None:
            if symbol not in hold or (pos is not None and pos.size > 0):
                cancel.extend((symbol, o.client_order_id or "") for o in ours)
            continue
        size = -pos.size
        mark = pos.mark_price if pos.mark_price > 0 else (snapshot.price(symbol) or ZERO)
        if mark <= 0:
            continue  # no trustworthy price: keep whatever rests rather than place a bad trigger
        if mark != pos.mark_price:
            pos = replace(pos, mark_price=mark)
        tick = market.price_tick
        keep = next((o for o in ours if _acceptable(o, size, pos, policy, tick)), None)
        cancel.extend((symbol, o.client_order_id or "") for o in ours if o is not keep)
        if keep is not None:
            continue
        place.append(
            OrderIntent(
                client_order_id=client_order_id(tag, cycle, market, IntentPurpose.STOP, 0),
                hedge="stop-loss",
                cycle=cycle,
                symbol=symbol,
                side=Side.BUY,
                qty=size,
                kind=OrderKind.STOP_MARKET,
                reduce_only=True,
                purpose=IntentPurpose.STOP,
                trigger_price=desired_trigger(pos, policy, market.price_tick),
            )
        )
    return StopPlan(tuple(place), tuple(cancel))
