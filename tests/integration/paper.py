"""A paper trading rig for engine tests: the real venue model, a port, a real store, the real
engine, and a clock that is the venue's own simulated time.

``transport="http"`` (the production path) serves the venue over Bybit v5 on a loopback port and
talks to it through the ccxt adapter (see http_rig.py); ``"inprocess"`` calls the venue directly
(fast, kept honest by test_conformance_ports.py); ``"stream"`` is "http" in stream mode: the bot's
ccxt.pro stream on the simulator's websockets starts cycles as well (stream_rig.PaperStream)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bot.engine import CycleOutcome, Engine
from bot.exchange.inprocess import InProcessExchange
from bot.exchange.port import ExchangePort
from bot.settings import FileConfig, parse_config
from bot.sim.markets import VenueConfig
from bot.sim.server import RunningSimulator
from bot.sim.synthetic import SyntheticFeed
from bot.sim.venue import Venue
from bot.store import Store
from bot.store.migrate import upgrade
from tests.integration.http_rig import serve
from tests.integration.stream_rig import PaperStream

START = datetime(2024, 3, 1, 0, 30, tzinfo=UTC)

DEMO = """
[planner]
cooldown_seconds = 0
[[hedges]]
name = "btc"
spot_asset = "BTC"
perp = "BTC/USDT:USDT"
[[hedges]]
name = "eth"
spot_asset = "ETH"
perp = "ETH/USDT:USDT"
"""


def make_venue(
    wallet: Mapping[str, str] | None = None, *, seed: int = 7, start: datetime = START, **feed_kw
) -> Venue:
    feed = SyntheticFeed({"BTC": 60000, "ETH": 3000}, seed=seed, **feed_kw)
    cfg = VenueConfig.for_bases(
        ["BTC", "ETH"], wallet=wallet or {"USDT": "100000", "BTC": "2", "ETH": "30"}
    )
    return Venue(feed, start, cfg)


@dataclass
class Paper:
    venue: Venue
    port: ExchangePort
    store: Store
    engine: Engine
    sim: RunningSimulator | None = None  # the HTTP front, when the transport is "http"
    stream: PaperStream | None = None  # stream mode (transport "stream")

    def advance(self, by: timedelta) -> None:
        """Move the venue's clock (bars, marks, triggers and funding settle on the way); the
        websockets publish what changed, as the simulator's own clock does."""
        if self.sim is not None:
            self.sim.advance(by.total_seconds())
        else:
            self.venue.advance_to(self.venue.now + by)

    async def cycle(self, advance: timedelta = timedelta(minutes=1)) -> CycleOutcome:
        """Advance, then a cycle; in stream mode also the cycles the stream starts after it."""
        self.advance(advance)
        if self.stream is not None:
            return await self.stream.run(self.engine)
        return await self.engine.run_cycle()

    async def close(self) -> None:
        if self.stream is not None:
            await self.stream.close()
        await self.store.close()
        if self.sim is not None:
            await self.port.close()
            await self.sim.stop()


async def make_paper(
    db_url: str,
    *,
    venue: Venue | None = None,
    config: FileConfig | str = DEMO,
    port: ExchangePort | None = None,
    tag: str = "t001",
    transport: str = "inprocess",
    rate_limit: bool = False,
) -> Paper:
    """An engine on ``venue`` (a fresh demo venue by default) over ``transport`` ("inprocess",
    "http" or "stream"); a given ``port`` wins. ``rate_limit`` keeps ccxt's limiter on (http)."""
    venue = venue or make_venue()
    sim = None
    if port is None and transport in ("http", "stream"):
        sim, port = await serve(venue, rate_limit=rate_limit)
    elif port is None and transport != "inprocess":
        raise ValueError(f"unknown transport {transport!r}")
    port = port or InProcessExchange(venue)
    await upgrade(db_url)
    store = Store.from_url(db_url, clock=lambda: venue.now)
    cfg = parse_config(config) if isinstance(config, str) else config
    engine = Engine(port=port, store=store, config=cfg, clock=lambda: venue.now, tag=tag)
    paper = Paper(venue, port, store, engine, sim)
    try:
        await engine.start()
        if transport == "stream":
            assert sim is not None, "stream mode runs on the HTTP simulator"
            paper.stream = await PaperStream(sim).start()
    except BaseException:
        await paper.close()
        raise
    return paper


def perp_size(venue_port_positions: Mapping, symbol: str) -> Decimal:
    pos = venue_port_positions.get(symbol)
    return pos.size if pos is not None else Decimal(0)
