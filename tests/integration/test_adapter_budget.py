"""The request budget is consulted once per HTTP request and shared by every client given it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from pydantic import SecretStr

from bot.exchange.budget import RequestBudget
from bot.exchange.factory import VenueConnection, create_exchange
from bot.exchange.port import ExchangePort
from bot.sim.manual import ManualFeed
from bot.sim.server import DEFAULT_API_KEY, DEFAULT_API_SECRET, RunningSimulator, start_simulator
from tests.fixtures.sim.harness import PERP, SPOT, T0


@pytest.fixture
async def sim() -> AsyncIterator[RunningSimulator]:
    feed = ManualFeed({"BTC": 60000, "ETH": 3000}, start=T0 - timedelta(days=3))
    running = await start_simulator(feed=feed, start=T0)
    yield running
    await running.stop()


def port_for(sim: RunningSimulator, budget: RequestBudget) -> ExchangePort:
    conn = VenueConnection(
        venue="bybit",
        mode="paper",
        api_key=SecretStr(DEFAULT_API_KEY),
        api_secret=SecretStr(DEFAULT_API_SECRET),
        url=sim.url,
        enable_rate_limit=False,
    )
    return create_exchange(conn, budget)


def total_requests(sim: RunningSimulator) -> int:
    return sum(sim.front.requests.values())


async def test_every_request_of_a_cycle_draws_on_the_budget(sim: RunningSimulator) -> None:
    budget = RequestBudget()
    port = port_for(sim, budget)
    try:
        await port.load_markets()
        used, seen = budget.used, total_requests(sim)
        await asyncio.gather(
            port.fetch_balances(),
            port.fetch_positions(),
            port.fetch_tickers([PERP, SPOT]),
            port.fetch_funding_rates([PERP]),
            port.fetch_open_orders(None),
        )
        # one listing of linear orders holds the conditional stops too (no second listing)
        assert budget.used - used == total_requests(sim) - seen == 5
    finally:
        await port.close()


async def test_two_clients_of_one_account_share_the_window(sim: RunningSimulator) -> None:
    budget = RequestBudget(rate=4, period=0.25)
    first, second = port_for(sim, budget), port_for(sim, budget)
    try:
        await asyncio.gather(first.load_markets(), second.load_markets())
        markets = budget.used  # three requests each: spot, linear, the server time
        start = time.monotonic()
        await asyncio.gather(*(p.fetch_balances() for p in (first, second) for _ in range(6)))
        # 12 more requests at 4 per 0.25 s: at least two further windows
        assert time.monotonic() - start >= 0.45
        assert budget.used == markets + 12 == total_requests(sim)
    finally:
        await first.close()
        await second.close()
