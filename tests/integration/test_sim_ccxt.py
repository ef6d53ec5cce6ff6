"""The unmodified ccxt bybit client against the simulator: the calls the bot makes succeed and
parse into what a hedging bot reads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import ccxt.async_support as ccxt
import pytest

from bot.sim.bars import to_ms
from tests.fixtures.sim.harness import PERP, SPOT, T0, SimClient, sim_client


@pytest.fixture
async def sc() -> AsyncIterator[SimClient]:
    async with sim_client() as client:
        yield client


async def test_load_markets_gives_spot_and_linear_with_filters(sc: SimClient) -> None:
    markets = await sc.ex.load_markets()
    assert set(markets) == {"BTC/USDT", "ETH/USDT", "BTC/USDT:USDT", "ETH/USDT:USDT"}
    perp = markets[PERP]
    assert (
        perp["linear"] and perp["swap"] and perp["settle"] == "USDT" and perp["contractSize"] == 1
    )
    assert (perp["precision"]["amount"], perp["precision"]["price"]) == (0.001, 0.1)
    assert perp["limits"]["cost"]["min"] == 5 and perp["limits"]["leverage"]["max"] == 100
    spot = markets[SPOT]
    assert spot["spot"] and spot["precision"]["amount"] == 0.000001


async def test_balance_and_positions_follow_a_hedge(sc: SimClient) -> None:
    balance = await sc.ex.fetch_balance()
    assert balance["USDT"]["total"] == 100000 and balance["BTC"]["total"] == 2
    assert await sc.ex.fetch_positions() == []
    order = await sc.ex.create_order(PERP, "market", "sell", 0.5, None, {"clientOrderId": "h-1"})
    assert order["id"] and order["clientOrderId"] == "h-1"
    (pos,) = await sc.ex.fetch_positions([PERP])
    assert pos["side"] == "short" and pos["contracts"] == 0.5 and pos["entryPrice"] == 59988.0
    assert pos["markPrice"] == 60000 and pos["leverage"] == 10 and pos["initialMargin"] == 3000
    (same,) = await sc.ex.fetch_positions()
    assert same["symbol"] == PERP
    balance = await sc.ex.fetch_balance()
    assert balance["USDT"]["used"] == 3000
    assert balance["USDT"]["total"] == pytest.approx(100000 - 0.5 * 59988 * 0.00055)


async def test_tickers_and_funding(sc: SimClient) -> None:
    tickers = await sc.ex.fetch_tickers([PERP])
    t = tickers[PERP]
    assert t["bid"] < 60000 < t["ask"] and t["markPrice"] == 60000 and t["indexPrice"] == 60000
    spot = await sc.ex.fetch_ticker(SPOT)
    assert spot["last"] == 60000
    rate = await sc.ex.fetch_funding_rate(PERP)
    assert rate["fundingRate"] == 0.0001 and rate["interval"] == "8h"
    assert rate["fundingTimestamp"] == to_ms(T0 + timedelta(hours=1))
    rates = await sc.ex.fetch_funding_rates([PERP])
    assert rates[PERP]["fundingRate"] == 0.0001
    history = await sc.ex.fetch_funding_rate_history(PERP, None, 3)
    assert [h["timestamp"] for h in history] == [
        to_ms(T0 - timedelta(hours=h)) for h in (23, 15, 7)
    ]
    since = to_ms(T0 - timedelta(hours=47))
    # ccxt asks for [since, since + 2 x 8h] (3 settlements); like Bybit, the newest 2 come back
    from_since = await sc.ex.fetch_funding_rate_history(PERP, since, 2)
    assert [h["timestamp"] for h in from_since] == [
        to_ms(T0 - timedelta(hours=h)) for h in (39, 31)
    ]


async def test_ohlcv_newest_last_and_bounded_by_now(sc: SimClient) -> None:
    sc.move(timedelta(minutes=30), price=61000)
    bars = await sc.ex.fetch_ohlcv(PERP, "1h", None, 3)
    assert [b[0] for b in bars] == [to_ms(T0 + timedelta(hours=h)) for h in (-2, -1, 0)]
    assert bars[-1][4] == 61000 and bars[-1][2] == 61000 and bars[-1][1] == 60000
    since = to_ms(T0 - timedelta(hours=10))
    later = await sc.ex.fetch_ohlcv(PERP, "1h", since, 2)
    assert [b[0] for b in later] == [since, since + 3_600_000]
    minutes = await sc.ex.fetch_ohlcv(SPOT, "1m", None, 5)
    assert len(minutes) == 5 and minutes[-1][4] == 61000


async def test_set_leverage_and_not_modified(sc: SimClient) -> None:
    await sc.ex.set_leverage(5, PERP)
    with pytest.raises(ccxt.BadRequest, match="110043"):
        await sc.ex.set_leverage(5, PERP)
    await sc.ex.set_margin_mode("cross", PERP)
    assert sc.sim.venue.margin_mode == "REGULAR_MARGIN"


async def test_orders_lifecycle(sc: SimClient) -> None:
    await sc.ex.create_order(PERP, "market", "sell", 0.2, None, {"clientOrderId": "h-1"})
    await sc.ex.create_order(PERP, "limit", "sell", 0.1, 65000, {"clientOrderId": "l-1"})
    await sc.ex.create_order(
        PERP,
        "market",
        "buy",
        0.2,
        None,
        {"stopLossPrice": 69000, "reduceOnly": True, "clientOrderId": "sl-1"},
    )
    open_orders = await sc.ex.fetch_open_orders(PERP)
    assert {o["clientOrderId"] for o in open_orders} == {"l-1", "sl-1"}
    (limit,) = await sc.ex.fetch_open_orders(PERP, params={"orderLinkId": "l-1"})
    assert (limit["type"], limit["price"], limit["amount"], limit["status"]) == (
        "limit",
        65000,
        0.1,
        "open",
    )
    (stop,) = await sc.ex.fetch_open_orders(PERP, params={"trigger": True})
    assert stop["clientOrderId"] == "sl-1" and stop["triggerPrice"] == 69000 and stop["reduceOnly"]
    (done,) = await sc.ex.fetch_closed_orders(PERP, params={"orderLinkId": "h-1"})
    assert (done["status"], done["filled"], done["average"]) == ("closed", 0.2, 59988.0)
    fetched = await sc.ex.fetch_order(None, PERP, {"orderLinkId": "h-1", "acknowledged": True})
    assert fetched["clientOrderId"] == "h-1" and fetched["status"] == "closed"
    cancelled = await sc.ex.cancel_order(None, PERP, {"orderLinkId": "l-1"})
    assert cancelled["id"] == limit["id"]
    assert [o["clientOrderId"] for o in await sc.ex.fetch_open_orders(PERP)] == ["sl-1"]
    trades = await sc.ex.fetch_my_trades(PERP)
    (trade,) = trades
    assert (trade["side"], trade["amount"], trade["price"], trade["takerOrMaker"]) == (
        "sell",
        0.2,
        59988.0,
        "taker",
    )
    assert (
        trade["fee"]["cost"] == pytest.approx(0.2 * 59988 * 0.00055)
        and trade["fee"]["currency"] == "USDT"
    )


async def test_limit_fills_when_the_price_crosses(sc: SimClient) -> None:
    await sc.ex.create_order(PERP, "limit", "buy", 0.1, 59000, {"clientOrderId": "l-1"})
    sc.move(timedelta(minutes=5), price=58950)
    (closed,) = await sc.ex.fetch_closed_orders(PERP, params={"orderLinkId": "l-1"})
    assert closed["status"] == "closed" and closed["average"] == 59000
    (trade,) = await sc.ex.fetch_my_trades(PERP)
    assert trade["takerOrMaker"] == "maker"


async def test_spot_orders_move_the_wallet(sc: SimClient) -> None:
    await sc.ex.create_order(SPOT, "market", "buy", 0.1, None, {"clientOrderId": "s-1"})
    balance = await sc.ex.fetch_balance()
    assert balance["BTC"]["total"] == pytest.approx(2.0999)  # the fee is paid in BTC
    await sc.ex.create_order(SPOT, "limit", "sell", 0.5, 70000, {"clientOrderId": "s-2"})
    balance = await sc.ex.fetch_balance()
    assert balance["BTC"]["used"] == 0.5 and balance["BTC"]["free"] == pytest.approx(1.5999)
    (trade,) = await sc.ex.fetch_my_trades(SPOT)
    assert trade["amount"] == 0.1 and trade["side"] == "buy"
    assert trade["fee"] == {"cost": 0.0001, "currency": "BTC", "rate": 0.001}


async def test_a_short_receives_funding_after_a_settlement(sc: SimClient) -> None:
    await sc.ex.create_order(PERP, "market", "sell", 1, None, {"clientOrderId": "h-1"})
    assert await sc.ex.fetch_funding_history(PERP) == []
    sc.advance(timedelta(hours=1, minutes=5))  # crosses 08:00 UTC
    (payment,) = await sc.ex.fetch_funding_history(PERP)
    # Bybit's execFee sign: positive paid, negative received; ccxt passes it through
    assert payment["amount"] == pytest.approx(-6.0) and payment["rate"] == 0.0001
    assert payment["timestamp"] == to_ms(T0 + timedelta(hours=1))
    balance = await sc.ex.fetch_balance()
    assert balance["USDT"]["total"] == pytest.approx(100000 - 59988 * 0.00055 + 6)


async def test_executions_paginate_with_a_cursor(sc: SimClient) -> None:
    for i in range(5):
        await sc.ex.create_order(PERP, "market", "sell", 0.01, None, {"clientOrderId": f"p-{i}"})
    first = await sc.ex.fetch_my_trades(PERP, None, 2)
    assert len(first) == 2
    seen, cursor, pages = [], None, 0
    while True:  # ccxt's raw endpoint, following nextPageCursor like fetch_paginated_call_cursor
        request = {"category": "linear", "symbol": "BTCUSDT", "execType": "Trade", "limit": 2}
        if cursor:
            request["cursor"] = cursor
        answer = await sc.ex.privateGetV5ExecutionList(request)
        seen += [row["orderLinkId"] for row in answer["result"]["list"]]
        pages += 1
        cursor = answer["result"]["nextPageCursor"]
        if not cursor:
            break
    assert pages == 3 and seen == [f"p-{i}" for i in reversed(range(5))]  # newest first
    every = await sc.ex.fetch_my_trades(PERP, None, None, {"paginate": True})
    assert sorted(t["info"]["orderLinkId"] for t in every) == [f"p-{i}" for i in range(5)]


async def test_default_ccxt_options_detect_the_unified_account(sc: SimClient) -> None:
    """Without the lean options ccxt also calls coin/query-info, user/query-api, account/info."""
    ex = ccxt.bybit({"apiKey": sc.ex.apiKey, "secret": sc.ex.secret, "enableRateLimit": False})
    ex.urls["api"] = {k: sc.sim.url for k in ("spot", "futures", "v2", "public", "private")}
    try:
        markets = await ex.load_markets()
        assert PERP in markets and "USDT" in ex.currencies
        balance = await ex.fetch_balance()
        assert balance["BTC"]["total"] == 2
        assert ex.options["enableUnifiedAccount"] is True
        answer = await ex.privateGetV5UserQueryApi()
        assert sc.ex.apiKey not in str(answer) and sc.ex.secret not in str(answer)
    finally:
        await ex.close()
