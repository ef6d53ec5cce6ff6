"""A fired stop-loss is acted on even when the cycle that stores its fill fails right after (rev7
review, defect 2), or the process dies there (ccxt + the HTTP simulator)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest

from bot.domain import TradingState
from bot.engine import Engine
from bot.errors import TransientError
from tests.integration.test_stops_liquidation import BTC, _config, rig


def _funding_fails_once(port) -> list[str]:  # type: ignore[no-untyped-def]
    real = port.fetch_funding_payments
    calls: list[str] = []

    async def funding_fails_once(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append("funding")
        if len(calls) == 1:
            raise TransientError("fetch_funding_payments: HTTP 503", operation="read")
        return await real(*args, **kwargs)

    port.fetch_funding_payments = funding_fails_once
    return calls


async def test_a_stop_fill_stored_by_a_cycle_that_then_failed_still_halts(tmp_path):
    """bot/reconcile.py:165-183 + bot/engine.py:204-205: ingest stores the stop's fill, then the
    funding read fails (TransientError) and the cycle is skipped before on_fills ran. The next
    cycle finds the fill already in the database (not fresh), so it is never taken for a stop
    fill: on_stop_fill = "halt" never halts (and "rehedge" gets no cooldown: the fill reads as
    drift and the short is sold again at once)."""
    async with rig(tmp_path, _config("0.5", 'on_stop_fill = "halt"')) as r:
        await r.cycle()
        await r.cycle()
        (stop,) = await r.stops()
        calls = _funding_fails_once(r.paper.engine.port)
        await r.control.price("BTC", stop.trigger_price * D("1.002"))
        skipped = await r.cycle(timedelta(hours=2))  # past a settlement: funding is read too
        assert skipped.outcome == "skipped", skipped
        assert calls and "venue read failed" in skipped.summary["reason"]
        stored = await r.paper.store.fills()
        assert any("-s" in (f.client_order_id or "") for f in stored), "fill stored already"
        assert await r.short() is None  # the stop did fire
        for _ in range(3):
            await r.cycle()
        state, reason = await r.paper.store.trading_state()
        assert state == TradingState.HALTED, f"stop fired, on_stop_fill = halt, state {state}"
        assert reason == f"stop-loss fired on {BTC}"


async def test_a_stop_fill_stored_by_a_cycle_that_then_failed_still_waits_to_rehedge(tmp_path):
    """The same in the default "rehedge" mode: no stop_fired warning, no cooldown; the short is
    sold again as soon as the price is trusted, right where the stop fired. (The cooldown runs
    from the fill's time, which the venue stamps at the start of the 2 hours the skipped cycle
    advances: 4 hours leave room for the minutes after.)"""
    cfg = _config("0.5", "stop_rehedge_cooldown_seconds = 14400")
    async with rig(tmp_path, cfg) as r:
        await r.cycle()
        await r.cycle()
        (stop,) = await r.stops()
        calls = _funding_fails_once(r.paper.engine.port)
        await r.control.price("BTC", stop.trigger_price * D("1.002"))
        skipped = await r.cycle(timedelta(hours=2))
        assert skipped.outcome == "skipped" and calls
        assert await r.short() is None  # the stop did fire
        for _ in range(3):  # 3 minutes, well inside the cooldown
            await r.cycle()
        assert await r.short() is None, "re-hedged at once, without the cooldown"
        events = await r.paper.store.events(kind="stop_fired")
        assert events, "a fired stop-loss left no stop_fired warning"


def _restart(r) -> Engine:  # type: ignore[no-untyped-def]
    """A new process on the same database and account: nothing kept in memory."""
    old = r.paper.engine
    engine = Engine(port=old.port, store=old.store, config=old.config, clock=old.clock, tag="t002")
    r.paper.engine = engine
    return engine


async def _crash_after_storing_the_stop_fill(r) -> None:  # type: ignore[no-untyped-def]
    """The stop fires; the cycle that stores its fill dies right after (as a SIGKILL would)."""
    await r.cycle()
    await r.cycle()
    (stop,) = await r.stops()
    port = r.paper.engine.port

    async def dies(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("killed")

    real, port.fetch_funding_payments = port.fetch_funding_payments, dies
    await r.control.price("BTC", stop.trigger_price * D("1.002"))
    with pytest.raises(RuntimeError):
        await r.cycle(timedelta(hours=2))
    port.fetch_funding_payments = real
    assert any("-s" in (f.client_order_id or "") for f in await r.paper.store.fills())
    assert not await r.paper.store.events(kind="stop_fired")


async def test_a_stop_fill_stored_just_before_a_crash_halts_after_the_restart(tmp_path):
    async with rig(tmp_path, _config("0.5", 'on_stop_fill = "halt"')) as r:
        await _crash_after_storing_the_stop_fill(r)
        engine = _restart(r)
        await engine.start()
        assert (await r.cycle()).outcome == "halted"
        state, reason = await r.paper.store.trading_state()
        assert (state, reason) == (TradingState.HALTED, f"stop-loss fired on {BTC}")
        assert len(await r.paper.store.events(kind="stop_fired")) == 1
        # acted on once: a resumed bot restarted again is not halted by the same fill
        await r.paper.store.set_trading_state(TradingState.ACTIVE, "")
        engine = _restart(r)
        await engine.start()
        assert (await r.cycle()).outcome == "ok"
        assert await r.paper.store.trading_state() == (TradingState.ACTIVE, "")
        assert len(await r.paper.store.events(kind="stop_fired")) == 1


async def test_a_stop_fill_stored_just_before_a_crash_still_waits_to_rehedge(tmp_path):
    async with rig(tmp_path, _config("0.5", "stop_rehedge_cooldown_seconds = 14400")) as r:
        await _crash_after_storing_the_stop_fill(r)
        engine = _restart(r)
        await engine.start()
        for _ in range(3):
            await r.cycle()
        assert await r.short() is None, "re-hedged at once after the restart"
        (event,) = await r.paper.store.events(kind="stop_fired")
        assert event.data["rehedge_after"]
