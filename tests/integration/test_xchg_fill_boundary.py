"""The hedge's own fill is seen in the cycle after it, whatever the venue clock's sub-millisecond
part (ccxt + HTTP simulator).

Bybit speaks milliseconds; the paper venue's real-time clock does not stop at them. With a cycle's
clock at x.217430 s and the hedge filled at that same instant, the fill read walked its windows
to that instant: the window ending there was asked up to x.217 (the fill, at x.217430, is after
it) and the next one from x.217, whose answer (the fill, reported at x.217) the adapter then
dropped as earlier than x.217430. The own fill went unseen and was taken for a manual trade."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.xchg_rig import PERP, START, http_bot

SUB_MS = timedelta(microseconds=217_430)


async def test_the_hedge_fill_is_read_in_the_next_cycle_at_a_sub_millisecond_clock(tmp_path):
    async with http_bot(tmp_path) as rig:
        rig.venue.advance_to(START + SUB_MS)  # the embedded venue's clock runs in real time
        first = await rig.app.engine.run_cycle()  # sells the hedge; the fill is at this instant
        assert first.summary.get("orders") == 1, first
        (execution,) = rig.venue.executions("linear", exec_type="Trade")
        assert execution.time.microsecond % 1000  # the case: not on a millisecond
        rig.venue.advance_to(rig.venue.now + timedelta(seconds=1))  # `run --interval 1`
        second = await rig.app.engine.run_cycle()
        assert [f.trade_id for f in await rig.app.store.fills(symbol=PERP)] == [execution.exec_id]
        assert not await rig.events("drift"), second.summary
        assert not second.summary.get("failures"), second.summary
