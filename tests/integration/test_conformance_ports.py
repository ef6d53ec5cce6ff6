"""Port parity: the same scripted session through InProcessExchange (the venue called directly)
and through the ccxt adapter over the Bybit HTTP simulator yields the same domain answers.
Both ports wrap one venue model each, driven identically, so every number must agree."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal as D
from typing import Any

from pydantic import SecretStr

from bot.domain import IntentPurpose, OrderIntent, OrderKind, Side
from bot.exchange.factory import VenueConnection, create_exchange
from bot.exchange.inprocess import InProcessExchange
from bot.exchange.port import ExchangePort
from bot.sim.manual import ManualFeed
from bot.sim.server import DEFAULT_API_KEY, DEFAULT_API_SECRET, start_simulator
from bot.sim.venue import Venue
from tests.fixtures.sim.harness import PERP, SPOT, T0

ETH = "ETH/USDT:USDT"


def feed() -> ManualFeed:
    f = ManualFeed({"BTC": 60000, "ETH": 3000}, start=T0 - timedelta(days=3))
    f.set(T0 + timedelta(hours=3), "BTC", 61000)
    f.set(T0 + timedelta(hours=5), "BTC", mark=69500)
    return f


async def session(port: ExchangePort, venue: Venue) -> dict[str, Any]:
    """The bot's calls, in a fixed order, with the clock moved between them."""
    out: dict[str, Any] = {}
    await port.set_leverage(PERP, D(3))
    await port.set_leverage(PERP, D(3))
    out["ack"] = await port.create_order(OrderIntent("h-1", "btc", 1, PERP, Side.SELL, D("0.5")))
    await port.create_order(OrderIntent("e-1", "eth", 1, ETH, Side.SELL, D("2.5")))
    await port.create_order(OrderIntent("s-1", "btc", 1, SPOT, Side.BUY, D("0.1")))
    stop = OrderIntent(
        "sl-1", "btc", 1, PERP, Side.BUY, D("0.5"), kind=OrderKind.STOP_MARKET,
        reduce_only=True, purpose=IntentPurpose.STOP, trigger_price=D(69000),
    )  # fmt: skip
    await port.create_order(stop)
    limit = OrderIntent(
        "l-1", "eth", 1, ETH, Side.SELL, D("1"), kind=OrderKind.LIMIT, price=D(3500)
    )
    await port.create_order(limit)
    out["open"] = sorted(await port.fetch_open_orders(None), key=lambda o: o.venue_order_id)
    out["positions"] = await port.fetch_positions()
    out["balances"] = await port.fetch_balances()
    venue.advance_to(T0 + timedelta(hours=4))  # 08:00 settlement, BTC at 61000
    out["positions_later"] = await port.fetch_positions()
    venue.advance_to(T0 + timedelta(hours=6))  # the stop fires at 12:00
    out["stop"] = await port.fetch_order(PERP, "sl-1")
    out["cancel"] = (await port.cancel_order(ETH, "l-1"), await port.cancel_order(ETH, "l-1"))
    out["unknown"] = await port.fetch_order(PERP, "never")
    out["fills"] = await port.fetch_fills(None, None)
    out["spot_fills"] = await port.fetch_fills(SPOT, None)
    out["funding"] = await port.fetch_funding_payments(None, None)
    out["rates"] = await port.fetch_funding_rates([PERP, ETH])
    tickers = await port.fetch_tickers([PERP, SPOT])
    out["tickers"] = {s: replace(t, ts=None) for s, t in tickers.items()}  # ccxt: no row time
    out["bars"] = await port.fetch_ohlcv(PERP, "1h", T0 - timedelta(hours=2), 5)
    out["rate_history"] = await port.fetch_funding_rate_history(PERP, T0 - timedelta(days=1), 3)
    out["markets"] = await port.load_markets()
    return out


async def test_inprocess_and_ccxt_over_http_agree() -> None:
    direct_venue = Venue(feed(), T0)
    direct = await session(InProcessExchange(direct_venue), direct_venue)

    sim = await start_simulator(feed=feed(), start=T0)
    port = create_exchange(
        VenueConnection(
            venue="bybit",
            mode="paper",
            api_key=SecretStr(DEFAULT_API_KEY),
            api_secret=SecretStr(DEFAULT_API_SECRET),
            url=sim.url,
            enable_rate_limit=False,
        )
    )
    try:
        remote = await session(port, sim.venue)
    finally:
        await port.close()
        await sim.stop()

    assert direct["stop"].state.value == "closed" and len(direct["funding"]) == 2
    assert direct["cancel"] == (True, False) and direct["unknown"] is None
    mismatched = [key for key in direct if direct[key] != remote[key]]
    details = {key: (direct[key], remote[key]) for key in mismatched}
    assert mismatched == [], details
