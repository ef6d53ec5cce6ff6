"""Fidelity to Bybit where the bot's safety depends on it, through the unmodified ccxt client over
HTTP (issue 7.10; the venue-level cases are in tests/unit/test_venue_faithful.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal

import pytest

from bot.sim.markets import VenueConfig
from tests.fixtures.sim.harness import PERP, SPOT, SimClient, sim_client

ETH_PERP = "ETH/USDT:USDT"


@pytest.fixture
async def sc() -> AsyncIterator[SimClient]:
    async with sim_client() as client:
        yield client


async def test_perp_fills_at_its_own_price_and_reports_the_mark_beside(sc: SimClient) -> None:
    sc.move(timedelta(minutes=1), spot=60000, perp=60300, mark=60100)
    await sc.ex.create_order(PERP, "market", "buy", 0.1, None, {"clientOrderId": "h-1"})
    (trade,) = await sc.ex.fetch_my_trades(PERP)
    assert trade["price"] == 60312.1  # the perp's 60300 plus 2 bps, not the mark's 60100
    assert trade["info"]["markPrice"] == "60100"


async def test_spot_fees_are_paid_in_the_coin_received(sc: SimClient) -> None:
    await sc.ex.create_order(SPOT, "market", "sell", 0.5, None, {"clientOrderId": "s-1"})
    await sc.ex.create_order(SPOT, "market", "buy", 0.2, None, {"clientOrderId": "s-2"})
    buy, sell = sorted(await sc.ex.fetch_my_trades(SPOT), key=lambda t: t["side"])
    assert buy["fee"]["currency"] == "BTC" and buy["fee"]["cost"] == pytest.approx(0.0002)
    assert sell["fee"]["currency"] == "USDT"
    assert sell["fee"]["cost"] == pytest.approx(0.5 * sell["price"] * 0.001)


async def test_wallet_margin_balance_applies_collateral_ratios(sc: SimClient) -> None:
    await sc.ex.create_order(PERP, "market", "sell", 1, None, {"clientOrderId": "h-1"})
    balance = await sc.ex.fetch_balance()
    info = balance["info"]["result"]["list"][0]
    equity, margin = Decimal(info["totalEquity"]), Decimal(info["totalMarginBalance"])
    # 2 BTC at 0.95 and 30 ETH at 0.95: 5% of 120000 + 5% of 90000 below the equity
    assert equity - margin == Decimal("10500.00")
    mm = Decimal(info["totalMaintenanceMargin"])
    assert Decimal(info["accountMMRate"]) == (mm / margin).quantize(Decimal("0.0001"))


async def test_a_stop_without_trigger_by_fires_on_the_last_price(sc: SimClient) -> None:
    await sc.ex.create_order(PERP, "market", "sell", 1, None, {"clientOrderId": "h-1"})
    params = {"clientOrderId": "sl-1", "triggerPrice": 61000, "reduceOnly": True}
    await sc.ex.create_order(PERP, "market", "buy", 1, None, {**params, "triggerDirection": 1})
    (stop,) = await sc.ex.fetch_open_orders(PERP, params={"orderFilter": "StopOrder"})
    assert stop["info"]["triggerBy"] == "LastPrice"
    sc.move(timedelta(minutes=1), perp=61500)  # the perp trades through; mark and spot stay
    assert await sc.ex.fetch_open_orders(PERP, params={"orderFilter": "StopOrder"}) == []
    (flat,) = await sc.ex.fetch_positions([PERP])
    assert not flat["contracts"]


async def test_instruments_list_each_funding_interval() -> None:
    config = VenueConfig.for_bases(["BTC", "ETH"], funding_minutes={"ETH": 60})
    async with sim_client(config=config) as sc:
        await _hourly_funding(sc)


async def _hourly_funding(sc: SimClient) -> None:
    markets = await sc.ex.load_markets()
    assert markets[ETH_PERP]["info"]["fundingInterval"] == 60
    assert markets[PERP]["info"]["fundingInterval"] == 480
    rate = await sc.ex.fetch_funding_rate(ETH_PERP)
    assert rate["interval"] == "1h"
    await sc.ex.create_order(ETH_PERP, "market", "sell", 1, None, {"clientOrderId": "h-1"})
    sc.advance(timedelta(hours=3))
    payments = await sc.ex.fetch_funding_history(ETH_PERP)
    assert len(payments) == 3


async def test_order_history_answers_seven_days_and_cancelled_orders_one(sc: SimClient) -> None:
    await sc.ex.create_order(PERP, "market", "sell", 1, None, {"clientOrderId": "filled"})
    await sc.ex.create_order(PERP, "limit", "buy", 0.1, 50000, {"clientOrderId": "gone"})
    await sc.ex.cancel_order(None, PERP, {"orderLinkId": "gone"})

    async def history() -> set[str]:
        rows = await sc.ex.fetch_canceled_and_closed_orders(PERP)
        return {r["clientOrderId"] for r in rows}

    assert await history() == {"filled", "gone"}
    sc.advance(timedelta(hours=25))  # a cancelled order without fills is kept 24 hours
    assert await history() == {"filled"}
    sc.advance(timedelta(days=6, hours=23))  # and nothing older than 7 days by default
    assert await history() == set()
    since = sc.sim.venue.now - timedelta(days=8)
    old = await sc.ex.fetch_canceled_and_closed_orders(PERP, int(since.timestamp() * 1000))
    assert [r["clientOrderId"] for r in old] == ["filled"]  # a window that covers it


async def test_collateral_tiers_are_published_as_bybit_does(sc: SimClient) -> None:
    # GET /v5/spot-margin-trade/collateral (public): tiers in coin quantity, "" = no upper bound
    answer = await sc.ex.public_get_v5_spot_margin_trade_collateral({"currency": "BTC"})
    (btc,) = answer["result"]["list"]
    assert btc["currency"] == "BTC"
    assert btc["collateralRatioList"][0] == {
        "minQty": "0",
        "maxQty": "1000",
        "collateralRatio": "0.95",
    }
    assert btc["collateralRatioList"][-1]["maxQty"] == ""
    ticker = await sc.ex.fetch_ticker(PERP)
    assert ticker["info"]["fundingIntervalHour"] == "8"
