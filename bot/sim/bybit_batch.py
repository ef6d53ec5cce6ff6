"""Bybit v5 batch and amend endpoints: create-batch, amend, amend-batch and cancel-batch.

As Bybit answers them (docs v5/order/batch-place, batch-amend, batch-cancel, amend-order): one
category per request and at most 20 orders (linear, inverse, option) or 10 (spot); each order is
handled on its own, so one bad order does not stop the others. ``result.list`` holds one row per
order in request order (a failed one with an empty orderId) and ``retExtInfo.list`` its code and
message in the same order. A malformed request as a whole (no category, no list, too many orders)
is refused with 10001. The request windows count every order of a batch (``ratelimit``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.sim import bybit_private
from bot.sim.amend import amend_order
from bot.sim.bybit_params import Params
from bot.sim.bybit_private import UNSUPPORTED_ORDER_PARAMS
from bot.sim.errors import VenueError, params_error
from bot.sim.markets import CATEGORIES
from bot.sim.venue import Venue

BATCH_LIMITS = {"linear": 20, "inverse": 20, "option": 20, "spot": 10}


@dataclass
class BatchAnswer:
    """A batch endpoint's ``result`` with the per-order ``retExtInfo``."""

    result: dict[str, Any]
    ext: dict[str, Any] = field(default_factory=dict)


def _orders(p: Params) -> tuple[str, list[dict[str, Any]]]:
    category = p.required("category")
    if category not in CATEGORIES:
        raise params_error(f"category {category!r} not supported")
    orders = p.raw("request")
    if not isinstance(orders, list) or not orders:
        raise params_error("request must be a non-empty list of orders")
    if len(orders) > BATCH_LIMITS[category]:
        raise params_error(f"at most {BATCH_LIMITS[category]} orders per batch for {category}")
    if not all(isinstance(o, dict) for o in orders):
        raise params_error("every order of the request must be an object")
    return category, orders


def _each(
    p: Params, handle: Callable[[Params], dict[str, Any]], failed: Callable[[dict], dict]
) -> BatchAnswer:
    category, orders = _orders(p)
    rows, codes = [], []
    for order in orders:
        item = Params({**order, "category": category})
        try:
            row = handle(item)
            code, message = 0, "OK"
        except VenueError as exc:
            row, code, message = failed(order), exc.ret_code, exc.message
        rows.append({"category": category, "symbol": str(order.get("symbol") or ""), **row})
        codes.append({"code": code, "msg": message})
    return BatchAnswer({"list": rows}, {"list": codes})


def _link(order: dict[str, Any]) -> str:
    return str(order.get("orderLinkId") or "")


def order_create_batch(venue: Venue, p: Params) -> BatchAnswer:
    def create(item: Params) -> dict[str, Any]:
        done = bybit_private.order_create(venue, item)
        return {**done, "createAt": str(int(venue.now.timestamp() * 1000))}

    return _each(p, create, lambda o: {"orderId": "", "orderLinkId": _link(o), "createAt": ""})


def _amend(venue: Venue, p: Params) -> dict[str, Any]:
    category = p.required("category")
    for name in UNSUPPORTED_ORDER_PARAMS:
        if p.get(name) is not None:
            raise params_error(f"{name} is not supported by the simulator")
    order = amend_order(
        venue,
        category,
        p.required("symbol"),
        order_id=p.get("orderId"),
        link_id=p.get("orderLinkId"),
        qty=p.dec("qty"),
        trigger_price=p.dec("triggerPrice"),
        price=p.dec("price"),
    )
    return {"orderId": order.order_id, "orderLinkId": order.link_id}


def order_amend(venue: Venue, p: Params) -> dict[str, Any]:
    return _amend(venue, p)


def order_amend_batch(venue: Venue, p: Params) -> BatchAnswer:
    def failed(o: dict[str, Any]) -> dict[str, Any]:
        return {"orderId": str(o.get("orderId") or ""), "orderLinkId": _link(o)}

    return _each(p, lambda item: _amend(venue, item), failed)


def order_cancel_batch(venue: Venue, p: Params) -> BatchAnswer:
    # like Bybit's example answer: a failed cancel echoes the link id with an empty orderId
    return _each(
        p,
        lambda item: bybit_private.order_cancel(venue, item),
        lambda o: {"orderId": "", "orderLinkId": _link(o)},
    )


POST_ROUTES = {
    "/v5/order/create-batch": order_create_batch,
    "/v5/order/amend": order_amend,
    "/v5/order/amend-batch": order_amend_batch,
    "/v5/order/cancel-batch": order_cancel_batch,
}
