"""Bybit's request limits (issue 10.1): the simulator refuses past them as Bybit does, and the bot,
paced by the same documented windows, never trips them, also hedging and rebalancing 50 hedges at
once through ccxt against the simulator over HTTP."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import aiohttp
import ccxt.async_support as ccxt_async

from bot.app import build_app
from bot.settings import RuntimeSettings, parse_config
from bot.sim.markets import VenueConfig
from bot.sim.server import DEFAULT_API_KEY, DEFAULT_API_SECRET, start_simulator
from bot.sim.synthetic import SyntheticFeed
from bot.sim.venue import Venue

START = datetime(2024, 3, 1, 0, 30, tzinfo=UTC)


def _config(bases: list[str]) -> str:
    text = "[planner]\ncooldown_seconds = 0\n[risk]\nmax_orders_per_minute = 1000\n"
    for b in bases:
        text += f'[[hedges]]\nname = "{b.lower()}"\nspot_asset = "{b}"\nperp = "{b}/USDT:USDT"\n'
    return text


async def test_fifty_hedges_hedged_and_rebalanced_without_tripping_a_limit(tmp_path) -> None:
    bases = [f"C{i:02d}" for i in range(50)]
    feed = SyntheticFeed({b: 100 for b in bases}, seed=3)
    wallet = {"USDT": "1000000", **{b: "50" for b in bases}}
    venue = Venue(feed, START, VenueConfig.for_bases(bases, wallet=wallet))
    sim = await start_simulator(venue=venue, rate_limits=True)
    assert sim.front.limits is not None
    runtime = RuntimeSettings(
        mode="paper", venue_url=sim.url, database_url=f"sqlite+aiosqlite:///{tmp_path / 'l.db'}"
    )
    app = await build_app(runtime, parse_config(_config(bases)), clock=lambda: venue.now)
    try:
        for _ in range(2):  # hedge all 50, then protect and settle
            venue.advance_to(venue.now + timedelta(minutes=1))
            await app.engine.run_cycle()
        for b in bases:  # every holding grows: 50 hedges to rebalance in one cycle
            venue.set_wallet(b, D(70))
        venue.advance_to(venue.now + timedelta(minutes=1))
        outcome = await app.engine.run_cycle()
        assert outcome.summary["orders"] == 50, outcome.summary
        venue.advance_to(venue.now + timedelta(minutes=1))
        await app.engine.run_cycle()
        positions = await app.port.fetch_positions()
        assert {positions[f"{b}/USDT:USDT"].size for b in bases} == {D(-70)}
        assert sum(sim.front.requests.values()) > 200  # the limits were really in play
        assert not sim.front.limits.refused, sim.front.limits.refused
    finally:
        await app.close()
        await sim.stop()


async def test_past_an_endpoint_window_bybit_answers_10006_with_its_headers() -> None:
    sim = await start_simulator(rate_limits=True)
    client = ccxt_async.bybit(
        {"apiKey": DEFAULT_API_KEY, "secret": DEFAULT_API_SECRET, "enableRateLimit": False}
    )
    client.urls["api"] = {k: sim.url for k in client.urls["api"]}
    assert sim.front.limits is not None
    sim.front.limits.clock = lambda: (
        1000.0
    )  # time stands still: one window, however slow the machine
    try:
        # 60 wallet reads at once: the window holds 50 a second, the rest are refused
        answers = await asyncio.gather(
            *(
                client.privateGetV5AccountWalletBalance({"accountType": "UNIFIED"})
                for _ in range(60)
            ),
            return_exceptions=True,
        )
        refused = [a for a in answers if isinstance(a, Exception)]
        assert len(refused) == 10
        assert all(isinstance(a, ccxt_async.RateLimitExceeded) for a in refused)
        assert "10006" in str(refused[0])
        assert sim.front.limits.refused == {"v5/account/wallet-balance": 10}
        headers = client.last_response_headers
        assert headers["X-Bapi-Limit"] == "50"
        assert headers["X-Bapi-Limit-Status"] == "0"
        assert int(headers["X-Bapi-Limit-Reset-Timestamp"]) > 0
    finally:
        await client.close()
        await sim.stop()


async def test_a_batch_counts_each_order_and_the_ip_window_answers_403() -> None:
    sim = await start_simulator(rate_limits=True)
    assert sim.front.limits is not None
    limits = sim.front.limits
    limits.clock = lambda: 1000.0
    batch = {"category": "linear", "request": [{"symbol": "BTCUSDT"}] * 8}
    assert limits.check("/v5/order/create-batch", batch).ret_code == 0
    assert limits.check("/v5/order/create", {"category": "linear"}).ret_code == 0
    assert limits.check("/v5/order/create", {"category": "linear"}).ret_code == 0
    assert limits.check("/v5/order/create", {"category": "linear"}).ret_code == 10006
    assert limits.check("/v5/order/create", {"category": "spot"}).ret_code == 0  # its own window
    try:
        async with aiohttp.ClientSession() as http:
            statuses = []
            for _ in range(610):  # public market data: the IP window only (600 per 5 s)
                async with http.get(f"{sim.url}/v5/market/tickers?category=linear") as r:
                    statuses.append(r.status)
        # 4 requests counted above (a refused one does not count): 596 pass, 14 are refused
        assert statuses.count(403) == 14 and statuses[:596].count(403) == 0
    finally:
        await sim.stop()
