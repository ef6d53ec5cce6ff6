"""Port parity for orders in batches: create_orders, amend_stop and cancel_orders give the same
domain answers through InProcessExchange and through the ccxt adapter over the Bybit HTTP
simulator (where they are create-batch, amend and cancel-batch requests)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D
from typing import Any

from bot.domain import (
    IntentPurpose,
    IntentStatus,
    OpenOrder,
    OrderAck,
    OrderIntent,
    OrderKind,
    Side,
)
from bot.exchange.port import ExchangePort
from bot.sim.venue import Venue
from tests.fixtures.sim.harness import PERP, SPOT
from tests.integration.test_conformance_ports import (
    ETH,
    answer,
    assert_alike,
    call,
    flat_feed,
    on_both,
)


def _same(result: Any) -> Any:
    """Venue order ids depend on arrival order, which differs when the HTTP port sends a spot
    and a linear batch at once: compared by client id instead."""
    result = answer(result)
    if isinstance(result, OrderAck):
        return (result.client_order_id, result.status, result.reason)
    if isinstance(result, OpenOrder):
        return replace(result, venue_order_id="")
    return result


def _stop(cid: str, qty: str, trigger: int) -> OrderIntent:
    return OrderIntent(
        cid, "btc", 1, PERP, Side.BUY, D(qty), kind=OrderKind.STOP_MARKET,
        reduce_only=True, purpose=IntentPurpose.STOP, trigger_price=D(trigger),
    )  # fmt: skip


async def batches(port: ExchangePort, venue: Venue) -> dict[str, Any]:
    out: dict[str, Any] = {}
    hedge = OrderIntent("h-1", "btc", 1, PERP, Side.SELL, D("0.5"))
    created = await port.create_orders(
        [
            hedge,
            OrderIntent("e-1", "eth", 1, ETH, Side.SELL, D("2.5")),
            # would flip the short just opened: refused alone, the others go through
            OrderIntent("x-1", "btc", 1, PERP, Side.BUY, D("1"), reduce_only=True),
            OrderIntent("s-1", "btc", 1, SPOT, Side.BUY, D("0.1")),
            _stop("sl-1", "0.5", 69000),
            hedge,  # the same order again: found by its id, acknowledged as itself
            OrderIntent(
                "l-1", "eth", 1, ETH, Side.SELL, D("1"), kind=OrderKind.LIMIT, price=D(3500)
            ),
        ]
    )
    out["created"] = [_same(c) for c in created]
    acks = [c for c in created if isinstance(c, OrderAck)]
    out["same again"] = acks[4].venue_order_id == acks[0].venue_order_id
    out["lone"] = [_same(c) for c in await port.create_orders([_stop("sl-2", "0.1", 70000)])]
    amended = await port.amend_stop(PERP, "sl-1", D("0.4"), D(68000))
    out["amended"] = _same(amended)
    out["amend kept the id"] = amended.venue_order_id == acks[3].venue_order_id
    out["amend gone"] = await call(port.amend_stop(PERP, "never", D("0.4"), D(68000)))
    out["amend below mark"] = await call(port.amend_stop(PERP, "sl-1", D("0.4"), D(100)))
    several = [(PERP, "sl-2", D("0.2"), D(71000)), (PERP, "never", D(1), D(71000))]
    out["amended several"] = [_same(a) for a in await port.amend_stops(several)]
    resting = await port.fetch_open_orders(None)
    out["open"] = sorted((_same(o) for o in resting), key=lambda o: str(o.client_order_id))
    cancelled = await port.cancel_orders([(PERP, "sl-1"), (PERP, "never"), (ETH, "l-1")])
    out["cancelled"] = [_same(c) for c in cancelled]
    out["cancel one"] = [_same(c) for c in await port.cancel_orders([(PERP, "sl-2")])]
    out["left"] = await port.fetch_open_orders(None)
    out["positions"] = await port.fetch_positions()
    return out


async def test_batches_amend_and_batch_cancel_agree() -> None:
    direct, remote = await on_both(batches, flat_feed)
    created = direct["created"]
    assert [c[1] for c in created if len(c) == 3] == [IntentStatus.OPEN] * 6, created
    assert created[2] == ("OrderRejected", "110017")
    assert direct["same again"] and direct["amend kept the id"]
    assert direct["amend gone"] == ("OrderNotFound", "110001")
    assert direct["amend below mark"] == ("OrderRejected", "110092")
    assert direct["amended several"] == [
        ("sl-2", IntentStatus.OPEN, None),
        ("OrderNotFound", "110001"),
    ]
    (moved,) = [o for o in direct["open"] if o.client_order_id == "sl-1"]
    assert direct["cancel one"] == [True]
    assert (moved.qty, moved.trigger_price) == (D("0.4"), D(68000))
    assert direct["cancelled"] == [True, False, True] and direct["left"] == []
    assert_alike(direct, remote)
