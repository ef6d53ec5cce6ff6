"""Persistence: SQLite by default, Postgres by URL. See ``repo.Store`` and ``migrate``."""

from bot.store.errors import IntentTransitionError, NotFound, StoreConflict, StoreError
from bot.store.records import (
    CycleRecord,
    EventRecord,
    StoredCycle,
    StoredEvent,
    StoredFill,
    StoredIntent,
    StoredRejection,
    StoredTarget,
    TargetRecord,
)
from bot.store.repo import Store

__all__ = [
    "CycleRecord",
    "EventRecord",
    "IntentTransitionError",
    "NotFound",
    "Store",
    "StoreConflict",
    "StoreError",
    "StoredCycle",
    "StoredEvent",
    "StoredFill",
    "StoredIntent",
    "StoredRejection",
    "StoredTarget",
    "TargetRecord",
]
