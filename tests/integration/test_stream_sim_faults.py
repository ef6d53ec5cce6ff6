"""Websocket faults of the simulator as ccxt.pro sees them: a dropped socket, a silent one (no
message, no pong, no close) and a delayed message."""

from __future__ import annotations

import asyncio
import time

import ccxt.pro
import pytest

from bot.sim.control_client import SimControl
from tests.integration.stream_rig import hub, pro_sim, until


async def test_a_dropped_socket_fails_the_watch_and_a_new_one_resumes() -> None:
    async with pro_sim(ws_faults="private:drop:1") as (sim, _f, ex), SimControl(sim.url) as ctl:
        await ex.load_markets()
        first = asyncio.create_task(ex.watch_balance())
        await until(lambda: hub(sim).subscribers("wallet") == 1)
        await ctl.wallet("BTC", "3")
        with pytest.raises(ccxt.NetworkError):
            await asyncio.wait_for(first, 10)
        assert sim.ws is not None and ("drop", "private") in sim.ws.faults.fired
        again = asyncio.create_task(ex.watch_balance())
        await until(lambda: hub(sim).subscribers("wallet") == 1 and hub(sim).opened == 2)
        await ctl.wallet("BTC", "4")
        assert (await asyncio.wait_for(again, 10))["BTC"]["total"] == 4


async def test_a_silent_socket_is_caught_by_the_missing_pong() -> None:
    spec = "private:silent:1"
    async with (
        pro_sim(keep_alive_ms=200, ws_faults=spec) as (sim, _f, ex),
        SimControl(sim.url) as ctl,
    ):
        await ex.load_markets()
        watch = asyncio.create_task(ex.watch_balance())
        await until(lambda: hub(sim).subscribers("wallet") == 1)
        await ctl.wallet("BTC", "3")
        with pytest.raises(ccxt.RequestTimeout):
            await asyncio.wait_for(watch, 10)
        assert not watch.cancelled() and hub(sim).opened == 1
        # its peer never reads our close frame, so it stays open, but subscribed to nothing:
        # the replacement socket is the one subscriber (rev11)
        assert hub(sim).subscribers("wallet") == 0
        again = asyncio.create_task(ex.watch_balance())
        await until(lambda: hub(sim).subscribers("wallet") == 1 and hub(sim).opened == 2)
        assert len(hub(sim).connections) == 2
        await ctl.wallet("BTC", "4")
        assert (await asyncio.wait_for(again, 10))["BTC"]["total"] == 4


async def test_a_delayed_message_arrives_late_and_whole() -> None:
    spec = "private:delay=300:1"
    async with pro_sim(ws_faults=spec) as (sim, _f, ex), SimControl(sim.url) as ctl:
        await ex.load_markets()
        watch = asyncio.create_task(ex.watch_balance())
        await until(lambda: hub(sim).subscribers("wallet") == 1)
        start = time.monotonic()
        await ctl.wallet("BTC", "3")
        balance = await asyncio.wait_for(watch, 10)
        assert time.monotonic() - start >= 0.3 and balance["BTC"]["total"] == 3
