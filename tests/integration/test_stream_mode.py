"""Stream mode end to end: the daemon loop, the ccxt.pro stream and the simulator's websockets.
A wallet change starts a cycle at once (the polling interval is an hour here); every stream fault
ends in the state polling reaches, with no order doubled or lost."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.sim.control_client import SimControl
from tests.integration.paper import make_paper, make_venue
from tests.integration.stream_rig import perp_orders, perp_size, stream_bot, until

NEW_BTC = "2.2"  # +10%: under the holding-jump confirmation threshold (cycle_memory.py)


async def poll_reference(db_url: str) -> tuple[Decimal, int]:
    """What polling reaches: a cycle, the wallet change, a cycle."""
    paper = await make_paper(db_url.replace(".db", "-ref.db"), venue=make_venue())
    try:
        await paper.engine.run_cycle()
        paper.venue.set_wallet("BTC", Decimal(NEW_BTC))
        await paper.engine.run_cycle()
        return perp_size(paper.venue), len(perp_orders(paper.venue))
    finally:
        await paper.close()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'stream.db'}"


@pytest.mark.parametrize(
    "ws_faults", [None, "private:drop:1", "private:silent:1", "private:delay=400:1"]
)
async def test_a_wallet_change_is_hedged_at_once_whatever_the_stream_does(
    sqlite_url: str, ws_faults: str | None
) -> None:
    target, orders = await poll_reference(sqlite_url)
    assert target == Decimal("-2.2") and orders == 4  # two hedge orders, a stop, its successor
    paper = await make_paper(sqlite_url, venue=make_venue(), transport="http")
    assert paper.sim is not None and paper.sim.ws is not None
    paper.sim.ws.faults.load(ws_faults)
    try:
        async with stream_bot(paper, ping_seconds=0.2) as bot, SimControl(bot.sim.url) as ctl:
            ws = bot.sim.ws
            assert ws is not None
            await until(lambda: perp_size(paper.venue) == Decimal(-2))
            await until(lambda: ws.subscribers("wallet") == 1)
            await ctl.wallet("BTC", NEW_BTC)
            await until(lambda: perp_size(paper.venue) == target, 20)
            assert bot.task.done() is False  # the hour-long poll never ran: the stream did it
            assert bot.trigger.reasons["balance"] + bot.trigger.reasons["lost"] >= 1
            if ws_faults is not None:
                assert ws.faults.fired == [(ws_faults.split(":")[1].split("=")[0], "private")]
            if ws_faults in ("private:drop:1", "private:silent:1"):
                await until(lambda: bot.trigger.reasons["reconnect"] >= 1)
                assert ws.opened >= 2
        links = perp_orders(paper.venue)
        assert perp_size(paper.venue) == target and len(links) == orders
        assert len(set(links)) == len(links)
    finally:
        await paper.close()
