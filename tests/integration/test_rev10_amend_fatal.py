"""rev10: the venue refusing an amendment as it refuses us as a whole (a key without trade
permission, Bybit 10005) halts the bot, as the same refusal of a create or cancel does. It was
taken for an unknown outcome and logged as 'planned again next cycle', every cycle, while the
grown short rested under the old stop's smaller quantity."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from bot.domain import TradingState
from bot.errors import FatalExchangeError
from tests.integration.test_batch_orders import bot


async def test_a_fatal_refusal_of_an_amendment_halts(tmp_path) -> None:
    async with bot(tmp_path, ["C00"]) as b:
        for _ in range(3):
            await b.cycle()
        b.venue.set_wallet("C00", D(70))
        b.sim.faults.add("order/amend", "reject", param=10005)
        with pytest.raises(FatalExchangeError):
            await b.cycle()
        assert b.sim.faults.fired == [("reject", "order/amend")]
        state, _ = await b.app.store.trading_state()
        assert state == TradingState.HALTED
