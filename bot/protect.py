"""Keep exactly one reduce-only stop-loss resting on the venue for every short, sized to it.

Pure planning: positions and open orders in, stop intents to place and client ids to cancel out.
The stop only ever moves down (tightens as the price falls, never chases a rising price, so it can
fire), and sits below the liquidation price. A new stop is placed before the old one is cancelled,
so a short is never left unprotected between the two.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_DOWN, Decimal

from bot.domain import (
    ZERO,
    IntentPurpose,
    OpenOrder,
    OrderIntent,
    OrderKind,
    Side,
    Snapshot,
)
from bot.planner import client_order_id

OUR_PREFIX = "hb-"


@dataclass(frozen=True, slots=True)
class StopPolicy:
    distance: Decimal = Decimal("0.15")  # trigger this far above the mark when placed
    tolerance: Decimal = Decimal("0.03")  # re-place only when the stop lags by more than this
    liquidation_buffer: Decimal = Decimal("0.2")  # keep the trigger 20% of the way short of liq


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


def desired_trigger(
    mark: Decimal, liq: Decimal | None, policy: StopPolicy, tick: Decimal
) -> Decimal:
    trigger = mark * (1 + policy.distance)
    if liq is not None and liq > mark and trigger >= liq - (liq - mark) * policy.liquidation_buffer:
        trigger = liq - (liq - mark) * policy.liquidation_buffer
    if tick > 0:
        trigger = (trigger / tick).to_integral_value(rounding=ROUND_DOWN) * tick
    return trigger


def _acceptable(
    order: OpenOrder, size: Decimal, mark: Decimal, liq: Decimal | None, policy: StopPolicy
) -> bool:
    trigger = order.trigger_price
    assert trigger is not None
    if order.side != Side.BUY or order.qty - order.filled != size:
        return False
    if liq is not None and trigger >= liq:
        return False
    return trigger <= mark * (1 + policy.distance + policy.tolerance)


def plan_stops(
    snapshot: Snapshot, *, cycle: int, tag: str, policy: StopPolicy, symbols: Sequence[str]
) -> StopPlan:
    place: list[OrderIntent] = []
    cancel: list[tuple[str, str]] = []
    for symbol in sorted(symbols):
        market = snapshot.markets.get(symbol)
        ours = [o for o in snapshot.open_orders if o.symbol == symbol and is_our_stop(o)]
        pos = snapshot.positions.get(symbol)
        if pos is None or pos.size >= 0 or market is None:
            cancel.extend((symbol, o.client_order_id or "") for o in ours)
            continue
        size = -pos.size
        mark = pos.mark_price if pos.mark_price > 0 else (snapshot.price(symbol) or ZERO)
        if mark <= 0:
            continue  # no trustworthy price: keep whatever rests rather than place a bad trigger
        pos = replace(pos, mark_price=mark)
        keep = next(
            (
                o
                for o in ours
                if _acceptable(o, size, pos.mark_price, pos.liquidation_price, policy)
            ),
            None,
        )
        cancel.extend((symbol, o.client_order_id or "") for o in ours if o is not keep)
        if keep is not None:
            continue
        trigger = desired_trigger(pos.mark_price, pos.liquidation_price, policy, market.price_tick)
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
                trigger_price=trigger,
            )
        )
    return StopPlan(tuple(place), tuple(cancel))
