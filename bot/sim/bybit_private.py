"""Signed Bybit v5 endpoints (account, positions, orders, executions) over the venue."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from bot.sim import bybit_wire as wire
from bot.sim.book import OrderQuery, offset_page, page
from bot.sim.bybit_params import Params
from bot.sim.bybit_public import category_of
from bot.sim.errors import params_error
from bot.sim.markets import CATEGORIES
from bot.sim.model import OrderRequest, SimOrder
from bot.sim.venue import Venue

WEEK = timedelta(days=7)
DAY = timedelta(days=1)
UNSUPPORTED_ORDER_PARAMS = ("takeProfit", "stopLoss", "tpslMode", "slOrderType", "tpOrderType")


def _category(p: Params, allowed: tuple[str, ...] = CATEGORIES) -> str:
    category = category_of(p)
    if category not in allowed:
        raise params_error(f"category {category!r} not supported")
    return category


def wallet_balance(venue: Venue, p: Params) -> dict[str, Any]:
    if p.get("accountType") != "UNIFIED":
        raise params_error("accountType only support UNIFIED")
    row = wire.wallet(venue.wallet())
    wanted = p.get("coin")
    if wanted:
        row["coin"] = [c for c in row["coin"] if c["coin"] in wanted.split(",")]
    return {"list": [row]}


def position_list(venue: Venue, p: Params) -> dict[str, Any]:
    category = _category(p, ("linear", "inverse"))
    if category == "inverse":  # no inverse markets here; Bybit lists none (ccxt.pro asks)
        return {"category": category, "list": [], "nextPageCursor": ""}
    symbol, settle, base = p.get("symbol"), p.get("settleCoin"), p.get("baseCoin")
    if symbol is None and settle is None and base is None:
        raise params_error("symbol, settleCoin or baseCoin is required")
    rows = [
        wire.position(r)
        for r in venue.positions(symbol)
        if settle in (None, r.spec.settle) and base in (None, r.spec.base)
    ]
    chunk, cursor = offset_page(rows, p.integer("limit", 20, 1, 200), p.get("cursor"))
    return {"category": category, "list": chunk, "nextPageCursor": cursor}


def set_leverage(venue: Venue, p: Params) -> dict[str, Any]:
    _category(p, ("linear",))
    buy = p.dec("buyLeverage")
    if buy is None:
        raise params_error("buyLeverage is required")
    venue.set_leverage(p.required("symbol"), buy, p.dec("sellLeverage"))
    return {}


def set_margin_mode(venue: Venue, p: Params) -> dict[str, Any]:
    venue.set_margin_mode(p.required("setMarginMode"))
    return {"reasons": []}


def order_create(venue: Venue, p: Params) -> dict[str, Any]:
    category = _category(p)
    for name in UNSUPPORTED_ORDER_PARAMS:
        if p.get(name) is not None:
            raise params_error(f"{name} is not supported by the simulator")
    if p.get("positionIdx") not in (None, "0"):
        raise params_error("positionIdx must be 0 in one-way mode")
    direction = p.get("triggerDirection")
    if direction not in (None, "1", "2"):
        raise params_error("triggerDirection must be 1 or 2")
    order_type = p.required("orderType")
    qty = p.dec("qty")
    if qty is None:
        raise params_error("qty is required")
    request = OrderRequest(
        category=category,  # type: ignore[arg-type]
        symbol=p.required("symbol"),
        side=p.required("side"),  # type: ignore[arg-type]
        order_type=order_type,  # type: ignore[arg-type]
        qty=qty,
        price=p.dec("price") if order_type == "Limit" else None,
        link_id=p.text("orderLinkId", "") or "",
        reduce_only=p.flag("reduceOnly"),
        time_in_force=p.get("timeInForce"),
        trigger_price=p.dec("triggerPrice"),
        trigger_direction=int(direction) if direction else None,
        trigger_by=p.text("triggerBy", "LastPrice") or "LastPrice",
        market_unit=p.get("marketUnit"),
        close_on_trigger=p.flag("closeOnTrigger"),
    )
    order = venue.place_order(request)
    return {"orderId": order.order_id, "orderLinkId": order.link_id}


def order_cancel(venue: Venue, p: Params) -> dict[str, Any]:
    category = _category(p)
    order = venue.cancel_order(
        category, p.required("symbol"), order_id=p.get("orderId"), link_id=p.get("orderLinkId")
    )
    return {"orderId": order.order_id, "orderLinkId": order.link_id}


def order_cancel_all(venue: Venue, p: Params) -> dict[str, Any]:
    category = _category(p)
    done = venue.cancel_all(category, p.get("symbol"))
    return {
        "list": [{"orderId": o.order_id, "orderLinkId": o.link_id} for o in done],
        "success": "1",
    }


def _order_query(p: Params, category: str) -> OrderQuery:
    statuses = p.get("orderStatus")
    return OrderQuery(
        category=category,
        symbol=p.get("symbol"),
        base=p.get("baseCoin"),
        settle=p.get("settleCoin"),
        order_id=p.get("orderId"),
        link_id=p.get("orderLinkId"),
        order_filter=p.get("orderFilter"),
        statuses=frozenset(statuses.split(",")) if statuses else None,
        start=p.time("startTime"),
        end=p.time("endTime"),
    )


def _orders_page(rows: list[SimOrder], p: Params, category: str) -> dict[str, Any]:
    chunk, cursor = page(rows, p.integer("limit", 20, 1, 50), p.get("cursor"), lambda o: o.seq)
    return {"category": category, "list": [wire.order(o) for o in chunk], "nextPageCursor": cursor}


def order_realtime(venue: Venue, p: Params) -> dict[str, Any]:
    category = _category(p)
    query = _order_query(p, category)
    if category == "linear" and not (query.symbol or query.base or query.settle):
        raise params_error("symbol, baseCoin or settleCoin is required")
    rows = venue.orders_realtime(query, p.integer("openOnly", 0, 0, 2))
    return _orders_page(rows, p, category)


def order_history(venue: Venue, p: Params) -> dict[str, Any]:
    """Bybit's rules (Get Order History): a window of at most 7 days, the last 7 by default;
    orders closed without any fill (Cancelled, Rejected, Deactivated) only for 24 hours; beyond
    7 days only orders that filled at least in part."""
    category = _category(p)
    start, end = _week(venue, p)
    query = dataclasses.replace(_order_query(p, category), start=start, end=end)
    day_ago, week_ago = venue.now - DAY, venue.now - WEEK
    rows = [
        o
        for o in venue.order_history(query)
        if (o.cum_qty or o.updated >= day_ago) and (o.cum_qty or o.created >= week_ago)
    ]
    return _orders_page(rows, p, category)


def _week(venue: Venue, p: Params) -> tuple[datetime, datetime]:
    """startTime/endTime as Bybit reads them on the 7-day endpoints."""
    start, end = p.time("startTime"), p.time("endTime")
    if start is None:
        end = end or venue.now
        return end - WEEK, end
    if end is None:
        return start, start + WEEK
    if end - start > WEEK:
        raise params_error("The time range between startTime and endTime cannot exceed 7 days")
    return start, end


def execution_list(venue: Venue, p: Params) -> dict[str, Any]:
    """Like Bybit: without times the last 7 days; one bound given, 7 days from/to it."""
    category = _category(p)
    start, end = _week(venue, p)
    rows = venue.executions(
        category,
        symbol=p.get("symbol"),
        exec_type=p.get("execType"),
        order_id=p.get("orderId"),
        start=start,
        end=end,
        base=p.get("baseCoin"),
    )
    link = p.get("orderLinkId")
    if link is not None:
        rows = [e for e in rows if e.link_id == link]
    chunk, cursor = page(rows, p.integer("limit", 50, 1, 100), p.get("cursor"), lambda e: e.seq)
    return {
        "category": category,
        "list": [wire.execution(e) for e in chunk],
        "nextPageCursor": cursor,
    }


def account_info(venue: Venue, p: Params) -> dict[str, Any]:
    return {
        "unifiedMarginStatus": 6,  # UTA 2.0
        "marginMode": venue.margin_mode,
        "isMasterTrader": False,
        "spotHedgingStatus": "OFF",
        "updatedTime": wire.ms(venue.now),
        "dcpStatus": "OFF",
        "timeWindow": 10,
        "smpGroup": 0,
    }


def coin_info(venue: Venue, p: Params) -> dict[str, Any]:
    coins = sorted({m.base for m in venue.config.markets} | {m.quote for m in venue.config.markets})
    return {
        "rows": [
            {
                "name": c,
                "coin": c,
                "remainAmount": "1000000",
                "chains": [
                    {
                        "chain": c,
                        "chainType": c,
                        "confirmation": "1",
                        "withdrawFee": "0",
                        "depositMin": "0",
                        "withdrawMin": "0",
                        "minAccuracy": "8",
                        "chainDeposit": "1",
                        "chainWithdraw": "1",
                        "withdrawPercentageFee": "0",
                    }
                ],
            }
            for c in coins
        ]
    }


GET_ROUTES = {
    "/v5/account/wallet-balance": wallet_balance,
    "/v5/position/list": position_list,
    "/v5/order/realtime": order_realtime,
    "/v5/order/history": order_history,
    "/v5/execution/list": execution_list,
    "/v5/account/info": account_info,
    "/v5/asset/coin/query-info": coin_info,
}
POST_ROUTES = {
    "/v5/position/set-leverage": set_leverage,
    "/v5/account/set-margin-mode": set_margin_mode,
    "/v5/order/create": order_create,
    "/v5/order/cancel": order_cancel,
    "/v5/order/cancel-all": order_cancel_all,
}
