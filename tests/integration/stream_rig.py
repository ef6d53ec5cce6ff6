"""An unmodified ``ccxt.pro.bybit`` pointed at the simulator on loopback (REST and websockets),
configured like the REST harness (tests/fixtures/sim/harness.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from pydantic import SecretStr

from bot.exchange.ccxt_stream import stream_client
from bot.exchange.factory import VenueConnection
from bot.runner import ConfigWatcher, run_loop
from bot.sim.manual import ManualFeed
from bot.sim.server import DEFAULT_API_KEY, DEFAULT_API_SECRET, RunningSimulator, start_simulator
from bot.sim.venue import Venue
from bot.sim.ws.hub import WsHub
from bot.stream.mode import stream_trigger
from bot.stream.trigger import CycleTrigger
from tests.fixtures.sim.harness import T0
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

    @property
    def sim(self) -> RunningSimulator:
        assert self.paper.sim is not None
        return self.paper.sim


def paper_connection(url: str, secret: str = DEFAULT_API_SECRET) -> VenueConnection:
    return VenueConnection(
        venue="bybit",
        mode="paper",
        api_key=SecretStr(DEFAULT_API_KEY),
        api_secret=SecretStr(secret),
        url=url,
        enable_rate_limit=False,
    )


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
            yield StreamBot(paper, trigger, stop, task)
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)


def perp_size(venue: Venue, symbol: str = "BTCUSDT") -> Decimal:
    pos = venue.account.positions.get(symbol)
    return pos.size if pos is not None else Decimal(0)


def perp_orders(venue: Venue, symbol: str = "BTCUSDT") -> list[str]:
    return [o.link_id for o in venue.book.orders.values() if o.symbol == symbol]
