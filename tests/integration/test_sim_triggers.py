"""A protective stop for a short, end to end through ccxt: rests Untriggered, fires when the mark
rises through it, or is Deactivated when cancelled."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from tests.fixtures.sim.harness import PERP, SimClient, sim_client

STOP = {"triggerPrice": 66000, "triggerDirection": "above", "reduceOnly": True}


@pytest.fixture
async def sc() -> AsyncIterator[SimClient]:
    async with sim_client() as client:
        await client.ex.create_order(PERP, "market", "sell", 0.5, None, {"clientOrderId": "h-1"})
        yield client


async def test_stop_is_untriggered_then_fires_when_the_mark_rises(sc: SimClient) -> None:
    created = await sc.ex.create_order(
        PERP, "market", "buy", 0.5, None, {**STOP, "clientOrderId": "sl-1"}
    )
    raw = sc.sim.venue.order(link_id="sl-1")
    assert raw is not None and raw.status == "Untriggered" and raw.trigger_direction == 1
    (stop,) = await sc.ex.fetch_open_orders(PERP, params={"trigger": True})
    assert stop["id"] == created["id"] and stop["info"]["orderStatus"] == "Untriggered"
    assert stop["status"] == "open" and stop["triggerPrice"] == 66000

    sc.move(timedelta(minutes=1), mark=65900)
    assert len(await sc.ex.fetch_open_orders(PERP, params={"trigger": True})) == 1
    sc.move(timedelta(minutes=1), mark=66050)
    assert await sc.ex.fetch_open_orders(PERP, params={"trigger": True}) == []
    assert await sc.ex.fetch_positions() == []
    (closed,) = await sc.ex.fetch_closed_orders(PERP, params={"orderLinkId": "sl-1"})
    assert closed["info"]["orderStatus"] == "Filled" and closed["filled"] == 0.5
    trades = await sc.ex.fetch_my_trades(PERP)
    assert [t["side"] for t in trades] == ["sell", "buy"]


async def test_cancelled_stop_is_deactivated(sc: SimClient) -> None:
    created = await sc.ex.create_order(
        PERP, "market", "buy", 0.5, None, {**STOP, "clientOrderId": "sl-2"}
    )
    await sc.ex.cancel_order(created["id"], PERP)
    history = await sc.ex.private_get_v5_order_history(
        {"category": "linear", "symbol": "BTCUSDT", "orderLinkId": "sl-2"}
    )
    (row,) = history["result"]["list"]
    assert row["orderStatus"] == "Deactivated"
    parsed = sc.ex.parse_order(row)
    assert parsed["status"] == "canceled"
    sc.move(timedelta(minutes=1), mark=70000)
    (pos,) = await sc.ex.fetch_positions([PERP])
    assert pos["contracts"] == 0.5  # nothing fired


async def test_stop_loss_price_param_is_a_rising_trigger_for_a_buy(sc: SimClient) -> None:
    await sc.ex.create_order(
        PERP,
        "market",
        "buy",
        0.5,
        None,
        {"stopLossPrice": 64000, "reduceOnly": True, "clientOrderId": "sl-3"},
    )
    raw = sc.sim.venue.order(link_id="sl-3")
    assert raw is not None and raw.trigger_direction == 1 and raw.trigger_price == 64000
