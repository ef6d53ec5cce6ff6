"""Issue 7.2: fills and funding are never lost after a quiet week (ccxt + HTTP simulator).

Bybit answers /v5/execution/list with at most 7 days from its startTime, and the simulator
refuses a longer explicit span as Bybit does; the bot must walk the windows up to now."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal as D

import pytest

from bot.domain import IntentPurpose
from bot.errors import ExchangeError
from bot.exchange.inprocess import InProcessExchange
from bot.planner import purpose_of
from bot.reconcile import FILL_CURSOR, FUNDING_CURSOR
from tests.integration.xchg_rig import PERP, START, hedged, http_bot


async def _assert_stop_fill_acted_on(rig, link_id: str) -> None:
    """The stop's fill is stored, a stop_fired event written, and our own fill explains the move."""
    stop_fills = [
        f
        for f in await rig.app.store.fills(symbol=PERP)
        if purpose_of(f.client_order_id) == IntentPurpose.STOP
    ]
    assert [f.client_order_id for f in stop_fills] == [link_id]
    assert await rig.events("stop_fired")
    assert not await rig.events("drift")


async def test_a_stop_firing_after_eight_quiet_days_is_recorded_and_acted_on(tmp_path):
    async with http_bot(tmp_path) as rig:
        await hedged(rig)
        for _ in range(8):  # eight quiet days, the bot cycling daily: no execution anywhere
            outcome = await rig.cycle(timedelta(days=1))
            assert outcome.summary.get("orders", 0) == 0, outcome
        (stop,) = rig.resting_stops()
        await rig.set_price(stop.trigger_price * D("1.01"))  # through the trigger: the stop fires
        assert not rig.resting_stops()
        await rig.cycle()
        await _assert_stop_fill_acted_on(rig, stop.link_id)


async def test_every_funding_payment_of_nine_days_away_is_recorded_once(tmp_path):
    async with http_bot(tmp_path) as rig:
        await hedged(rig)
        await rig.cycle(timedelta(hours=9))  # one settlement seen: the cursor is set
        assert await rig.app.store.get_cursor(FUNDING_CURSOR) is not None
        await rig.advance(timedelta(days=9))  # the bot is away; three settlements a day meanwhile
        await rig.cycle()
        venue_ids = sorted(e.exec_id for e in rig.venue.executions("linear", exec_type="Funding"))
        assert len(venue_ids) >= 28
        stored = await rig.app.store.funding(symbol=PERP)
        assert sorted(p.payment_id for p in stored) == venue_ids  # all, each once
        for _ in range(3):  # later reads add nothing twice
            await rig.cycle(timedelta(hours=8))
        stored = await rig.app.store.funding(symbol=PERP)
        ids = [p.payment_id for p in stored]
        assert len(ids) == len(set(ids)) == len(rig.venue.executions("linear", exec_type="Funding"))


async def test_a_fill_read_a_fortnight_late_is_kept_and_the_cursor_moves_on(tmp_path):
    """The hedge's own fill is first read 15 days later (the bot was away): it is still found,
    and the next read starts near now, not at that fill."""
    async with http_bot(tmp_path) as rig:
        await hedged(rig)
        assert not await rig.app.store.fills(symbol=PERP)
        await rig.advance(timedelta(days=15))
        await rig.cycle()
        assert len(await rig.app.store.fills(symbol=PERP)) == 1
        before = rig.sim.front.requests.copy()
        await rig.cycle(timedelta(hours=2))  # funding due again; nothing new executed
        used = {k: v - before.get(k, 0) for k, v in rig.sim.front.requests.items()}
        assert used.get(("GET", "/v5/execution/list"), 0) <= 1
        fill_cursor = await rig.app.store.get_cursor(FILL_CURSOR)
        assert fill_cursor is not None
        assert datetime.fromisoformat(fill_cursor) > START + timedelta(days=7)


async def test_both_ports_answer_the_same_seven_day_window(tmp_path):
    """Parity: the in-process port answers execution windows as the HTTP front does."""
    async with http_bot(tmp_path) as rig:
        await hedged(rig)
        await rig.advance(timedelta(days=10))
        inproc = InProcessExchange(rig.venue)
        ccxt_port = rig.app.port
        for since, until in [
            (START, None),  # 7 days from the start: the hedge fill
            (START + timedelta(days=8), None),  # nothing of ours
            (None, None),  # the last 7 days
            (START - timedelta(days=1), START + timedelta(days=5)),
        ]:
            a = await inproc.fetch_fills(None, since, until)
            b = await ccxt_port.fetch_fills(None, since, until)
            assert [f.trade_id for f in a] == [f.trade_id for f in b], (since, until)
            a = await inproc.fetch_funding_payments(None, since, until)
            b = await ccxt_port.fetch_funding_payments(None, since, until)
            assert [p.payment_id for p in a] == [p.payment_id for p in b], (since, until)
        for port in (inproc, ccxt_port):
            with pytest.raises(ExchangeError, match="7 days"):
                await port.fetch_fills(None, START, START + timedelta(days=8))


async def test_a_stop_firing_after_two_hundred_days_away_is_acted_on_at_once(tmp_path):
    """The fill cursor is further behind than one read scans (16 windows of 6 days): the newest
    window is read as well, so the stop's fill explains the move in the cycle that sees it."""
    async with http_bot(tmp_path) as rig:
        await hedged(rig)
        await rig.cycle(timedelta(hours=1))
        await rig.advance(timedelta(days=200))
        (stop,) = rig.resting_stops()
        await rig.set_price(stop.trigger_price * D("1.01"))
        assert not rig.resting_stops()
        await rig.cycle()
        await _assert_stop_fill_acted_on(rig, stop.link_id)


async def test_funding_of_two_hundred_days_away_is_all_recorded_as_the_cursor_catches_up(tmp_path):
    """Reading the newest window early must not move the cursor past the windows in between."""
    async with http_bot(tmp_path) as rig:
        await hedged(rig)
        await rig.cycle(timedelta(hours=9))
        await rig.advance(timedelta(days=200))
        for _ in range(4):  # each read scans 16 more windows of 6 days
            await rig.cycle(timedelta(hours=9))
        venue_ids = sorted(e.exec_id for e in rig.venue.executions("linear", exec_type="Funding"))
        stored = sorted(p.payment_id for p in await rig.app.store.funding(symbol=PERP))
        assert stored == venue_ids
