"""The simulator's batch and amend endpoints as Bybit answers them, through ccxt's unmodified bybit
class: create_orders (create-batch) with partial success, edit_order (amend) keeping the order's
ids, cancel_orders_for_symbols (cancel-batch), Bybit's retCodes, the batch size limit, and the
request windows counting every order of a batch."""

from __future__ import annotations

from collections.abc import AsyncIterator

import ccxt.async_support as ccxt
import pytest

from tests.fixtures.sim.harness import PERP, SimClient, sim_client

ETH = "ETH/USDT:USDT"


@pytest.fixture
async def sc() -> AsyncIterator[SimClient]:
    async with sim_client() as client:
        client.ex.enableLastJsonResponse = True  # to read the raw retExtInfo too
        yield client


def _order(symbol: str, cid: str, amount: float, **params: object) -> dict:
    return {
        "symbol": symbol,
        "type": "market",
        "side": "sell",
        "amount": amount,
        "params": {"clientOrderId": cid, **params},
    }


async def test_batch_create_answers_per_order_and_a_bad_order_stops_no_other(sc: SimClient) -> None:
    orders = [
        _order(PERP, "b-1", 0.1),
        _order(PERP, "b-2", 0.1, reduceOnly=True),  # no position to reduce: 110017
        _order(ETH, "b-3", 1.0),
    ]
    answer = await sc.ex.create_orders(orders)
    assert [o["clientOrderId"] for o in answer] == ["b-1", "b-2", "b-3"]
    assert answer[0]["id"] and answer[2]["id"]
    assert not answer[1]["id"] and answer[1]["info"]["code"] == 110017
    raw = sc.ex.last_json_response
    assert [c["code"] for c in raw["retExtInfo"]["list"]] == [0, 110017, 0]
    positions = {p["symbol"]: p["contracts"] for p in await sc.ex.fetch_positions()}
    assert positions == {PERP: 0.1, ETH: 1.0}
    assert sc.sim.front.requests[("POST", "/v5/order/create-batch")] == 1


async def test_batch_over_the_category_limit_is_refused_whole(sc: SimClient) -> None:
    orders = [_order(PERP, f"big-{i}", 0.001) for i in range(21)]
    with pytest.raises(ccxt.BadRequest, match="at most 20"):
        await sc.ex.create_orders(orders)
    assert await sc.ex.fetch_positions() == []


async def test_amend_moves_a_resting_stop_keeping_both_ids(sc: SimClient) -> None:
    await sc.ex.create_order(PERP, "market", "sell", 0.5, None, {"clientOrderId": "h-1"})
    stop = await sc.ex.create_order(
        PERP,
        "market",
        "buy",
        0.5,
        None,
        {
            "clientOrderId": "s-1",
            "triggerPrice": 66000,
            "triggerDirection": "above",
            "reduceOnly": True,
            "triggerBy": "MarkPrice",
        },
    )
    edited = await sc.ex.edit_order(
        stop["id"],
        PERP,
        "market",
        "buy",
        0.4,
        None,
        {"clientOrderId": "s-1", "triggerPrice": 65000, "triggerBy": "MarkPrice"},
    )
    assert (edited["id"], edited["clientOrderId"]) == (stop["id"], "s-1")
    (resting,) = await sc.ex.fetch_open_orders(PERP)
    assert resting["id"] == stop["id"] and resting["clientOrderId"] == "s-1"
    assert (resting["amount"], resting["triggerPrice"]) == (0.4, 65000)
    # a trigger below the mark for a stop that fires on a rise is refused like a new one
    with pytest.raises(ccxt.ExchangeError, match="expect Rising"):
        await sc.ex.edit_order(stop["id"], PERP, "market", "buy", None, None, {"triggerPrice": 1})
    with pytest.raises(ccxt.ExchangeError, match="remains unchanged"):
        await sc.ex.edit_order(stop["id"], PERP, "market", "buy", 0.4, None)


async def test_amend_of_a_gone_order_is_110001(sc: SimClient) -> None:
    with pytest.raises(ccxt.OrderNotFound):
        await sc.ex.edit_order(
            None, PERP, "market", "buy", 0.1, None, {"clientOrderId": "never-sent"}
        )


async def test_batch_cancel_answers_per_order(sc: SimClient) -> None:
    await sc.ex.create_order(PERP, "market", "sell", 0.5, None, {"clientOrderId": "h-1"})
    for cid, trigger in (("s-1", 66000), ("s-2", 67000)):
        await sc.ex.create_order(
            PERP,
            "market",
            "buy",
            0.5,
            None,
            {"clientOrderId": cid, "triggerPrice": trigger, "triggerDirection": "above"},
        )
    answer = await sc.ex.cancel_orders_for_symbols(
        [
            {"symbol": PERP, "clientOrderId": "s-1"},
            {"symbol": PERP, "clientOrderId": "gone"},
            {"symbol": PERP, "clientOrderId": "s-2"},
        ]
    )
    assert [bool(o["id"]) for o in answer] == [True, False, True]
    codes = [c["code"] for c in sc.ex.last_json_response["retExtInfo"]["list"]]
    assert codes == [0, 110001, 0]
    assert await sc.ex.fetch_open_orders(PERP) == []


async def test_a_batch_draws_one_unit_per_order_from_the_window() -> None:
    async with sim_client(rate_limits=True) as sc:
        await sc.ex.create_orders([_order(PERP, f"w-{i}", 0.001) for i in range(8)])
        limit = sc.ex.last_response_headers
        assert (limit["X-Bapi-Limit"], limit["X-Bapi-Limit-Status"]) == ("10", "2")
        with pytest.raises(ccxt.RateLimitExceeded):  # 3 more orders do not fit the 10 a second
            await sc.ex.create_orders([_order(PERP, f"x-{i}", 0.001) for i in range(3)])
        assert sc.sim.front.limits is not None
        assert sc.sim.front.limits.refused == {"v5/order/create:linear": 1}
