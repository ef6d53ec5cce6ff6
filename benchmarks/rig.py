"""The benchmark rigs: N direct hedges (one spot asset + its perp each) on a simulated venue, run
either through the in-process port or over HTTP through the real ccxt adapter.

Built the way tests/integration/paper.py and test_paper_ccxt.py build theirs, without importing
tests. The engine's clock is the venue's simulated time; each cycle advances it by one minute.
"""

from __future__ import annotations

import inspect
import itertools
import os
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bot.engine import CycleOutcome, Engine
from bot.exchange.budget import RequestBudget
from bot.exchange.factory import VenueConnection, create_exchange
from bot.exchange.inprocess import InProcessExchange
from bot.logging import configure_logging
from bot.settings import parse_config
from bot.sim.markets import VenueConfig
from bot.sim.server import DEFAULT_API_KEY, DEFAULT_API_SECRET, RunningSimulator, start_simulator
from bot.sim.synthetic import SyntheticFeed
from bot.sim.venue import Venue
from bot.store import Store
from bot.store.migrate import upgrade

BASES = (
    "BTC",
    "ETH",
    "SOL",
    "XRP",
    "ADA",
    "DOGE",
    "TRX",
    "LTC",
    "BCH",
    "LINK",
    "DOT",
    "AVAX",
    "ATOM",
    "UNI",
    "XLM",
    "ETC",
    "FIL",
    "NEAR",
    "APT",
    "ARB",
)
START = datetime(2024, 3, 1, 0, 30, tzinfo=UTC)
STEP = timedelta(minutes=1)
UNPACED_BUDGET = 1_000_000  # calls per second: never binds
MAX_WARMUP_CYCLES = 10
_RIG_IDS = itertools.count(1)


def quiet_logging() -> None:
    """The engine logs one line per cycle at info, as in production; it goes to /dev/null so
    rendering is still paid for but the terminal stays readable."""
    sink = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    configure_logging(level="info", stream=sink)


def bases(n: int) -> list[str]:
    """The first ``n`` coins: the 20 real names, then made-up ones (C020, C021, ...)."""
    return [*BASES[:n], *(f"C{i:03d}" for i in range(len(BASES), n))]


def sim_connection(url: str, *, rate_limit: bool = False) -> VenueConnection:
    """How paper mode reaches the simulator: Bybit, the simulator's keys, ``url``."""
    return VenueConnection(
        venue="bybit",
        mode="paper",
        api_key=SecretStr(DEFAULT_API_KEY),
        api_secret=SecretStr(DEFAULT_API_SECRET),
        url=url,
        enable_rate_limit=rate_limit,
    )


def config_text(bases: list[str]) -> str:
    # orders a minute: the warm-up hedges every coin in one cycle (200 at most)
    text = "[planner]\ncooldown_seconds = 0\n[risk]\nmax_orders_per_minute = 1000\n"
    for b in bases:
        text += f'[[hedges]]\nname = "{b.lower()}"\nspot_asset = "{b}"\nperp = "{b}/USDT:USDT"\n'
    return text


def make_venue(n: int, seed: int = 3) -> Venue:
    coins = bases(n)
    feed = SyntheticFeed(dict.fromkeys(coins, 100), seed=seed)
    usdt = max(100_000, 10_000 * n)  # the margin of n shorts of 5,000 USDT each
    wallet = {"USDT": str(usdt), **dict.fromkeys(coins, "50")}
    return Venue(feed, START, VenueConfig.for_bases(coins, wallet=wallet))


