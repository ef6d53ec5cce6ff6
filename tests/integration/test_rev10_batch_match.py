"""rev10: a batch's answers are matched to its orders by client order id, not by position.

ccxt's bybit ``create_orders`` hands its rows through ``parse_orders``, which sorts them by
timestamp. Today the batch rows carry none (ccxt reads ``createdAt`` where Bybit sends
``createAt``), so the request order survives by accident; a ccxt that reads ``createAt`` puts
every refused row (``createAt: ""``) first. Matched by position, a resting order would then be
recorded as refused (and planned again: a second hedge) and a refusal as another's ack."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from bot.domain import IntentStatus, OrderAck, OrderIntent, Side
from bot.errors import OrderRejected
from bot.sim.server import start_simulator
from tests.integration.http_rig import ccxt_port
from tests.integration.test_batch_orders import _sell, _shorts, _venue


def _client(port: Any) -> Any:
    client = getattr(port, "_client", None)
    if client is None:  # a port split by market kind: the perp side's
        client = port._perp._client
    return client


def _reads_create_at(client: Any) -> None:
    """As a ccxt reading Bybit's batch ``createAt`` would parse the rows."""
    parse = client.parse_order

    def parse_order(order: dict, market: Any = None) -> dict:
        parsed = parse(order, market)
        stamp = str(order.get("createAt") or "")
        if stamp.isdigit():
            parsed["timestamp"] = int(stamp)
        return parsed

    client.parse_order = parse_order


async def test_a_refusal_sorted_first_is_matched_to_its_own_order() -> None:
    venue = _venue()
    sim = await start_simulator(venue=venue)
    port = ccxt_port(sim.url)
    intents = [
        _sell(0, "C00"),
        OrderIntent("t-1", "c01", 1, "C01/USDT:USDT", Side.BUY, D(5), reduce_only=True),
        _sell(2, "C02"),
    ]
    try:
        await port.load_markets()
        _reads_create_at(_client(port))
        outcomes = await port.create_orders(intents)
        assert isinstance(outcomes[1], OrderRejected), outcomes
        acks = [o for o in outcomes if isinstance(o, OrderAck)]
        assert [a.client_order_id for a in acks] == ["t-0", "t-2"], outcomes
        assert {a.status for a in acks} == {IntentStatus.OPEN}
        by_link = {o.link_id: o.order_id for o in venue.book.orders.values()}
        assert [a.venue_order_id for a in acks] == [by_link["t-0"], by_link["t-2"]]
        assert _shorts(venue) == {"C00USDT": D(-10), "C02USDT": D(-10)}
    finally:
        await port.close()
        await sim.stop()
