"""A liquidation by the venue (Bybit execType BustTrade) never reaches the fills table: ccxt's
fetch_my_trades asks for execType=Trade only, so the bot sees the short vanish as drift and
neither halts nor waits as after a stop fill (ccxt + the HTTP simulator). Known gap, not fixed:
the test fails until liquidations are read and acted on."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tests.integration.test_stops_liquidation import _config, rig


@pytest.mark.xfail(strict=True, reason="liquidation executions are not read (execType=Trade)")
async def test_a_liquidation_is_recorded_as_a_fill_and_halts(tmp_path):
    cfg = _config("1.5", 'max_overhedge = 1.5\non_stop_fill = "halt"')
    async with rig(tmp_path, cfg, usdt="5000") as r:
        await r.cycle()
        await r.cycle()
        pos = await r.short()
        assert pos is not None and pos.liquidation_price is not None
        for stop in await r.stops():  # no stop: the venue's liquidation engine closes the short
            r.paper.venue.cancel_order("linear", "BTCUSDT", order_id=stop.venue_order_id)
        await r.move(pos.liquidation_price * D("1.05"))
        assert await r.short() is None and len(r.paper.venue.liquidations) == 1
        (exec_id,) = [x.exec_id for x in r.paper.venue.liquidations]
        for _ in range(2):
            await r.cycle()
        stored = {f.trade_id for f in await r.paper.store.fills()}
        assert exec_id in stored, "the liquidation's execution is not in the fills table"
        assert (await r.paper.store.trading_state())[0].value == "halted"
