"""Observe in one round trip (issue 10.2): every read of a cycle goes out at once, tickers of both
categories included, and the open orders (plain and conditional) come in one listing."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.observe import observe
from bot.sim.manual import ManualFeed
from bot.sim.server import RunningSimulator, start_simulator
from tests.fixtures.sim.harness import PERP, SPOT, T0
from tests.integration.http_rig import ccxt_port

LATENCY_MS = 300  # long against the machine's own jitter: rounds trips are what is counted


@pytest.fixture
async def sim() -> AsyncIterator[RunningSimulator]:
    feed = ManualFeed({"BTC": 60000, "ETH": 3000}, start=T0 - timedelta(days=3))
    running = await start_simulator(feed=feed, start=T0, rate_limits=True)
    yield running
    await running.stop()


async def test_a_cycles_reads_take_one_round_trip(sim: RunningSimulator) -> None:
    port = ccxt_port(sim.url)
    try:
        markets = dict(await port.load_markets())
        sim.faults.load(f"*:latency={LATENCY_MS}:always")
        sim.front.requests.clear()
        start = time.perf_counter()
        snapshot = await observe(
            port, now=T0, markets=markets, perp_symbols=[PERP], spot_symbols=[SPOT]
        )
        elapsed = time.perf_counter() - start
        assert set(snapshot.tickers) == {PERP, SPOT}
        sent = {f"{m} {p}": n for (m, p), n in sim.front.requests.items()}
        assert sent == {
            "GET /v5/account/wallet-balance": 1,
            "GET /v5/position/list": 1,
            "GET /v5/market/tickers": 2,  # spot and linear, funding read from the linear ones
            "GET /v5/order/realtime": 1,  # plain and conditional orders together
        }
        # five requests one after another would take 5 x 300 ms; together they take one
        assert elapsed < 2 * LATENCY_MS / 1000, elapsed
    finally:
        await port.close()
