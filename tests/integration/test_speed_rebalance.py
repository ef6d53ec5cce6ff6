"""Orders in few round trips (issue 10.3): a rebalance of 10 hedges, each with its stop-loss moved,
reaches the venue in at most 5 round trips: observe, the hedge orders, the stop refresh, the new
stops, the superseded stops' cancels. Round trips are counted as waves of requests arriving at the
simulator, each wave separated from the next by the injected latency."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from bot.app import build_app
from bot.settings import RuntimeSettings, parse_config
from bot.sim.markets import VenueConfig
from bot.sim.server import start_simulator
from bot.sim.synthetic import SyntheticFeed
from bot.sim.venue import Venue
from tests.integration.test_speed_limits import _config

START = datetime(2024, 3, 1, 0, 30, tzinfo=UTC)
LATENCY = 0.3  # seconds: long against the machine's own jitter


def _waves(arrivals: list[float]) -> int:
    ordered = sorted(arrivals)
    return 1 + sum(1 for a, b in itertools.pairwise(ordered) if b - a > LATENCY / 2)


async def test_a_rebalance_of_ten_hedges_takes_at_most_five_round_trips(tmp_path) -> None:
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
        arrivals: list[float] = []
        sim.faults.add("*", "latency", param=LATENCY * 1000, times=None)
        sim.faults.on_fire = lambda _rule: arrivals.append(time.monotonic())
        venue.advance_to(venue.now + timedelta(minutes=1))
        outcome = await app.engine.run_cycle()
        assert outcome.summary["orders"] == 10, outcome.summary
        assert outcome.summary["stops_placed"] == 10 and outcome.summary["stops_cancelled"] == 10
        assert _waves(arrivals) <= 5, (_waves(arrivals), outcome.summary)
        assert sim.front.limits is not None and not sim.front.limits.refused
    finally:
        await app.close()
        await sim.stop()
