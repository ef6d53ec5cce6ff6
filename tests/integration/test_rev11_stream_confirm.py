"""Review of issue 11: a holding that jumps by more than half (cycle_memory.HOLDING_JUMP) waits
for a second observation, and in stream mode nothing started that second cycle but the polling
interval, so the case the issue opens with, a freshly bought coin (0 -> X is always a jump) or a
holding doubled, stayed unhedged for a whole interval. Now a cycle that sets a change aside is
followed by its confirming REST read `[bot] confirm_seconds` (default 1) later.
"""

from __future__ import annotations

from decimal import Decimal

from bot.sim.control_client import SimControl
from tests.integration.paper import make_paper, make_venue
from tests.integration.stream_rig import perp_size, stream_bot, until


async def test_a_doubled_holding_is_hedged_without_waiting_for_the_poll(tmp_path) -> None:
    paper = await make_paper(
        f"sqlite+aiosqlite:///{tmp_path / 'confirm.db'}", venue=make_venue(), transport="http"
    )
    try:
        async with stream_bot(paper, interval=3600.0) as bot, SimControl(bot.sim.url) as ctl:
            await until(lambda: perp_size(paper.venue) == Decimal(-2))
            await bot.ready()
            await ctl.wallet("BTC", "4")  # bought as much again
            await until(lambda: bot.trigger.reasons["balance"] >= 1)
            await until(lambda: perp_size(paper.venue) == Decimal(-4), 8)
    finally:
        await paper.close()
