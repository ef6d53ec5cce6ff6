"""Scenario control routes of the simulator (``/sim/...``), signed like Bybit's private v5 routes
so any Bybit client can drive them, answering in the same envelope:

- ``POST /sim/advance`` ``{"seconds": S}``: move the clock (bars, triggers, funding on the way)
- ``POST /sim/price`` ``{"coin": "BTC", "price": "42000", "basis": "0.001"}``: set a coin's prices
- ``POST /sim/wallet`` ``{"coin": "BTC", "amount": "1.5"}``: set a wallet balance
- ``GET /sim/state``: wallet, positions, open orders (with triggers), execution count, prices

Amounts travel as strings (Decimal text), never floats.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from bot.sim.bybit_params import Params
from bot.sim.bybit_wire import ms, num
from bot.sim.errors import params_error
from bot.sim.feed_base import FeedRangeError
from bot.sim.venue import Venue

MAX_ADVANCE = timedelta(days=366)


def advance(venue: Venue, p: Params) -> dict[str, Any]:
    seconds = p.dec("seconds")
    if seconds is None or seconds < 0:
        raise params_error("seconds is required and must not be negative")
    delta = timedelta(seconds=float(seconds))
    if delta > MAX_ADVANCE:
        raise params_error(f"advance at most {MAX_ADVANCE.days} days at a time")
    try:
        venue.advance_to(venue.now + delta)
    except FeedRangeError as exc:
        raise params_error(f"the feed has no prices there: {exc}") from None
    return {"time": ms(venue.now), "iso": venue.now.isoformat()}


def price(venue: Venue, p: Params) -> dict[str, Any]:
    coin = p.required("coin")
    value = p.dec("price")
    if value is None:
        raise params_error("price is required")
    venue.set_price(coin, value, p.dec("basis"))
    return prices(venue)[coin]


def wallet(venue: Venue, p: Params) -> dict[str, Any]:
    coin = p.required("coin")
    amount = p.dec("amount")
    if amount is None:
        raise params_error("amount is required")
    venue.set_wallet(coin, amount)
    return {"coin": coin, "walletBalance": num(venue.account.wallet.get(coin, Decimal(0)))}


def prices(venue: Venue) -> dict[str, dict[str, str]]:
    out = {}
    for base in venue.feed.bases:
        perp = venue.config.perp_of(base)
        point = venue.market.point(base)
        row = {"spot": num(point.spot), "index": num(point.index), "perp": num(point.perp)}
        row["mark"] = num(venue.market.mark(perp) if perp is not None else point.mark)
        out[base] = row
    return out


def state(venue: Venue, p: Params) -> dict[str, Any]:
    orders = venue.book.open_orders()
    return {
        "time": ms(venue.now),
        "iso": venue.now.isoformat(),
        "wallet": {c: num(v) for c, v in sorted(venue.account.wallet.items())},
        "equity": num(venue.account.equity()),
        "positions": [
            {
                "symbol": r.spec.symbol,
                "size": num(r.size),
                "entryPrice": num(r.entry),
                "markPrice": num(r.mark),
                "liqPrice": num(r.liquidation_price),
                "unrealisedPnl": num(r.unrealised),
            }
            for r in venue.positions()
        ],
        "openOrders": [
            {
                "orderId": o.order_id,
                "orderLinkId": o.link_id,
                "category": o.category,
                "symbol": o.symbol,
                "side": o.side,
                "orderType": o.order_type,
                "qty": num(o.qty),
                "price": num(o.price),
                "status": o.status,
                "reduceOnly": o.reduce_only,
                "triggerPrice": num(o.trigger_price),
                "triggerBy": o.trigger_by,
                "triggerDirection": o.trigger_direction or 0,
            }
            for o in orders
        ],
        "executions": len(venue.book.executions),
        "liquidations": len(venue.liquidations),
        "prices": prices(venue),
    }


GET_ROUTES = {"/sim/state": state}
POST_ROUTES = {"/sim/advance": advance, "/sim/price": price, "/sim/wallet": wallet}
