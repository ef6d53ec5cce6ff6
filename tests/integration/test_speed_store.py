"""A lean store (issue 10.4): a steady cycle's database work in few transactions, the planner's
cooldown and the order-rate guard from aggregate queries instead of loading recent intents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from sqlalchemy import event

from bot.domain import IntentPurpose, IntentStatus, OrderIntent, OrderKind, Side, TradingState
from bot.store import CycleRecord, EventRecord, Store, TargetRecord
from tests.integration.paper import DEMO, make_paper

T0 = datetime(2024, 3, 1, tzinfo=UTC)


def _intent(cid: str, symbol: str, purpose: IntentPurpose = IntentPurpose.HEDGE) -> OrderIntent:
    return OrderIntent(
        client_order_id=cid,
        cycle=1,
        hedge="btc",
        symbol=symbol,
        side=Side.SELL,
        kind=OrderKind.MARKET,
        purpose=purpose,
        qty=D("0.1"),
    )


async def test_hedge_activity_is_the_newest_sent_intent_per_symbol_and_the_recent_count() -> None:
    now = [T0]
    store = Store.from_url("sqlite+aiosqlite:///:memory:", clock=lambda: now[0])
    await store.create_schema()
    try:
        await store.add_intents([_intent("a", "BTC/USDT:USDT")])
        now[0] = T0 + timedelta(seconds=30)
        await store.add_intents([_intent("b", "BTC/USDT:USDT"), _intent("c", "ETH/USDT:USDT")])
        await store.update_intent("c", IntentStatus.LOST)  # never reached the venue
        now[0] = T0 + timedelta(seconds=90)
        await store.add_intents([_intent("s", "ETH/USDT:USDT", IntentPurpose.STOP)])
        last, recent = await store.hedge_activity(T0 + timedelta(seconds=10))
        assert last == {"BTC/USDT:USDT": T0 + timedelta(seconds=30)}
        assert recent == 2  # b and c: written after the given time, stops not counted
    finally:
        await store.close()


async def test_a_steady_cycle_takes_five_transactions(tmp_path) -> None:
    paper = await make_paper(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    try:
        for _ in range(4):  # hedge, protect, settle
            await paper.cycle()
        begun: list[object] = []
        event.listen(paper.store.engine.sync_engine, "begin", begun.append)
        outcome = await paper.cycle()
        assert outcome.outcome == "ok" and outcome.summary["orders"] == 0
        # cycle start, open intents, hedge activity, the cycle record, its finish
        assert len(begun) == 5, len(begun)
    finally:
        await paper.close()


async def test_prune_deletes_old_cycles_and_targets_but_keeps_what_a_restart_needs() -> None:
    now = [T0]
    store = Store.from_url("sqlite+aiosqlite:///:memory:", clock=lambda: now[0])
    await store.create_schema()
    try:
        for number, day, hedges in ((1, 0, ("btc", "eth")), (2, 1, ("btc",)), (3, 40, ("btc",))):
            now[0] = T0 + timedelta(days=day)
            await store.record_cycle(
                CycleRecord(
                    number=number,
                    started_at=now[0],
                    trading_state=TradingState.ACTIVE,
                    targets=[
                        TargetRecord(h, f"{h.upper()}/USDT:USDT", D(0), D(-1), D(1), "r", {})
                        for h in hedges
                    ],
                    intents=[],
                    rejections=[],
                    events=[EventRecord("note", f"cycle {number}", "info", {})],
                )
            )
        removed = await store.prune(T0 + timedelta(days=30))
        assert removed == {"cycles": 2, "targets": 2}  # btc of cycles 1, 2; eth's is its latest
        assert [c.number for c in await store.cycles()] == [3]
        kept = await store.last_targets()
        assert {k[0]: t.cycle for k, t in kept.items()} == {"btc": 3, "eth": 1}
        assert len(await store.events()) == 3  # events stay
        assert await store.next_cycle_number() == 4
        # the newest cycle stays even when it is old too: it numbers the next one
        assert await store.prune(T0 + timedelta(days=400)) == {"cycles": 0, "targets": 0}
    finally:
        await store.close()


async def test_the_engine_prunes_by_the_configured_age(tmp_path) -> None:
    config = "[bot]\nretention_days = 0.25\n" + DEMO  # six hours
    paper = await make_paper(f"sqlite+aiosqlite:///{tmp_path / 'r.db'}", config=config)
    try:
        for _ in range(8):
            await paper.cycle(advance=timedelta(hours=2))
        numbers = [c.number for c in await paper.store.cycles()]
        assert numbers[0] == 8 and len(numbers) <= 4, numbers  # ~6 h of 2-hourly cycles
    finally:
        await paper.close()
