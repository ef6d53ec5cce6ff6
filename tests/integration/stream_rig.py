"""An unmodified ``ccxt.pro.bybit`` pointed at the simulator on loopback (REST and websockets),
configured like the REST harness (tests/fixtures/sim/harness.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from pydantic import SecretStr

from bot.exchange.ccxt_stream import stream_client
from bot.exchange.factory import VenueConnection
from bot.sim.manual import ManualFeed
from bot.sim.server import DEFAULT_API_KEY, DEFAULT_API_SECRET, RunningSimulator, start_simulator
from bot.sim.ws.hub import WsHub
from tests.fixtures.sim.harness import T0


def pro_client(url: str, secret: str = DEFAULT_API_SECRET, keep_alive_ms: int = 18_000) -> Any:
    """The client stream mode builds (bot/exchange/ccxt_stream.py), unmodified ccxt.pro.bybit."""
    conn = VenueConnection(
        venue="bybit",
        mode="paper",
        api_key=SecretStr(DEFAULT_API_KEY),
        api_secret=SecretStr(secret),
        url=url,
        enable_rate_limit=False,
    )
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
