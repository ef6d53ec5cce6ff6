"""Observe in one round trip (issue 10.2): every read of a cycle goes out at once, tickers of both
categories included, and the open orders (plain and conditional) come in one listing."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

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
        arrived: list[float] = []  # when each request reached the simulator
        pick = sim.faults.pick

        def noted(method: str, path: str) -> Any:
            arrived.append(time.perf_counter())
            return pick(method, path)

        sim.faults.pick = noted  # type: ignore[method-assign]
        snapshot = await observe(
            port, now=T0, markets=markets, perp_symbols=[PERP], spot_symbols=[SPOT]
        )
        assert set(snapshot.tickers) == {PERP, SPOT}
        sent = {f"{m} {p}": n for (m, p), n in sim.front.requests.items()}
        assert sent == {
            "GET /v5/account/wallet-balance": 1,
            "GET /v5/position/list": 1,
            "GET /v5/market/tickers": 2,  # spot and linear, funding read from the linear ones
            "GET /v5/order/realtime": 1,  # plain and conditional orders together
        }
        # every answer waits 300 ms: all five arrived before the first could have been answered,
        # so none waited for another (one round trip), however loaded the machine is
        assert len(arrived) == 5 and max(arrived) - min(arrived) < LATENCY_MS / 1000, arrived
    finally:
        await port.close()