class Timed:
    """Wraps an object's coroutine methods and adds their wall time to ``seconds``. Used on the
    port and the store to split a cycle into venue, database and the rest (the bot's own work).
    The engine awaits store calls one at a time and the in-process port never yields, so the
    split is exact there; over HTTP the concurrent reads overlap and only the total is exact."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.seconds = 0.0
        self.cpu = 0.0  # process CPU seconds inside the calls (exact for the in-process port)
        self.by_method: dict[str, float] = {}  # cumulative, never reset by take()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not inspect.iscoroutinefunction(attr):
            return attr

        async def timed(*args: Any, **kw: Any) -> Any:
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                return await attr(*args, **kw)
            finally:
                spent = time.perf_counter() - t0
                self.cpu += time.process_time() - c0
                self.seconds += spent
                self.by_method[name] = self.by_method.get(name, 0.0) + spent

        return timed

    def take(self) -> float:
        spent, self.seconds = self.seconds, 0.0
        return spent


@dataclass
class Sample:
    total: float
    venue: float
    store: float


@dataclass
class Rig:
    venue: Venue
    engine: Engine
    port: Timed
    store: Timed
    closers: list[Any] = field(default_factory=list)
    sim: RunningSimulator | None = None
    db: Path | None = None

    async def db_bytes(self) -> int:
        """The SQLite database file once its write-ahead log is checkpointed into it."""
        assert self.db is not None
        async with self.store._inner.engine.begin() as conn:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return self.db.stat().st_size

    async def cycle(self) -> CycleOutcome:
        self.venue.advance_to(self.venue.now + STEP)
        return await self.engine.run_cycle()

    async def timed_cycle(self) -> Sample:
        """Seconds spent in run_cycle (advancing the venue clock is the simulator's own cost and
        is left out), split into port calls, store calls and the rest."""
        self.venue.advance_to(self.venue.now + STEP)
        self.port.take(), self.store.take()
        t0 = time.perf_counter()
        outcome = await self.engine.run_cycle()
        elapsed = time.perf_counter() - t0
        if outcome.outcome != "ok" or outcome.summary.get("orders"):
            raise RuntimeError(f"not a steady-state cycle: {outcome}")
        return Sample(elapsed, self.port.take(), self.store.take())

    async def warm_up(self, n: int) -> None:
        """Cycle until every hedge is on and a cycle sends nothing (usually 3: hedge, protect,
        settle)."""
        want = {f"{b}/USDT:USDT": Decimal(-50) for b in bases(n)}
        outcome = None
        for _ in range(MAX_WARMUP_CYCLES):
            outcome = await self.cycle()
            positions = await self.engine.port.fetch_positions()
            hedged = {s: positions[s].size for s in want if s in positions}
            quiet = not any(outcome.summary.get(k) for k in ("orders", "stops_placed"))
            if hedged == want and quiet and outcome.outcome == "ok":
                return
        raise RuntimeError(f"no steady state after {MAX_WARMUP_CYCLES} cycles: {outcome}")

    async def close(self) -> None:
        for closer in reversed(self.closers):
            result = closer()
            if hasattr(result, "__await__"):
                await result


async def _engine_rig(venue: Venue, port: Any, n: int, db: Path, closers: list[Any]) -> Rig:
    # every rig gets a fresh database: one left by an earlier rig holds intents stamped later
    # than this venue's clock, and the planner's cooldown would then hold those symbols
    db = db.with_name(f"{db.stem}-{next(_RIG_IDS)}.db")
    url = f"sqlite+aiosqlite:///{db}"
    await upgrade(url)
    store = Store.from_url(url, clock=lambda: venue.now)
    closers.append(store.close)
    timed_port, timed_store = Timed(port), Timed(store)
    engine = Engine(
        port=timed_port,  # a Protocol: Timed passes through __getattr__
        store=timed_store,  # type: ignore[arg-type]
        config=parse_config(config_text(bases(n))),
        clock=lambda: venue.now,
        tag="b001",
    )
    await engine.start()
    return Rig(venue, engine, timed_port, timed_store, closers, db=db)


async def inprocess_rig(n: int, workdir: Path) -> Rig:
    venue = make_venue(n)
    return await _engine_rig(venue, InProcessExchange(venue), n, workdir / f"inproc-{n}.db", [])


async def http_rig(n: int, workdir: Path, *, rate_limit: bool) -> Rig:
    """Paper mode as ``build_app`` wires it (simulator over HTTP, ccxt adapter, SQLite), with the
    port built here so that ccxt's rate limiter can be switched off. Off means no pacing at all:
    the account's request budget (50 calls/s by default, bot/exchange/budget.py) is raised too,
    since back-to-back cycles of 6 requests each would otherwise hit it every ~8 cycles and wait
    out its 1 s window (a throughput cap, not cycle latency)."""
    venue = make_venue(n)
    sim = await start_simulator(venue=venue)
    port = create_exchange(
        sim_connection(sim.url, rate_limit=rate_limit),
        budget=None if rate_limit else RequestBudget(rate=UNPACED_BUDGET),
    )
    db = workdir / f"http-{n}-{int(rate_limit)}.db"
    rig = await _engine_rig(venue, port, n, db, [sim.stop, port.close])
    rig.sim = sim
    return rig


def requests_per_cycle(counter: Counter[tuple[str, str]], cycles: int) -> dict[str, float]:
    return {f"{m} {p}": c / cycles for (m, p), c in sorted(counter.items())}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ms(values: list[float]) -> dict[str, float]:
    """Median, p95 and mean, in milliseconds."""
    scaled = [v * 1000 for v in values]
    return {
        "median": statistics.median(scaled),
        "p95": percentile(scaled, 0.95),
        "mean": statistics.fmean(scaled),
    }
