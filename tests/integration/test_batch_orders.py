"""Orders in batches on the production path (ccxt's bybit class against the HTTP simulator): a
batch's orders answered one by one and recorded so; a batch whose answer is lost reconciled by
client id for every order in it, never sent again; a stop moved in place, and the fallback when
the venue says it is gone."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from bot.app import App, build_app
from bot.domain import IntentPurpose, IntentStatus, OrderAck, OrderIntent, Side
from bot.errors import AmbiguousSubmit
from bot.execution import send_intents
from bot.settings import RuntimeSettings, parse_config
from bot.sim.markets import VenueConfig
from bot.sim.server import RunningSimulator, start_simulator
from bot.sim.synthetic import SyntheticFeed
from bot.sim.venue import Venue
from bot.store.repo import Store
from tests.integration.http_rig import ccxt_port
from tests.integration.test_speed_limits import _config

START = datetime(2024, 3, 1, 0, 30, tzinfo=UTC)
BASES = ["C00", "C01", "C02"]
BATCH = ("POST", "/v5/order/create-batch")


def _venue(bases: list[str] = BASES) -> Venue:
    feed = SyntheticFeed({b: 100 for b in bases}, seed=3)
    wallet = {"USDT": "1000000", **{b: "50" for b in bases}}
    return Venue(feed, START, VenueConfig.for_bases(bases, wallet=wallet))


def _sell(n: int, base: str, qty: str = "10", **kw: object) -> OrderIntent:
    return OrderIntent(f"t-{n}", base.lower(), 1, f"{base}/USDT:USDT", Side.SELL, D(qty), **kw)  # type: ignore[arg-type]


def _shorts(venue: Venue) -> dict[str, D]:
    return {s: p.size for s, p in venue.account.positions.items() if p.size}


async def test_a_batch_records_each_order_and_a_refusal_as_that_orders(tmp_path) -> None:
    venue = _venue()
    sim = await start_simulator(venue=venue)
    port = ccxt_port(sim.url)
    store = Store.from_url(f"sqlite+aiosqlite:///{tmp_path / 'b.db'}")
    await store.create_schema()
    intents = [
        _sell(0, "C00"),
        OrderIntent("t-1", "c01", 1, "C01/USDT:USDT", Side.BUY, D(5), reduce_only=True),
        _sell(2, "C02"),
    ]
    try:
        await store.add_intents(intents)
        result = await send_intents(port, store, intents, cycle=1)
        stored = {i.client_order_id: i for i in await store.intents()}
        assert result.sent == ["t-0", "t-2"] and [r.reason for r in result.rejected] == [
            "Reduce-only rule not satisfied: position is zero (code 110017)"
        ]
        assert stored["t-1"].status == IntentStatus.REJECTED
        assert {stored[c].status for c in ("t-0", "t-2")} == {IntentStatus.OPEN}
        assert sim.front.requests[BATCH] == 1 and _shorts(venue) == {
            "C00USDT": D(-10),
            "C02USDT": D(-10),
        }
    finally:
        await store.close()
        await port.close()
        await sim.stop()


@pytest.mark.parametrize("fault", ["drop_after_accept", "http503"])
async def test_a_batch_whose_answer_is_lost_is_looked_up_never_resent(fault: str) -> None:
    venue = _venue()
    sim = await start_simulator(venue=venue)
    port = ccxt_port(sim.url)
    # drop_after_accept: every order got through, the answer did not; http503: none did
    sim.faults.add("order/create-batch", fault)
    try:
        outcomes = await port.create_orders([_sell(n, b) for n, b in enumerate(BASES)])
        if fault == "http503":
            assert all(isinstance(o, AmbiguousSubmit) for o in outcomes), outcomes
            assert _shorts(venue) == {}
        else:
            assert [o.status for o in outcomes if isinstance(o, OrderAck)] == [
                IntentStatus.OPEN
            ] * 3
            assert _shorts(venue) == {f"{b}USDT": D(-10) for b in BASES}
        sent = Counter(sim.front.requests)
        assert sent[BATCH] == 1 and sent[("POST", "/v5/order/create")] == 0, sent
    finally:
        await port.close()
        await sim.stop()


@dataclass
class Bot:
    sim: RunningSimulator
    venue: Venue
    app: App

    async def cycle(self) -> dict:
        self.venue.advance_to(self.venue.now + timedelta(minutes=1))
        return (await self.app.engine.run_cycle()).summary

    def stops(self) -> list:
        return [o for o in self.venue.book.open_orders() if o.is_conditional]


@asynccontextmanager
async def bot(tmp_path, bases: list[str] = BASES) -> AsyncIterator[Bot]:
    venue = _venue(bases)
    sim = await start_simulator(venue=venue)
    runtime = RuntimeSettings(
        mode="paper", venue_url=sim.url, database_url=f"sqlite+aiosqlite:///{tmp_path / 'e.db'}"
    )
    app = await build_app(runtime, parse_config(_config(bases)), clock=lambda: venue.now)
    try:
        yield Bot(sim, venue, app)
    finally:
        await app.close()
        await sim.stop()


async def test_a_cycle_whose_batch_answer_is_lost_hedges_each_coin_once(tmp_path) -> None:
    async with bot(tmp_path) as b:
        b.sim.faults.add("order/create-batch", "drop_after_accept")
        first = await b.cycle()
        assert first["orders"] == 3 and first["unknown"] == 0, first  # found by their ids
        assert b.sim.faults.fired == [("drop_after_accept", "order/create-batch")]
        for _ in range(2):
            await b.cycle()
        assert _shorts(b.venue) == {f"{c}USDT": D(-50) for c in BASES}
        hedges = [o for o in b.venue.book.orders.values() if not o.is_conditional]
        assert len(hedges) == 3  # no order sent twice
        assert len(b.stops()) == 3


async def test_a_grown_hedge_moves_its_stop_in_place(tmp_path) -> None:
    async with bot(tmp_path, ["C00"]) as b:
        for _ in range(3):
            await b.cycle()
        (stop,) = b.stops()
        b.venue.set_wallet("C00", D(70))
        summary = await b.cycle()
        assert (summary["stops_amended"], summary["stops_placed"]) == (1, 0), summary
        (moved,) = b.stops()
        assert (moved.order_id, moved.link_id, moved.qty) == (stop.order_id, stop.link_id, D(70))
        (intent,) = await b.app.store.intents(
            statuses=[IntentStatus.OPEN], purpose=IntentPurpose.STOP
        )
        assert (intent.client_order_id, intent.qty) == (stop.link_id, D(70))
        assert intent.trigger_price == moved.trigger_price


@pytest.mark.parametrize("answer", ["reject", "drop_after_accept"])
async def test_a_failed_amendment_still_ends_with_one_stop(tmp_path, answer: str) -> None:
    """reject=110001: the venue says the stop is gone, so a new one is placed and the old one
    (it was there after all) cancelled once the new one rests; a lost answer: the stop rests,
    moved or not, and the next cycle sees it moved."""
    async with bot(tmp_path, ["C00"]) as b:
        for _ in range(3):
            await b.cycle()
        (stop,) = b.stops()
        b.venue.set_wallet("C00", D(70))
        b.sim.faults.add("order/amend", answer, param=110001 if answer == "reject" else None)
        summary = await b.cycle()
        assert b.sim.front.requests[("POST", "/v5/order/amend")] == 1
        (resting,) = b.stops()
        assert resting.qty == D(70)
        if answer == "reject":
            assert (summary["stops_placed"], summary["stops_cancelled"]) == (1, 1), summary
            assert resting.link_id != stop.link_id
        else:
            assert summary["stops_placed"] == summary["stops_amended"] == 0, summary
            assert resting.order_id == stop.order_id
            later = await b.cycle()
            assert later["stops_placed"] == later["stops_amended"] == 0, later
        assert len(b.stops()) == 1


async def test_batches_are_paced_per_order_and_never_refused() -> None:
    """Bybit counts every order of a batch against the 10 linear creates a second: two batches
    of 8 in a row must not land in one second. The bot's budget counts them so (the second
    waits), and the simulator, enforcing Bybit's windows, refuses nothing."""
    bases = [f"C{i:02d}" for i in range(16)]
    venue = _venue(bases)
    sim = await start_simulator(venue=venue, rate_limits=True)
    port = ccxt_port(sim.url)
    try:
        await port.load_markets()
        first = await port.create_orders([_sell(n, b, "1") for n, b in enumerate(bases[:8])])
        second = await port.create_orders([_sell(8 + n, b, "1") for n, b in enumerate(bases[8:])])
        assert all(isinstance(o, OrderAck) for o in [*first, *second]), [*first, *second]
        assert sim.front.requests[BATCH] == 2
        assert sim.front.limits is not None and not sim.front.limits.refused
        assert len(_shorts(venue)) == 16
    finally:
        await port.close()
        await sim.stop()
