"""The backtest's MemoryStore answers like the SQL Store: the store's own tests, run against it.

Left out: the tests about what a database does to values (exact NUMERIC/TEXT round trips, refused
floats and naive times) and about reopening a database, which a memory store has no part in.
"""

from __future__ import annotations

import pytest

from bot.backtest.memory_store import MemoryStore
from tests.integration import test_store_repo as sql

SHARED = (
    "test_times_come_back_aware_utc",
    "test_fills_are_idempotent_and_get_their_hedge",
    "test_fills_filter_and_order",
    "test_funding_is_idempotent_and_exact",
    "test_record_cycle_writes_everything",
    "test_record_cycle_is_all_or_nothing",
    "test_intent_lifecycle",
    "test_venue_rejection_is_recorded_as_data",
    "test_add_intents_outside_a_cycle",
    "test_cursors",
    "test_bars_cache",
    "test_last_targets_keep_the_latest_per_hedge",
    "test_events_newest_first_and_by_kind",
    "test_finish_unknown_cycle",
)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def clocked() -> tuple[MemoryStore, sql.Clock]:
    clock = sql.Clock()
    return MemoryStore(clock=clock), clock


for _name in SHARED:
    globals()[_name] = getattr(sql, _name)


async def test_cycle_start_and_hedge_activity_answer_like_the_sql_store() -> None:
    from datetime import UTC, datetime, timedelta

    from bot.domain import IntentPurpose, IntentStatus, TradingState
    from bot.store import Store
    from tests.integration.test_speed_store import _intent

    t0 = datetime(2024, 3, 1, tzinfo=UTC)
    now = [t0]
    sql_store = Store.from_url("sqlite+aiosqlite:///:memory:", clock=lambda: now[0])
    await sql_store.create_schema()
    answers = []
    try:
        for s in (sql_store, MemoryStore(clock=lambda: now[0])):
            now[0] = t0
            await s.set_trading_state(TradingState.HALTED, "test")
            await s.set_cursor("flattened_hedges", '["btc"]')
            await s.add_intents([_intent("a", "BTC/USDT:USDT")])
            now[0] = t0 + timedelta(seconds=30)
            await s.add_intents([_intent("b", "BTC/USDT:USDT"), _intent("c", "ETH/USDT:USDT")])
            await s.update_intent("c", IntentStatus.LOST)
            now[0] = t0 + timedelta(seconds=90)
            await s.add_intents([_intent("s", "ETH/USDT:USDT", IntentPurpose.STOP)])
            answers.append(
                (
                    await s.cycle_start("flattened_hedges"),
                    await s.hedge_activity(t0 + timedelta(seconds=10)),
                )
            )
    finally:
        await sql_store.close()
    assert answers[0] == answers[1]
    assert answers[1][1] == ({"BTC/USDT:USDT": t0 + timedelta(seconds=30)}, 2)


def test_every_method_of_the_store_is_there_with_the_same_signature() -> None:
    """A method added to the Store must be added here too, or backtests break (they did once)."""
    import inspect

    from bot.store import Store

    sql_only = {"engine", "from_url"}  # the SQL engine itself and its constructor
    for name, member in inspect.getmembers(Store):
        if name.startswith("_") or name in sql_only or not callable(member):
            continue
        assert hasattr(MemoryStore, name), f"MemoryStore lacks Store.{name}"
        ours, theirs = inspect.signature(getattr(MemoryStore, name)), inspect.signature(member)
        assert list(ours.parameters) == list(theirs.parameters), name


async def test_indexed_reads_answer_like_the_sql_store_over_a_long_history() -> None:
    """The memory store keeps indexes (cycles by start, intents not final, hedge intents' times)
    so that a year of history costs nothing per cycle: the answers stay the SQL store's, also
    with cycles recorded out of start order and intents finished, lost or left open."""
    from datetime import UTC, datetime, timedelta

    from bot.domain import IntentPurpose, IntentStatus, TradingState
    from bot.store import CycleRecord, Store
    from tests.integration.test_speed_store import _intent

    t0 = datetime(2024, 3, 1, tzinfo=UTC)
    now = [t0]
    opened = (IntentStatus.PENDING, IntentStatus.UNKNOWN, IntentStatus.OPEN)
    fates = (IntentStatus.FILLED, IntentStatus.OPEN, IntentStatus.LOST, None, IntentStatus.UNKNOWN)
    sql_store = Store.from_url("sqlite+aiosqlite:///:memory:", clock=lambda: now[0])
    await sql_store.create_schema()
    answers = []
    try:
        for s in (sql_store, MemoryStore(clock=lambda: now[0])):
            seen = []
            days = (5, 1, 9, 3, 12, 2, 20, 15)  # cycles started out of order
            for number, day in enumerate(days, start=1):
                now[0] = t0 + timedelta(days=day)
                cycle = CycleRecord(number, now[0], TradingState.ACTIVE, [], [], [], [])
                await s.record_cycle(cycle)
                for k in range(3):
                    cid = f"c{number}-{k}"
                    symbol = ("BTC/USDT:USDT", "ETH/USDT:USDT")[(number + k) % 2]
                    purpose = IntentPurpose.STOP if k == 2 else IntentPurpose.HEDGE
                    await s.add_intents([_intent(cid, symbol, purpose)])
                    fate = fates[(number + k) % len(fates)]
                    if fate is not None:
                        await s.update_intent(cid, fate)
                seen.append(
                    (
                        (await s.prune(t0 + timedelta(days=day - 4)))["cycles"],
                        [c.number for c in await s.cycles()],
                        await s.next_cycle_number(),
                        [i.client_order_id for i in await s.intents(statuses=opened)],
                        [i.client_order_id for i in await s.intents(statuses=opened, limit=2)],
                        await s.hedge_activity(t0 + timedelta(days=day - 2)),
                    )
                )
            answers.append(seen)
    finally:
        await sql_store.close()
    assert answers[0] == answers[1]
    assert answers[1][-1][1] == [8, 7]  # day 20 kept, and day 15 (not before day 16)
