"""Static checks of a new order against the market's filters and the position, raising Bybit's
codes. Balance and margin checks need the whole account and live in the venue."""

from __future__ import annotations

from decimal import Decimal

from bot.sim.errors import (
    DUPLICATE_LINK_ID,
    PERP_MIN_NOTIONAL,
    REDUCE_ONLY_RULE,
    SPOT_MIN_QTY,
    SPOT_MIN_VALUE,
    SPOT_QTY_DECIMALS,
    TRIGGER_EXPECT_FALLING,
    TRIGGER_EXPECT_RISING,
    VenueError,
    params_error,
)
from bot.sim.markets import MarketSpec
from bot.sim.model import TIME_IN_FORCE, TRIGGER_BY, OrderRequest

MAX_LINK_ID = 36


def is_multiple(value: Decimal, step: Decimal) -> bool:
    return (value % step) == 0


def check_identity(req: OrderRequest, known_link: bool) -> None:
    if req.side not in ("Buy", "Sell"):
        raise params_error(f"side {req.side!r} invalid")
    if req.order_type not in ("Market", "Limit"):
        raise params_error(f"orderType {req.order_type!r} invalid")
    if len(req.link_id) > MAX_LINK_ID:
        raise params_error(f"orderLinkId longer than {MAX_LINK_ID} characters")
    if req.link_id and known_link:
        raise VenueError(DUPLICATE_LINK_ID, "OrderLinkedID is duplicate")
    if req.time_in_force is not None and req.time_in_force not in TIME_IN_FORCE:
        raise params_error(f"timeInForce {req.time_in_force!r} invalid")
    if req.trigger_by not in TRIGGER_BY:
        raise params_error(f"triggerBy {req.trigger_by!r} invalid")


def check_quantity(req: OrderRequest, spec: MarketSpec) -> None:
    qty = req.qty
    if qty <= 0:
        raise params_error("qty must be positive")
    if spec.category == "spot":
        if not is_multiple(qty, spec.qty_step):
            raise VenueError(SPOT_QTY_DECIMALS, "Order quantity has too many decimals.")
        if qty < spec.min_qty:
            raise VenueError(SPOT_MIN_QTY, "Order quantity is lower than the minimum.")
        if qty > spec.max_qty:
            raise params_error("Order quantity exceeds the maximum.")
        return
    if not is_multiple(qty, spec.qty_step):
        raise params_error(f"Qty invalid: not a multiple of the step {spec.qty_step}")
    if qty < spec.min_qty:
        raise params_error("The number of contracts exceeds minimum limit allowed")
    if qty > spec.max_qty:
        raise params_error("The number of contracts exceeds maximum limit allowed")


def check_prices(req: OrderRequest, spec: MarketSpec, trigger_reference: Decimal) -> None:
    if req.order_type == "Limit":
        if req.price is None or req.price <= 0:
            raise params_error("price is required for a limit order")
        if not is_multiple(req.price, spec.tick):
            raise params_error(f"price not a multiple of the tick {spec.tick}")
    if req.trigger_price is None:
        return
    trigger = req.trigger_price
    if trigger <= 0 or not is_multiple(trigger, spec.tick):
        raise params_error(f"triggerPrice invalid (tick {spec.tick})")
    if req.trigger_direction == 1 and trigger <= trigger_reference:
        raise VenueError(
            TRIGGER_EXPECT_RISING,
            f"expect Rising, but trigger_price[{trigger}] <= current[{trigger_reference}]",
        )
    if req.trigger_direction == 2 and trigger >= trigger_reference:
        raise VenueError(
            TRIGGER_EXPECT_FALLING,
            f"expect Falling, but trigger_price[{trigger}] >= current[{trigger_reference}]",
        )


def check_reduce_only(req: OrderRequest, position_size: Decimal) -> None:
    """A reduce-only order must shrink the current position without flipping it."""
    if not req.reduce_only:
        return
    if not position_size:
        raise VenueError(REDUCE_ONLY_RULE, "Reduce-only rule not satisfied: position is zero")
    if (req.side == "Buy") == (position_size > 0):
        raise VenueError(REDUCE_ONLY_RULE, "Reduce-only rule not satisfied: would increase")
    if req.qty > abs(position_size):
        raise VenueError(REDUCE_ONLY_RULE, "Reduce-only rule not satisfied: would flip")


def check_min_notional(req: OrderRequest, spec: MarketSpec, price: Decimal) -> None:
    """Reduce-only orders are exempt, so a small position can always be closed."""
    if req.reduce_only or req.qty * price >= spec.min_notional:
        return
    if spec.category == "spot":
        raise VenueError(SPOT_MIN_VALUE, "Order value exceeded lower limit.")
    raise VenueError(
        PERP_MIN_NOTIONAL, f"Order does not meet minimum order value {spec.min_notional}USDT"
    )
