"""Authentication and venue rejections reach ccxt as Bybit's codes and map to ccxt's classes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import ccxt.async_support as ccxt
import pytest

from tests.fixtures.sim.harness import PERP, SPOT, SimClient, bybit_client, sim_client


@pytest.fixture
async def sc() -> AsyncIterator[SimClient]:
    async with sim_client() as client:
        await client.ex.load_markets()
        yield client


async def test_bad_signature_is_an_authentication_error(sc: SimClient) -> None:
    wrong = bybit_client(sc.sim.url, secret="not-the-secret")
    try:
        with pytest.raises(ccxt.AuthenticationError, match="10004") as exc:
            await wrong.fetch_balance()
        assert "not-the-secret" not in str(exc.value)
    finally:
        await wrong.close()


async def test_unknown_key_is_an_authentication_error(sc: SimClient) -> None:
    wrong = bybit_client(sc.sim.url, api_key="someone-else")
    try:
        with pytest.raises(ccxt.AuthenticationError, match="10003"):
            await wrong.fetch_positions()
    finally:
        await wrong.close()


async def test_stale_timestamp_is_an_invalid_nonce(sc: SimClient) -> None:
    sc.ex.options["timeDifference"] = 60_000  # signs 60 s in the past, outside the 5 s window
    with pytest.raises(ccxt.InvalidNonce, match="10002"):
        await sc.ex.fetch_balance()
    sc.ex.options["timeDifference"] = 0
    await sc.ex.fetch_balance()


async def test_market_time_is_the_wall_clock_and_sync_works(sc: SimClient) -> None:
    server = await sc.ex.fetch_time()
    assert abs(server - sc.ex.milliseconds()) < 5_000
    await sc.ex.load_time_difference()
    await sc.ex.fetch_balance()


async def test_duplicate_client_id_is_an_invalid_order(sc: SimClient) -> None:
    await sc.ex.create_order(PERP, "market", "sell", 0.1, None, {"clientOrderId": "dup"})
    with pytest.raises(ccxt.InvalidOrder, match="110072"):
        await sc.ex.create_order(PERP, "market", "sell", 0.1, None, {"clientOrderId": "dup"})
    (pos,) = await sc.ex.fetch_positions([PERP])
    assert pos["contracts"] == 0.1


async def test_reduce_only_violation_is_an_invalid_order(sc: SimClient) -> None:
    with pytest.raises(ccxt.InvalidOrder, match="110017"):
        await sc.ex.create_order(
            PERP, "market", "buy", 0.1, None, {"clientOrderId": "r", "reduceOnly": True}
        )


async def test_insufficient_funds(sc: SimClient) -> None:
    with pytest.raises(ccxt.InsufficientFunds, match="110007"):
        await sc.ex.create_order(PERP, "market", "sell", 80, None, {"clientOrderId": "big"})
    with pytest.raises(ccxt.InsufficientFunds, match="170131"):
        await sc.ex.create_order(SPOT, "market", "sell", 3, None, {"clientOrderId": "big-spot"})


async def test_filters_and_unknown_orders(sc: SimClient) -> None:
    with pytest.raises(ccxt.InvalidOrder, match="110094"):
        await sc.ex.create_order(PERP, "limit", "buy", 0.001, 1000, {"clientOrderId": "tiny"})
    with pytest.raises(ccxt.BadRequest, match="10001"):
        await sc.ex.create_order(PERP, "market", "sell", 0.1, None, {"clientOrderId": "x" * 40})
    with pytest.raises(ccxt.OrderNotFound, match="110001"):
        await sc.ex.cancel_order(None, PERP, {"orderLinkId": "never-sent"})


async def test_rate_limit_answer_is_rate_limit_exceeded(sc: SimClient) -> None:
    sc.sim.faults.add("position/list", "ratelimit", times=1)
    with pytest.raises(ccxt.RateLimitExceeded, match="10006"):
        await sc.ex.fetch_positions([PERP])
    await sc.ex.fetch_positions([PERP])  # one-shot


async def test_non_unified_account_types_are_refused(sc: SimClient) -> None:
    with pytest.raises(ccxt.BadRequest, match="10001"):
        await sc.ex.privateGetV5AccountWalletBalance({"accountType": "CONTRACT"})


async def test_unsupported_categories_list_nothing(sc: SimClient) -> None:
    answer = await sc.ex.publicGetV5MarketInstrumentsInfo({"category": "option"})
    assert answer["result"]["list"] == []
    pre = await sc.ex.publicGetV5MarketInstrumentsInfo(
        {"category": "linear", "status": "PreLaunch"}
    )
    assert pre["result"]["list"] == []
    page = await sc.ex.publicGetV5MarketInstrumentsInfo({"category": "linear", "limit": 1})
    assert len(page["result"]["list"]) == 1 and page["result"]["nextPageCursor"]
