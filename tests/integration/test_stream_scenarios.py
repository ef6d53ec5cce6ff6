"""Engine scenarios in stream mode reach the state polling reaches: the same positions, the same
executions by type and the same orders (by symbol, side, type, size and status; client ids carry
cycle numbers, and stream mode runs more cycles): nothing doubled, nothing lost. Each scenario's
changes reach the venue as in production: wallet, price and clock through the control routes, a
manual trade on the venue with the websocket front told of it (as the HTTP front does after every
request)."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest

from bot.sim.control_client import SimControl
from bot.sim.model import OrderRequest
from bot.sim.server import RunningSimulator
from bot.sim.venue import Venue
from tests.integration.paper import make_paper, make_venue
from tests.integration.stream_rig import stream_bot, until

Step = tuple[str, str, str]
SCENARIOS: dict[str, list[Step]] = {
    "spot sold": [("wallet", "BTC", "1.8")],
    "spot bought, then ETH sold": [("wallet", "BTC", "2.2"), ("wallet", "ETH", "27")],
    "manual perp trade": [("manual", "BTCUSDT", "-0.5")],
    "stop fired by a price spike": [("price", "BTC", "{stop}")],
    "eight hours pass (funding settles at 08:00)": [("advance", "28800", "")],
}


def manual_trade(venue: Venue, symbol: str, signed: Decimal) -> None:
    side = "Buy" if signed > 0 else "Sell"
    venue.place_order(OrderRequest("linear", symbol, side, "Market", abs(signed), link_id="manual"))


State = tuple[dict[str, Decimal], Counter[tuple[str, ...]], Counter[str]]


def state(venue: Venue) -> State:
    """Positions, orders, and executions by type (trades, funding)."""
    sizes = {s: p.size for s, p in venue.account.positions.items() if p.size}
    orders = Counter(
        (
            o.symbol,
            o.side,
            o.order_type,
            format(o.qty.normalize(), "f"),
            o.status,
            str(o.is_conditional),
        )
        for o in venue.book.orders.values()
    )
    return sizes, orders, Counter(e.exec_type for e in venue.book.executions)


def stop_above(venue: Venue) -> str:
    """A price past the BTC stop (a buy stop above the mark protects the short)."""
    stops = [o.trigger_price for o in venue.book.open_orders() if o.symbol == "BTCUSDT"]
    assert stops and stops[0] is not None
    return str(stops[0] * Decimal("1.01"))


def resolve(step: Step, venue: Venue) -> Step:
    kind, a, b = step
    return (kind, a, stop_above(venue)) if b == "{stop}" else step


def apply_local(step: Step, venue: Venue) -> None:
    kind, a, b = step
    if kind == "wallet":
        venue.set_wallet(a, Decimal(b))
    elif kind == "price":
        venue.set_price(a, Decimal(b))
    elif kind == "advance":
        venue.advance_to(venue.now + timedelta(seconds=int(a)))
    else:
        manual_trade(venue, a, Decimal(b))


async def apply_live(step: Step, ctl: SimControl, sim: RunningSimulator) -> None:
    kind, a, b = step
    if kind == "wallet":
        await ctl.wallet(a, b)
    elif kind == "price":
        await ctl.price(a, b)
    elif kind == "advance":
        await ctl.advance(a)
    else:
        manual_trade(sim.venue, a, Decimal(b))
        assert sim.ws is not None
        sim.ws.publish()


async def polled(db_url: str, steps: list[Step]) -> State:
    """Polling: a cycle, then for each step the change and two cycles (the second settles what
    the first sent)."""
    paper = await make_paper(db_url, venue=make_venue())
    try:
        await paper.engine.run_cycle()
        for step in steps:
            apply_local(resolve(step, paper.venue), paper.venue)
            await paper.engine.run_cycle()
            await paper.engine.run_cycle()
        return state(paper.venue)
    finally:
        await paper.close()


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_stream_mode_reaches_the_polled_state(tmp_path, name: str) -> None:
    steps = SCENARIOS[name]
    expected = await polled(f"sqlite+aiosqlite:///{tmp_path / 'poll.db'}", steps)
    assert ("funding" in name) == (expected[2]["Funding"] > 0)
    paper = await make_paper(
        f"sqlite+aiosqlite:///{tmp_path / 'stream.db'}", venue=make_venue(), transport="http"
    )
    try:
        # a short interval: a cycle that defers (drift waits a cycle) is followed by the poll
        async with stream_bot(paper, interval=2.0) as bot, SimControl(bot.sim.url) as ctl:
            ws = bot.sim.ws
            assert ws is not None
            await until(lambda: len(paper.venue.book.open_orders()) == 2)  # hedged, protected
            await bot.ready()  # live, and the cycle that followed is done
            for step in steps:
                cycles = sum(bot.trigger.reasons.values())
                await apply_live(resolve(step, paper.venue), ctl, bot.sim)
                await until(lambda c=cycles: sum(bot.trigger.reasons.values()) > c)
            await until(lambda: state(paper.venue) == expected, 20)
            settle = time.monotonic() + 0.5  # whatever is still pending must change nothing
            await until(lambda: time.monotonic() > settle and not bot.trigger.event.is_set())
        assert state(paper.venue) == expected
    finally:
        await paper.close()
