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
