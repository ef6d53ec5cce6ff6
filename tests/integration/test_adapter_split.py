"""SplitExchange over two simulated venues: spot on one, linear perps on the other."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal as D

import pytest
from pydantic import SecretStr

from bot.domain import MarketKind, OrderIntent, Side
from bot.errors import FatalExchangeError
from bot.exchange.ccxt_adapter import CcxtExchange
from bot.exchange.factory import VenueConnection, ccxt_client
from bot.exchange.retry import RetryPolicy
from bot.exchange.split import SplitExchange
from bot.exchange.venues import BYBIT
from bot.sim.manual import ManualFeed
from bot.sim.server import DEFAULT_API_KEY, DEFAULT_API_SECRET, RunningSimulator, start_simulator
from tests.fixtures.sim.harness import PERP, SPOT, T0


@dataclass
class Two:
    spot_sim: RunningSimulator
    perp_sim: RunningSimulator
    port: SplitExchange


async def _sim(wallet: dict[str, int]) -> RunningSimulator:
    feed = ManualFeed({"BTC": 60000, "ETH": 3000}, start=T0 - timedelta(days=3))
    return await start_simulator(feed=feed, start=T0, wallet=wallet)


def _side(sim: RunningSimulator, kind: MarketKind) -> CcxtExchange:
    conn = VenueConnection(
        venue="bybit",
        mode="paper",
        api_key=SecretStr(DEFAULT_API_KEY),
        api_secret=SecretStr(DEFAULT_API_SECRET),
        url=sim.url,
        enable_rate_limit=False,
    )
    return CcxtExchange(
        ccxt_client(conn), BYBIT, kinds=frozenset({kind}), retry=RetryPolicy(attempts=1)
    )


@pytest.fixture
async def two() -> AsyncIterator[Two]:
    spot_sim = await _sim({"USDT": 1000, "BTC": 3})
    perp_sim = await _sim({"USDT": 50000})
    port = SplitExchange(_side(spot_sim, MarketKind.SPOT), _side(perp_sim, MarketKind.PERP))
    try:
        yield Two(spot_sim, perp_sim, port)
    finally:
        await port.close()
        await spot_sim.stop()
        await perp_sim.stop()


def order(symbol: str, cid: str, side: Side, qty: str) -> OrderIntent:
    return OrderIntent(cid, "btc", 1, symbol, side, D(qty))


def links(sim: RunningSimulator) -> set[str]:
    return {o.link_id for o in sim.venue.book.orders.values() if o.link_id}


async def test_markets_and_balances_are_merged_by_kind(two: Two) -> None:
    markets = await two.port.load_markets()
    assert markets[SPOT].kind == MarketKind.SPOT and markets[PERP].kind == MarketKind.PERP
    balances = await two.port.fetch_balances()
    assert balances["BTC"].total == D(3)  # the spot wallet
    assert balances["USDT"].total == D(50000)  # the margin coin, from the perp account


async def test_orders_go_to_the_venue_of_their_market(two: Two) -> None:
    await two.port.create_order(order(PERP, "perp-1", Side.SELL, "0.5"))
    await two.port.create_order(order(SPOT, "spot-1", Side.SELL, "0.25"))
    assert links(two.perp_sim) == {"perp-1"} and links(two.spot_sim) == {"spot-1"}
    assert (await two.port.fetch_positions())[PERP].size == D("-0.5")
    spot_report = await two.port.fetch_order(SPOT, "spot-1")
    assert spot_report is not None and spot_report.filled == D("0.25")
    assert (await two.port.fetch_balances())["BTC"].total == D("2.75")
    fills = await two.port.fetch_fills(None, T0)
    assert [f.client_order_id for f in fills] == ["perp-1"]  # perps only, from the perp side
    assert [f.client_order_id for f in await two.port.fetch_fills(SPOT, T0)] == ["spot-1"]


async def test_reads_are_routed(two: Two) -> None:
    tickers = await two.port.fetch_tickers([PERP, SPOT])
    assert tickers[PERP].mark == D(60000) and tickers[SPOT].last == D(60000)
    assert two.spot_sim.front.requests[("GET", "/v5/market/tickers")] == 1
    assert two.perp_sim.front.requests[("GET", "/v5/market/tickers")] == 1
    funding = await two.port.fetch_funding_rates([PERP, SPOT])
    assert set(funding) == {PERP}
    assert await two.port.fetch_open_orders(None) == []
    bars = await two.port.fetch_ohlcv(SPOT, "1h", None, 2)
    assert len(bars) == 2
    await two.port.set_leverage(PERP, D(3))
    assert two.perp_sim.venue.account.positions["BTCUSDT"].leverage == D(3)


async def test_unknown_symbols_are_fatal(two: Two) -> None:
    with pytest.raises(FatalExchangeError):
        await two.port.fetch_tickers(["DOGE/USDT"])
    with pytest.raises(FatalExchangeError):
        await two.port.cancel_order("DOGE/USDT:USDT", "x")
