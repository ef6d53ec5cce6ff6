"""Starting the Bybit v5 simulator: the venue, its feed, the HTTP front and (optionally) a clock.

Two time modes: without ``speed`` (or speed 0) the venue's clock moves only when told: by
``venue.advance_to`` / ``RunningSimulator.advance`` in-process or ``POST /sim/advance`` over HTTP
(tests, drills); with ``speed`` a background task advances it by ``speed`` simulated seconds per
real second (paper trading, ``hedgebot sim``). A ``scenario`` (``scenario.py``) acts as the clock
moves, in either mode.

The default credentials are public constants: the simulator guards nothing of value, and the bot
in paper mode signs with them. Pass your own to exercise authentication failures.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from aiohttp import web

from bot.sim.bybit_auth import Credentials
from bot.sim.bybit_http import BybitFront
from bot.sim.faults import Faults
from bot.sim.feed_base import FeedRangeError, PriceFeed, funding_interval
from bot.sim.markets import FUNDING_MINUTES, VenueConfig
from bot.sim.ratelimit import SimLimits
from bot.sim.replay import ReplayFeed
from bot.sim.scenario import Scenario
from bot.sim.synthetic import SyntheticFeed
from bot.sim.venue import Venue
from bot.sim.ws.hub import WsHub

DEFAULT_API_KEY = "hedgebot-sim-key"
DEFAULT_API_SECRET = "hedgebot-sim-secret"
DEFAULT_PRICES: Mapping[str, int] = {
    "BTC": 60000,
    "ETH": 3000,
    "SOL": 150,
    "AVAX": 35,  # AVAX and LINK: the README's portfolio example
    "LINK": 15,
}
STABLECOINS = frozenset({"USDT", "USDC", "USD"})
REPLAY_WARMUP = timedelta(days=30)  # history the bot can read before the replay's "now"
CLOCK_TICK_SECONDS = 0.2

log = logging.getLogger("bot.sim.server")


@dataclass
class RunningSimulator:
    url: str
    venue: Venue
    faults: Faults
    front: BybitFront = field(repr=False)
    _runner: web.AppRunner = field(repr=False)
    _clock: asyncio.Task[None] | None = field(default=None, repr=False)
    _ticks: asyncio.Condition = field(default_factory=asyncio.Condition, repr=False)
    ws: WsHub | None = field(default=None, repr=False)  # the websocket front (ws/hub.py)

    def advance(self, seconds: float) -> None:
        """Move the venue clock now (what ``POST /sim/advance`` does), e.g. between bot cycles."""
        self.venue.advance_to(self.venue.now + timedelta(seconds=seconds))
        if self.ws is not None:
            self.ws.publish()

    async def wait_for_time(self, at: datetime) -> None:
        """Wait until the real-time clock has moved the venue to ``at`` (speed mode only)."""
        if self._clock is None:
            raise RuntimeError("the simulator runs without a clock: call venue.advance_to")
        async with self._ticks:
            await self._ticks.wait_for(lambda: self.venue.now >= at)

    async def stop(self) -> None:
        if self._clock is not None:
            self._clock.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._clock
            self._clock = None
        self.front.release_hung()
        if self.ws is not None:
            await self.ws.close()
        await self._runner.cleanup()


def default_feed(
    *,
    data_dir: Path | str | None = None,
    seed: int = 7,
    start: datetime | None = None,
    wallet: Mapping[str, Decimal | int | str] | None = None,
) -> tuple[PriceFeed, datetime]:
    """A replay of ``data_dir`` (starting after a warm-up) or a synthetic feed starting now."""
    if data_dir is not None:
        replay = ReplayFeed(Path(data_dir))
        first = start or min(replay.first_time() + REPLAY_WARMUP, replay.last_time())
        return replay, first
    bases = ["BTC", "ETH"] + [
        c for c in (wallet or {}) if c in DEFAULT_PRICES and c not in ("BTC", "ETH")
    ]
    origin = start or datetime.now(UTC).replace(second=0, microsecond=0)
    assets = {b: Decimal(DEFAULT_PRICES[b]) for b in bases}
    return SyntheticFeed(assets, seed=seed, origin=origin), origin


async def _advance_in_real_time(
    venue: Venue, speed: float, tick: float, ticks: asyncio.Condition, hub: WsHub
) -> None:
    real_start, sim_start = time.monotonic(), venue.now
    while True:
        await asyncio.sleep(tick)
        target = sim_start + timedelta(seconds=(time.monotonic() - real_start) * speed)
        if venue.now > target:  # moved ahead by /sim/advance: keep pace from there
            real_start, sim_start = time.monotonic(), venue.now
        elif target > venue.now:
            try:
                venue.advance_to(target)
            except FeedRangeError as exc:
                log.warning("simulated clock stopped: %s", exc)
                return
            hub.publish()
            async with ticks:
                ticks.notify_all()


async def start_simulator(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    api_key: str = DEFAULT_API_KEY,
    api_secret: str = DEFAULT_API_SECRET,
    venue: Venue | None = None,
    feed: PriceFeed | None = None,
    start: datetime | None = None,
    config: VenueConfig | None = None,
    wallet: Mapping[str, Decimal | int | str] | None = None,
    seed: int = 7,
    data_dir: Path | str | None = None,
    speed: float | None = None,
    faults: Faults | str | None = None,
    tick_seconds: float = CLOCK_TICK_SECONDS,
    scenario: Scenario | Path | str | None = None,
    ws_faults: Faults | str | None = None,
    rate_limits: bool = False,
) -> RunningSimulator:
    """Serve a venue over Bybit v5 on ``host:port`` (port 0: a free one). Without ``venue`` one
    is built from ``feed`` (or ``data_dir``, or a seeded synthetic feed) and ``config`` (or
    ``wallet``). ``faults`` may be a spec string (see ``faults.py``); ``scenario`` a Scenario
    or a TOML file, started at the venue's current time. ``speed`` None or 0: the clock stands
    still until told. ``ws_faults``: a spec of websocket faults (drop, silent, delay)."""
    if venue is None:
        if feed is None:
            feed, default_start = default_feed(
                data_dir=data_dir, seed=seed, start=start, wallet=wallet
            )
            start = start or default_start
        if config is None:  # each perp settles on its feed's grid (a replay's 4-hourly history)
            minutes = {b: funding_interval(feed, b) // timedelta(minutes=1) for b in feed.bases}
            listed = {b: m for b, m in minutes.items() if m in FUNDING_MINUTES}
            config = VenueConfig.for_bases(feed.bases, wallet=wallet, funding_minutes=listed)
        venue = Venue(feed, start or datetime.now(UTC).replace(second=0, microsecond=0), config)
    if scenario is not None:
        if not isinstance(scenario, Scenario):
            scenario = Scenario.load(Path(scenario))
        scenario.install(venue)
    if not isinstance(faults, Faults):
        spec = faults
        faults = Faults(seed=seed)
        faults.load(spec)
    if not isinstance(ws_faults, Faults):
        ws_spec, ws_faults = ws_faults, Faults(seed=seed, websocket=True)
        ws_faults.load(ws_spec)
    front = BybitFront(venue, Credentials(api_key, api_secret), faults)
    hub = WsHub(venue, Credentials(api_key, api_secret), ws_faults)
    if rate_limits:  # Bybit's request windows (ratelimit.py)
        front.limits = SimLimits()
    app = front.app()
    app.middlewares.append(hub.middleware)
    runner = web.AppRunner(app, shutdown_timeout=1.0, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    sim = RunningSimulator(f"http://{host}:{bound}", venue, faults, front, runner, ws=hub)
    if speed:
        sim._clock = asyncio.create_task(
            _advance_in_real_time(venue, speed, tick_seconds, sim._ticks, hub)
        )
    return sim


async def sim_main(
    host: str,
    port: int,
    api_key: str,
    api_secret: str,
    data_dir: Path | str | None,
    synthetic: bool,
    faults_spec: str | None,
    speed: float,
    scenario: Scenario | None = None,
    ws_faults_spec: str | None = None,
) -> None:
    """Run the simulator until SIGINT/SIGTERM, printing its URL (never the credentials)."""
    sim = await start_simulator(
        host=host,
        port=port,
        api_key=api_key,
        api_secret=api_secret,
        data_dir=None if synthetic else data_dir,
        faults=faults_spec,
        speed=speed,
        scenario=scenario,
        rate_limits=True,
        ws_faults=ws_faults_spec,
    )
    pace = f"{speed:g}x" if speed else "clock still until POST /sim/advance"
    print(
        f"hedgebot Bybit v5 simulator listening on {sim.url} "
        f"(simulated time {sim.venue.now:%Y-%m-%d %H:%M} UTC, {pace})",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await sim.stop()
