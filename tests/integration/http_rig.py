"""The production path for engine tests: the Bybit v5 simulator on a free loopback port and the
real ccxt port (bot.exchange.factory.create_exchange) talking to it.

    paper = await make_paper(db_url, transport="http")   # tests/integration/paper.py
    await paper.cycle()                 # advance the venue's clock one minute, run one cycle
    paper.venue / paper.sim.url / paper.port / paper.engine / paper.store

The simulator runs in the test's own event loop on the venue object the test holds, so a test may
move prices and wallets on that object directly (or over the control routes when it wants the
whole HTTP path). The engine's clock is the venue's simulated time.

ccxt's rate limiter is off by default here, as in the simulator harness: it only paces requests
(weight x 20 ms, ~100 ms per read). Measured on the 19 HTTP scenarios of test_engine_paper.py
(SQLite, shared 2-core machine): 85 s with it on, 26 s off. Pass ``rate_limit=True`` to keep it;
the subprocess tests (test_kill_*.py) run the daemon as shipped, limiter on.
"""

from __future__ import annotations

from pydantic import SecretStr

from bot.exchange.factory import VenueConnection, create_exchange
from bot.exchange.port import ExchangePort
from bot.sim.server import (
    DEFAULT_API_KEY,
    DEFAULT_API_SECRET,
    RunningSimulator,
    start_simulator,
)
from bot.sim.venue import Venue

TRANSPORTS = ("inprocess", "http")


def ccxt_port(url: str, *, rate_limit: bool = False, timeout_ms: int = 10_000) -> ExchangePort:
    """The port production builds in paper mode, pointed at ``url``."""
    return create_exchange(
        VenueConnection(
            venue="bybit",
            mode="paper",
            api_key=SecretStr(DEFAULT_API_KEY),
            api_secret=SecretStr(DEFAULT_API_SECRET),
            url=url,
            timeout_ms=timeout_ms,
            enable_rate_limit=rate_limit,
        )
    )


async def serve(venue: Venue, *, rate_limit: bool = False) -> tuple[RunningSimulator, ExchangePort]:
    """Serve ``venue`` over HTTP on a free loopback port (its clock moves only when the test moves
    it) and build the ccxt port for it. Close with ``await port.close(); await sim.stop()``."""
    sim = await start_simulator(venue=venue)
    return sim, ccxt_port(sim.url, rate_limit=rate_limit)
