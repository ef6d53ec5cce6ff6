"""Review (rev7): a fired stop-loss is acted on even when the cycle that reads its fill fails
after storing it (ccxt + the HTTP simulator; the funding read fails once)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

from bot.domain import TradingState
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
    sold again as soon as the price is trusted, right where the stop fired."""
    cfg = _config("0.5", "stop_rehedge_cooldown_seconds = 3600")
    async with rig(tmp_path, cfg) as r:
        await r.cycle()
        await r.cycle()
        (stop,) = await r.stops()
        calls = _funding_fails_once(r.paper.engine.port)
        await r.control.price("BTC", stop.trigger_price * D("1.002"))
        skipped = await r.cycle(timedelta(hours=2))
        assert skipped.outcome == "skipped" and calls
        assert await r.short() is None  # the stop did fire
        for _ in range(3):  # 3 minutes, well inside the hour's cooldown
            await r.cycle()
        assert await r.short() is None, "re-hedged at once, without the cooldown"
        events = await r.paper.store.events(kind="stop_fired")
        assert events, "a fired stop-loss left no stop_fired warning"
