"""Amend an open order in place, as Bybit's /v5/order/amend does: the order keeps its orderId and
orderLinkId; its quantity, trigger price (a conditional order not yet triggered) or limit price
change. Bybit refuses an order that is gone (110001), an amendment that changes nothing, and a
trigger on the wrong side of the current price (110092/110093), like a new order's.

The simulator amends linear orders only (spot amendments would move locked funds; the bot amends
its perp stop-losses only) and refuses the rest with a params error, never silently.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import TYPE_CHECKING

from bot.sim.errors import ORDER_NOT_FOUND, VenueError, params_error
from bot.sim.model import UNTRIGGERED, OrderRequest, SimOrder
from bot.sim.rules import check_prices, check_quantity

if TYPE_CHECKING:
    from bot.sim.venue import Venue

UNCHANGED = "The order remains unchanged as the parameters entered match the existing ones."


def amend_order(
    venue: Venue,
    category: str,
    symbol: str,
    *,
    order_id: str | None = None,
    link_id: str | None = None,
    qty: Decimal | None = None,
    trigger_price: Decimal | None = None,
    price: Decimal | None = None,
) -> SimOrder:
    if not order_id and not link_id:
        raise params_error("orderId or orderLinkId is required")
    order = venue.book.find(order_id, link_id)
    if order is None or order.category != category or order.symbol != symbol or not order.is_open:
        raise VenueError(ORDER_NOT_FOUND, "order not exists or too late to replace")
    if category != "linear":
        raise params_error("the simulator amends linear orders only")
    if trigger_price is not None and order.status != UNTRIGGERED:
        raise params_error("triggerPrice can be amended only on an untriggered conditional order")
    if price is not None and order.order_type != "Limit":
        raise params_error("price can be amended only on a limit order")
    new_qty = order.qty if qty is None else qty
    new_trigger = order.trigger_price if trigger_price is None else trigger_price
    new_price = order.price if price is None else price
    if (new_qty, new_trigger, new_price) == (order.qty, order.trigger_price, order.price):
        raise params_error(UNCHANGED)
    spec = venue.config.market(category, symbol)
    request = OrderRequest(
        category=order.category,
        symbol=order.symbol,
        side=order.side,
        order_type=order.order_type,
        qty=new_qty,
        price=new_price,
        reduce_only=order.reduce_only,
        trigger_price=new_trigger if order.status == UNTRIGGERED else None,
        trigger_direction=order.trigger_direction,
        trigger_by=order.trigger_by or "LastPrice",
    )
    check_quantity(request, spec)
    if new_qty <= order.cum_qty:
        raise params_error("qty must exceed the filled quantity")
    check_prices(request, spec, venue.market.trigger_price_of(spec, request.trigger_by))
    order.qty, order.trigger_price, order.price = new_qty, new_trigger, new_price
    order.updated = venue.now
    if order.order_type == "Limit" and order.status != UNTRIGGERED:
        venue._match_limits()  # a price moved through the market fills now, as a new one would
    return copy.copy(order)
