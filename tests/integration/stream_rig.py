"""An unmodified ``ccxt.pro.bybit`` pointed at the simulator on loopback (REST and websockets),
configured like the REST harness (tests/fixtures/sim/harness.py)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bot.engine import CycleOutcome, Engine
from bot.exchange.ccxt_stream import CcxtTriggerStream, stream_client
from bot.exchange.factory import VenueConnection
from bot.runner import ConfigWatcher, run_loop
from bot.sim.manual import ManualFeed
from bot.sim.server import DEFAULT_API_SECRET, RunningSimulator, start_simulator
from bot.sim.venue import Venue
from bot.sim.ws.changes import PRIVATE_TOPICS
from bot.sim.ws.hub import WsHub
from bot.stream.mode import stream_trigger
from bot.stream.trigger import CycleTrigger
from tests.fixtures.sim.harness import T0
from tests.integration import http_rig

if TYPE_CHECKING:
    from tests.integration.paper import Paper


def pro_client(url: str, secret: str = DEFAULT_API_SECRET, keep_alive_ms: int = 18_000) -> Any:
    """The client stream mode builds (bot/exchange/ccxt_stream.py), unmodified ccxt.pro.bybit."""
    conn = paper_connection(url, secret)
    ex = stream_client(conn, ping_seconds=keep_alive_ms / 1000)
    ex.options["watchPositions"] = {}  # ccxt's default: a REST snapshot first
    return ex


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Poll ``condition`` until true or fail after ``seconds`` (no fixed sleeps)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.005)


def hub(sim: RunningSimulator) -> WsHub:
    assert sim.ws is not None
    return sim.ws


@asynccontextmanager
async def pro_sim(
    keep_alive_ms: int = 18_000, **kw: Any
) -> AsyncIterator[tuple[RunningSimulator, ManualFeed, Any]]:
    feed = ManualFeed({"BTC": 60000, "ETH": 3000}, start=T0 - timedelta(days=3))
    sim = await start_simulator(feed=feed, start=T0, **kw)
    ex = pro_client(sim.url, keep_alive_ms=keep_alive_ms)
    try:
        yield sim, feed, ex
    finally:
        await ex.close()
        await sim.stop()


@dataclass
class StreamBot:
    """The daemon loop (bot.runner.run_loop) in stream mode on a Paper rig over HTTP."""

    paper: Paper
    trigger: CycleTrigger
    stop: asyncio.Event
    task: asyncio.Task[Any]
    # per finished cycle, what had woken the loop by the time it started (trigger.reasons)
    finished: list[Counter[str]] = field(default_factory=list)

    @property
    def sim(self) -> RunningSimulator:
        assert self.paper.sim is not None
        return self.paper.sim

    async def ready(self) -> None:
        """The stream is live and the cycle that started after that is done: from here a change
        at the venue reaches the bot through the stream (or its loss), not a pending cycle."""
        await until(lambda: any(r["live"] for r in self.finished))


def paper_connection(url: str, secret: str = DEFAULT_API_SECRET) -> VenueConnection:
    return http_rig.paper_connection(url, secret, enable_rate_limit=False)


@asynccontextmanager
async def stream_bot(
    paper: Paper, *, mode: str = "stream", interval: float = 3600.0, ping_seconds: float = 10.0
) -> AsyncIterator[StreamBot]:
    """Run the loop until the block ends; the long default interval leaves the stream as the
    only thing that starts a cycle after the first."""
    assert paper.sim is not None, "stream mode needs the HTTP transport"
    stop = asyncio.Event()
    conn = paper_connection(paper.sim.url)
    async with stream_trigger(conn, mode, ping_seconds) as trigger:
        assert trigger is not None
        finished: list[Counter[str]] = []
        run = paper.engine.run_cycle

        async def counted() -> CycleOutcome:
            woken = Counter(trigger.reasons)
            outcome = await run()
            finished.append(woken)
            return outcome

        paper.engine.run_cycle = counted  # type: ignore[method-assign]
        task = asyncio.create_task(
            run_loop(
                paper.engine,
                interval=interval,
                max_cycles=None,
                watcher=ConfigWatcher(None),
                stop=stop,
                trigger=trigger,
            )
        )
        try:
            yield StreamBot(paper, trigger, stop, task, finished)
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)


def perp_size(venue: Venue, symbol: str = "BTCUSDT") -> Decimal:
    pos = venue.account.positions.get(symbol)
    return pos.size if pos is not None else Decimal(0)


def perp_orders(venue: Venue, symbol: str = "BTCUSDT") -> list[str]:
    return [o.link_id for o in venue.book.orders.values() if o.symbol == symbol]


# ---- stream mode in the engine scenarios (tests/integration/paper.py, transport "stream") -------

# what each of the stream's four watches waits on in ccxt.pro.bybit (a unified account)
WATCHED = ("balances:unified", "positions", "orders", "myTrades")
MAX_FOLLOW_UPS = 5


class PaperStream:
    """Stream mode on a Paper rig: the production stream (bot.stream.mode.stream_trigger, an
    unmodified ccxt.pro.bybit) on the simulator's websockets, and cycles run as run_loop runs
    them in stream mode with an hour-long interval. Before each cycle the rig waits until the
    stream has taken in everything the simulator sent (so a test sees the same cycles every run);
    after each cycle, every cycle the stream asks for runs at once, as the daemon would."""

    def __init__(self, sim: RunningSimulator) -> None:
        self.sim = sim
        self.received = 0  # private topic messages ccxt has handled
        self.follow_ups = 0  # cycles the stream started (beyond one per paper.cycle())
        self.outcomes: list[CycleOutcome] = []  # every cycle's, follow-ups included
        self._exit = AsyncExitStack()
        self.trigger = CycleTrigger()
        self.client: Any = None  # the stream's ccxt.pro client

    @property
    def hub(self) -> WsHub:
        return hub(self.sim)

    async def start(self) -> PaperStream:
        conn = paper_connection(self.sim.url)
        trigger = await self._exit.enter_async_context(stream_trigger(conn, "stream", 10.0))
        assert trigger is not None and isinstance(trigger.source, CcxtTriggerStream)
        self.trigger, self.client = trigger, trigger.source.client
        handle = self.client.handle_message  # its clients are made on the first watch, after this

        def counting(ws_client: Any, message: Any) -> Any:
            out = handle(ws_client, message)
            if isinstance(message, dict) and "topic" in message and "private" in ws_client.url:
                self.received += 1
            return out

        self.client.handle_message = counting
        await until(lambda: all(self.hub.subscribers(t) == 1 for t in PRIVATE_TOPICS))
        await until(lambda: self.trigger.reasons["live"] == 1)  # its cycle: the first one
        await self.settled()
        return self

    def _armed(self) -> bool:
        """Every watch is waiting again: whatever ccxt handled has reached the trigger."""
        futures = {h: f for c in self.client.clients.values() for h, f in c.futures.items()}
        return all(h in futures and not futures[h].done() for h in WATCHED)

    async def settled(self) -> None:
        await until(
            lambda: self.hub.idle() and self.received == self.hub.sent["private"] and self._armed()
        )

    async def run(self, engine: Engine) -> CycleOutcome:
        """The next cycle (whatever woke it), then the ones the stream starts; its outcome."""
        outcome = await self._one(engine)
        for _ in range(MAX_FOLLOW_UPS):
            if not self.trigger.event.is_set():
                return outcome
            self.follow_ups += 1
            await self._one(engine)
        raise AssertionError(f"the stream keeps starting cycles: {self.trigger.reasons}")

    async def _one(self, engine: Engine) -> CycleOutcome:
        await self.settled()
        self.trigger.before_cycle(engine)
        outcome = await engine.run_cycle()
        self.outcomes.append(outcome)
        await self.settled()
        done = ("orders", "stops_placed", "stops_amended", "stops_cancelled")
        changed = sum(outcome.summary.get(k) or 0 for k in done)
        # nothing lost: what the cycle did at the venue came back on the stream as a trigger
        assert not changed or self.trigger.event.is_set(), (outcome, self.trigger)
        return outcome

    async def close(self) -> None:
        await self._exit.aclose()
