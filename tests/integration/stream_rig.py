"""An unmodified ``ccxt.pro.bybit`` pointed at the simulator on loopback (REST and websockets),
configured like the REST harness (tests/fixtures/sim/harness.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import ccxt.pro

from bot.sim.manual import ManualFeed
from bot.sim.server import DEFAULT_API_KEY, DEFAULT_API_SECRET, RunningSimulator, start_simulator
from bot.sim.ws.hub import WsHub
from tests.fixtures.sim.harness import T0


def pro_client(url: str, secret: str = DEFAULT_API_SECRET, keep_alive_ms: int = 18_000) -> Any:
    ex = ccxt.pro.bybit(
        {
            "apiKey": DEFAULT_API_KEY,
            "secret": secret,
            "enableRateLimit": False,
            "timeout": 10_000,
            "has": {"fetchCurrencies": False},
            "options": {
                "fetchMarkets": {"types": ["spot", "linear"]},
                "enableUnifiedAccount": True,
                "enableUnifiedMargin": False,
            },
        }
    )
    ex.urls["api"] = {k: url for k in ("spot", "futures", "v2", "public", "private")}
    ws = url.replace("http://", "ws://")
    ex.urls["api"]["ws"] = {
        "public": {k: f"{ws}/v5/public/{k}" for k in ("spot", "linear", "inverse", "option")},
        "private": {"contract": f"{ws}/v5/private", "usdc": f"{ws}/v5/private"},
    }
    ex.streaming["keepAlive"] = keep_alive_ms
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
