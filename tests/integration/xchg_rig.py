"""A bot on the production path for exchange-facing regression tests: the engine, a real store,
ccxt's unmodified bybit class, and the Bybit v5 simulator on 127.0.0.1 with a scripted feed.

Simulated time, prices and wallet change only when a test says so, through the simulator's signed
control routes (``SimControl``: /sim/advance, /sim/price, /sim/wallet); the bot's clock is the
venue's plus a skew a test may set (a frozen feed while our clock runs on)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bot.app import App, build_app
from bot.domain import IntentPurpose
from bot.engine import CycleOutcome
from bot.settings import RuntimeSettings, parse_config
from bot.sim.control_client import SimControl
from bot.sim.manual import ManualFeed
from bot.sim.markets import VenueConfig
from bot.sim.model import SimOrder
from bot.sim.server import RunningSimulator, start_simulator
from bot.sim.venue import Venue

START = datetime(2024, 3, 1, 0, 30, tzinfo=UTC)
PERP = "BTC/USDT:USDT"
BTC_CONFIG = (
    "[planner]\ncooldown_seconds = 0\n"
    '[[hedges]]\nname = "btc"\nspot_asset = "BTC"\nperp = "BTC/USDT:USDT"\n'
)


@dataclass
class Rig:
    sim: RunningSimulator
    venue: Venue
    feed: ManualFeed
    app: App
    db_url: str
    control: SimControl
    skew: timedelta = field(default=timedelta(0))  # the bot's clock minus the venue's

    def bot_clock(self) -> datetime:
        return self.venue.now + self.skew

    async def advance(self, delta: timedelta) -> None:
        await self.control.advance(int(delta.total_seconds()))

    async def set_price(self, price: Decimal | int | str) -> None:
        """Spot, index, perp and mark of BTC become ``price`` now (triggers react at once)."""
        await self.control.price("BTC", price)

    async def set_wallet(self, coin: str, amount: Decimal | int | str) -> None:
        await self.control.wallet(coin, amount)

    async def cycle(self, step: timedelta = timedelta(minutes=1)) -> CycleOutcome:
        await self.advance(step)
        return await self.app.engine.run_cycle()

    def resting_stops(self) -> list[SimOrder]:
        return [o for o in self.venue.book.open_orders() if o.is_conditional]

    async def events(self, kind: str) -> list[str]:
        return [e.message for e in await self.app.store.events(kind=kind)]

    async def stop_intents(self) -> list:
        return await self.app.store.intents(purpose=IntentPurpose.STOP)


@asynccontextmanager
async def http_bot(
    tmp_path: Path,
    *,
    wallet: dict[str, str] | None = None,
    config: str = BTC_CONFIG,
    price: int = 60000,
    funding_rate: str = "0.0001",
    db_name: str = "bot.db",
) -> AsyncIterator[Rig]:
    feed = ManualFeed({"BTC": price}, start=START, funding_rate=funding_rate)
    wallet = wallet or {"USDT": "20000", "BTC": "2"}
    venue = Venue(feed, START, VenueConfig.for_bases(["BTC"], wallet=wallet))
    sim = await start_simulator(venue=venue)
    db_url = f"sqlite+aiosqlite:///{tmp_path / db_name}"
    control = SimControl(sim.url)
    rig = Rig(sim, venue, feed, None, db_url, control)  # type: ignore[arg-type]
    try:
        rig.app = await build_app(
            RuntimeSettings(mode="paper", venue_url=sim.url, database_url=db_url),
            parse_config(config),
            clock=rig.bot_clock,
        )
        try:
            yield rig
        finally:
            await rig.app.close()
    finally:
        await control.close()
        await sim.stop()


async def hedged(rig: Rig, cycles: int = 4) -> None:
    """Run cycles until the short is on and its stop rests on the venue."""
    for _ in range(cycles):
        await rig.cycle()
        position = rig.venue.account.positions["BTCUSDT"].size
        if position != 0 and rig.resting_stops():
            return
    raise AssertionError("the bot did not hedge and protect within the cycles given")
