"""Review of issue 11: stopping the daemon while its private socket is dead.

A socket whose peer is gone (a silent socket before the missing pongs are noticed, a dropped NAT
mapping) never answers the close handshake. aiohttp waits 10 s for it, and ccxt.pro closes its
sockets that way, so SIGTERM took over 10 s: past Docker's default stop grace, which then kills
the process before the paper venue's state is saved.
"""

from __future__ import annotations

import time
from datetime import timedelta

from bot.sim.control_client import SimControl
from bot.sim.manual import ManualFeed
from bot.sim.server import start_simulator
from bot.stream.mode import stream_trigger
from tests.fixtures.sim.harness import T0
from tests.integration.stream_rig import hub, paper_connection, until

STOP_BOUND = 5.0  # seconds: about 1 s here; the close handshake alone used to wait 10


async def test_stream_stops_promptly_while_its_socket_is_silent() -> None:
    feed = ManualFeed({"BTC": 60000, "ETH": 3000}, start=T0 - timedelta(days=3))
    sim = await start_simulator(feed=feed, start=T0, ws_faults="private:silent:1")
    try:
        # a long ping period: the silence is not yet noticed when the daemon is told to stop
        context = stream_trigger(paper_connection(sim.url), "stream", 30.0)
        trigger = await context.__aenter__()
        assert trigger is not None
        await until(lambda: trigger.reasons["live"] == 1, 20)
        async with SimControl(sim.url) as ctl:
            await ctl.wallet("BTC", "3")  # the first topic message turns the socket silent
        await until(lambda: ("silent", "private") in hub(sim).faults.fired)
        start = time.monotonic()
        await context.__aexit__(None, None, None)
        took = time.monotonic() - start
        assert took < STOP_BOUND, f"the stream took {took:.1f} s to stop"
    finally:
        await sim.stop()
