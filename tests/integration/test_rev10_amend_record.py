"""rev10: an amendment the venue applied but whose answer was lost (or a crash before its record)
leaves the stored stop naming the old quantity and trigger; the next cycles see the stop resting
as wanted and never amend it again, so the database kept the old figures for good. Reconcile
takes a resting stop's quantity and trigger from the venue."""

from __future__ import annotations

from decimal import Decimal as D

from bot.domain import IntentPurpose, IntentStatus
from tests.integration.test_batch_orders import bot


async def test_a_stop_moved_with_its_answer_lost_is_recorded_as_it_rests(tmp_path) -> None:
    async with bot(tmp_path, ["C00"]) as b:
        for _ in range(3):
            await b.cycle()
        b.venue.set_wallet("C00", D(70))
        b.sim.faults.add("order/amend", "drop_after_accept")
        await b.cycle()
        assert b.sim.faults.fired == [("drop_after_accept", "order/amend")]
        await b.cycle()
        (resting,) = b.stops()
        assert resting.qty == D(70)
        (intent,) = await b.app.store.intents(
            statuses=[IntentStatus.OPEN], purpose=IntentPurpose.STOP
        )
        assert intent.client_order_id == resting.link_id
        assert (intent.qty, intent.trigger_price) == (resting.qty, resting.trigger_price)
        await b.cycle()  # a steady cycle writes nothing for a stop resting as stored
        (again,) = await b.app.store.intents(
            statuses=[IntentStatus.OPEN], purpose=IntentPurpose.STOP
        )
        assert again.updated_at == intent.updated_at
