"""Each fault kind of the simulator, seen through the unmodified ccxt client."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import ccxt.async_support as ccxt
import pytest

from bot.sim.faults import Faults, parse_rule
from tests.fixtures.sim.harness import PERP, SimClient, sim_client


@pytest.fixture
async def sc() -> AsyncIterator[SimClient]:
    async with sim_client(timeout_ms=500) as client:
        await client.ex.load_markets()
        yield client


async def test_latency_delays_the_answer(sc: SimClient) -> None:
    sc.sim.faults.add("position/list", "latency", param=200)
    began = time.monotonic()
    await sc.ex.fetch_positions([PERP])
    assert time.monotonic() - began >= 0.2
    began = time.monotonic()
    await sc.ex.fetch_positions([PERP])
    assert time.monotonic() - began < 0.2


async def test_http_503_is_exchange_not_available(sc: SimClient) -> None:
    sc.sim.faults.add("position/list", "http503")
    with pytest.raises(ccxt.ExchangeNotAvailable):
        await sc.ex.fetch_positions([PERP])
    await sc.ex.fetch_positions([PERP])


async def test_http_429_is_rate_limit_exceeded(sc: SimClient) -> None:
    sc.sim.faults.add("*", "http429", times=2)
    for _ in range(2):
        with pytest.raises(ccxt.RateLimitExceeded):
            await sc.ex.fetch_balance()
    await sc.ex.fetch_balance()


async def test_timeout_is_a_request_timeout(sc: SimClient) -> None:
    sc.sim.faults.add("account/wallet-balance", "timeout")
    with pytest.raises(ccxt.RequestTimeout):
        await sc.ex.fetch_balance()
    await sc.ex.fetch_balance()


async def test_reset_is_a_network_error(sc: SimClient) -> None:
    # aiohttp's client silently retries an idempotent request once on a dropped connection
    sc.sim.faults.add("order/realtime", "reset", times=2)
    with pytest.raises(ccxt.NetworkError):
        await sc.ex.fetch_open_orders(PERP)
    assert await sc.ex.fetch_open_orders(PERP) == []


async def test_drop_after_accept_creates_the_order_but_the_client_sees_a_failure(
    sc: SimClient,
) -> None:
    sc.sim.faults.load("order/create:drop_after_accept:1")
    with pytest.raises(ccxt.NetworkError):
        await sc.ex.create_order(PERP, "market", "sell", 0.1, None, {"clientOrderId": "lost-ack"})
    # the venue did take it: looking it up by client id resolves the ambiguity
    (found,) = await sc.ex.fetch_closed_orders(PERP, params={"orderLinkId": "lost-ack"})
    assert found["status"] == "closed" and found["filled"] == 0.1
    with pytest.raises(ccxt.InvalidOrder, match="110072"):  # a blind retry is refused
        await sc.ex.create_order(PERP, "market", "sell", 0.1, None, {"clientOrderId": "lost-ack"})


async def test_partial_fill_of_the_next_market_order(sc: SimClient) -> None:
    sc.sim.faults.add("order/create", "partial", param=0.4)
    await sc.ex.create_order(PERP, "market", "sell", 1, None, {"clientOrderId": "part"})
    # fetch_closed_orders asks for orderStatus=Filled only, so look it up by client id
    order = await sc.ex.fetch_order(None, PERP, {"orderLinkId": "part", "acknowledged": True})
    assert order["info"]["orderStatus"] == "PartiallyFilledCanceled"
    assert order["filled"] == 0.4 and order["amount"] == 1.0
    (pos,) = await sc.ex.fetch_positions([PERP])
    assert pos["contracts"] == 0.4


async def test_forced_rejection_with_a_given_code(sc: SimClient) -> None:
    sc.sim.faults.load("order/create@POST:reject=110007")
    with pytest.raises(ccxt.InsufficientFunds, match="110007"):
        await sc.ex.create_order(PERP, "market", "sell", 0.1, None, {"clientOrderId": "r"})
    assert sc.sim.venue.order(link_id="r") is None
    await sc.ex.create_order(PERP, "market", "sell", 0.1, None, {"clientOrderId": "r"})


async def test_rates_are_seeded_and_reproducible() -> None:
    def outcomes(seed: int) -> list[bool]:
        faults = Faults(seed=seed)
        faults.load("position/list:http503:0.5")
        return [faults.pick("GET", "/v5/position/list") is not None for _ in range(40)]

    first = outcomes(3)
    assert first == outcomes(3) and first != outcomes(4)
    assert 8 < sum(first) < 32


def test_spec_grammar() -> None:
    rule = parse_rule("order/create@POST:latency=1500:0.25")
    assert (rule.endpoint, rule.method, rule.kind, rule.param, rule.rate) == (
        "order/create",
        "POST",
        "latency",
        1500,
        0.25,
    )
    assert parse_rule("/v5/position/list:http502:3").status == 502
    assert parse_rule("*:reset:always").times is None
    faults = Faults()
    faults.load("execution/list:partial=0.5;order/create:timeout=2:2")
    assert [r.kind for r in faults.rules] == ["partial", "timeout"] and faults.rules[1].times == 2
    assert faults.pick("POST", "/v5/order/cancel") is None
    for bad in ("order/create", "order/create:explode", "x:http200", "x:latency", "x:partial=2"):
        with pytest.raises(ValueError):
            parse_rule(bad)
