"""Orders in few round trips (issue 10.3): a rebalance of 10 hedges, each with its stop-loss moved,
reaches the venue in at most 5 round trips, at 300 ms and at 50 ms of latency: observe, the hedge
orders (one create-batch), the stop refresh, the stops amended in place (one amend-batch: no
new stops, no cancels). Round trips are counted as waves of requests arriving at the simulator,
each wave separated from the next by the injected latency. Requests per such cycle: 9 (5 reads,
1 create-batch, 2 refresh reads, 1 amend-batch) where one request per order took 37 (10 creates,
10 new stops, 10 cancels) and 6 round trips at 50 ms."""

from __future__ import annotations

import itertools
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from bot.app import build_app
from bot.settings import RuntimeSettings, parse_config
from bot.sim.markets import VenueConfig
from bot.sim.server import start_simulator
from bot.sim.synthetic import SyntheticFeed
from bot.sim.venue import Venue
from tests.integration.test_speed_limits import _config

START = datetime(2024, 3, 1, 0, 30, tzinfo=UTC)


def _waves(arrivals: list[float], latency: float) -> int:
    ordered = sorted(arrivals)
    return 1 + sum(1 for a, b in itertools.pairwise(ordered) if b - a > latency / 2)


@pytest.mark.parametrize("latency", [0.3, 0.05])  # seconds; 0.3 is long against the jitter
async def test_a_rebalance_of_ten_hedges_takes_at_most_five_round_trips(
    tmp_path, latency: float
) -> None:
    bases = [f"C{i:02d}" for i in range(10)]
    feed = SyntheticFeed({b: 100 for b in bases}, seed=3)
    wallet = {"USDT": "1000000", **{b: "50" for b in bases}}
    venue = Venue(feed, START, VenueConfig.for_bases(bases, wallet=wallet))
    sim = await start_simulator(venue=venue, rate_limits=True)
    runtime = RuntimeSettings(
        mode="paper", venue_url=sim.url, database_url=f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    )
    app = await build_app(runtime, parse_config(_config(bases)), clock=lambda: venue.now)
    try:
        for _ in range(3):  # hedge, protect, settle
            venue.advance_to(venue.now + timedelta(minutes=1))
            await app.engine.run_cycle()
        for b in bases:
            venue.set_wallet(b, D(70))
        before = {o.symbol: o.client_order_id for o in await app.port.fetch_open_orders(None)}
        assert len(before) == 10
        arrivals: list[float] = []
        sim.faults.add("*", "latency", param=latency * 1000, times=None)
        sim.faults.on_fire = lambda _rule: arrivals.append(time.monotonic())
        requests = Counter(sim.front.requests)
        venue.advance_to(venue.now + timedelta(minutes=1))
        outcome = await app.engine.run_cycle()
        summary = outcome.summary
        assert summary["orders"] == 10, summary
        moved = [summary[k] for k in ("stops_amended", "stops_placed", "stops_cancelled")]
        assert moved == [10, 0, 0], summary
        assert _waves(arrivals, latency) <= 5, (_waves(arrivals, latency), summary)
        sent = Counter(sim.front.requests) - requests
        assert sent[("POST", "/v5/order/create-batch")] == 1, sent
        assert sent[("POST", "/v5/order/amend-batch")] == 1, sent
        assert summary["venue_requests"] == sum(sent.values()) == 9, sent
        assert sim.front.limits is not None and not sim.front.limits.refused
        # one stop per short, still under its client id, now sized to the grown hedge
        after = await app.port.fetch_open_orders(None)
        assert {o.symbol: o.client_order_id for o in after} == before
        assert {o.qty for o in after} == {D(70)}
    finally:
        await app.close()
        await sim.stop()
