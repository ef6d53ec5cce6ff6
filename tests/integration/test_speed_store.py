"""A lean store (issue 10.4): a steady cycle's database work in few transactions, the planner's
cooldown and the order-rate guard from aggregate queries instead of loading recent intents."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import event

from bot.domain import IntentPurpose, IntentStatus, OrderIntent, OrderKind, Side, TradingState
from bot.store import CycleRecord, EventRecord, Store, StoreConflict, TargetRecord
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


async def test_a_steady_cycle_takes_one_read_and_one_write_transaction(tmp_path) -> None:
    paper = await make_paper(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    try:
        for _ in range(4):  # hedge, protect, settle
            await paper.cycle()
        begun: list[object] = []
        event.listen(paper.store.engine.sync_engine, "begin", begun.append)
        outcome = await paper.cycle()
        assert outcome.outcome == "ok" and outcome.summary["orders"] == 0
        # the cycle's reads (number, state, open intents, hedge activity); its record, finished
        assert len(begun) == 2, len(begun)
    finally:
        await paper.close()


async def test_a_target_row_is_written_when_the_target_changes_not_every_cycle(tmp_path) -> None:
    paper = await make_paper(f"sqlite+aiosqlite:///{tmp_path / 't.db'}")

    async def rows() -> int:
        async with paper.store.engine.connect() as conn:
            return int((await conn.exec_driver_sql("SELECT count(*) FROM targets")).scalar_one())

    try:
        for _ in range(4):  # hedge, protect, settle
            await paper.cycle()
        before = await rows()
        await paper.cycle()
        await paper.cycle()
        assert await rows() == before  # nothing changed: no rows
        paper.venue.set_wallet("BTC", paper.venue.account.wallet["BTC"] * D("1.1"))  # trusted
        await paper.cycle()
        latest = await paper.store.last_targets()
        assert await rows() == before + 1  # the BTC hedge's new target only
        btc = next(t for (h, s), t in latest.items() if s == "BTC/USDT:USDT")
        assert btc.cycle == 7
    finally:
        await paper.close()


def _record(number: int, *intents: OrderIntent) -> CycleRecord:
    return CycleRecord(
        number=number,
        started_at=T0,
        trading_state=TradingState.ACTIVE,
        targets=[TargetRecord("btc", "BTC/USDT:USDT", D(0), D(-1), D(1), "r", {})],
        intents=list(intents),
        events=[EventRecord("note", "n", "info", {})],
    )


async def test_a_deferred_cycle_record_is_written_before_anything_else_of_its_cycle(
    tmp_path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'd.db'}"
    store, reader = Store.from_url(url, clock=lambda: T0), Store.from_url(url, clock=lambda: T0)
    await store.create_schema()
    try:
        await store.record_cycle(_record(1), defer=True)
        assert await reader.cycles() == []  # held: no transaction yet
        await store.finish_cycle(1, "ok", {"orders": 0})
        [one] = await reader.cycles()
        assert (one.number, one.outcome, one.summary) == (1, "ok", {"orders": 0})
        assert len(await reader.events()) == 1 and len(await reader.last_targets()) == 1
        # a stop placed in the cycle: the cycle row goes in with (before) its intent
        await store.record_cycle(_record(2), defer=True)
        await store.add_intents([_intent("s2", "BTC/USDT:USDT", IntentPurpose.STOP)])
        assert [c.outcome for c in await reader.cycles()] == ["started", "ok"]
        await store.finish_cycle(2, "ok", {})
        assert [c.outcome for c in await reader.cycles()] == ["ok", "ok"]
        # a record with intents is never held: they are written ahead of the send
        await store.record_cycle(_record(3, _intent("h3", "BTC/USDT:USDT")), defer=True)
        assert [i.client_order_id for i in await reader.intents()] == ["h3", "s2"]
        await store.finish_cycle(3, "ok", {})
        # a duplicate number surfaces when the held row is written, as StoreConflict
        await store.record_cycle(_record(3), defer=True)
        with pytest.raises(StoreConflict):
            await store.finish_cycle(3, "ok", {})
        # a cycle cut short (no finish): close writes it, "started" as before
        await store.record_cycle(_record(4), defer=True)
    finally:
        await store.close()
    try:
        assert [(c.number, c.outcome) for c in await reader.cycles()][:2] == [
            (4, "started"),
            (3, "ok"),
        ]
    finally:
        await reader.close()


async def test_a_held_record_is_written_once_when_two_transactions_run_at_once(tmp_path) -> None:
    # the alert watcher reads through the daemon's store while a cycle finishes
    url = f"sqlite+aiosqlite:///{tmp_path / 'race.db'}"
    store = Store.from_url(url, clock=lambda: T0)
    await store.create_schema()
    try:
        for number in (1, 2):
            await store.record_cycle(_record(number), defer=True)
            await asyncio.gather(
                store.last_targets(), store.finish_cycle(number, "ok", {}), store.cycles()
            )
        assert [(c.number, c.outcome) for c in await store.cycles()] == [(2, "ok"), (1, "ok")]
    finally:
        await store.close()


async def test_the_cycle_reads_answer_as_the_single_reads(tmp_path) -> None:
    now = [T0]
    store = Store.from_url("sqlite+aiosqlite:///:memory:", clock=lambda: now[0])
    await store.create_schema()
    try:
        await store.record_cycle(_record(1, _intent("a", "BTC/USDT:USDT")))
        await store.set_trading_state(TradingState.HALTED, "why")
        await store.set_cursor("c", "v")
        now[0] = T0 + timedelta(seconds=30)
        await store.add_intents([_intent("b", "ETH/USDT:USDT"), _intent("c", "ETH/USDT:USDT")])
        await store.update_intent("a", IntentStatus.FILLED)
        await store.update_intent("c", IntentStatus.LOST)
        reads = await store.cycle_reads("c", T0 + timedelta(seconds=10))
        assert (reads.number, reads.trading_state, reads.state_reason, reads.cursor) == (
            2,
            TradingState.HALTED,
            "why",
            "v",
        )
        assert [i.client_order_id for i in reads.open_intents] == ["b"]
        assert (reads.last_order_at, reads.recent_orders) == (
            {"BTC/USDT:USDT": T0, "ETH/USDT:USDT": T0 + timedelta(seconds=30)},
            2,
        )
        assert (await store.cycle_reads("none", T0)).cursor is None
        # the cooldown's window: an older newest intent cannot hold an order back, so it is left
        # out (and only recent rows are grouped); the count keeps its own window
        windowed = await store.cycle_reads(
            "c", T0 + timedelta(seconds=10), T0 + timedelta(seconds=5)
        )
        assert (windowed.last_order_at, windowed.recent_orders) == (
            {"ETH/USDT:USDT": T0 + timedelta(seconds=30)},
            2,
        )
    finally:
        await store.close()


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
