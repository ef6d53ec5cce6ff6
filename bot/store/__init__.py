"""Persistence: SQLite by default, Postgres by URL. See ``repo.Store`` and ``migrate``.

Names load on first use, so importing ``bot.store.errors`` (the CLI does, for its error handling)
does not import SQLAlchemy into every command's start-up (issue 10.5)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_HOME = {
    **dict.fromkeys(("IntentTransitionError", "NotFound", "StoreConflict", "StoreError"), "errors"),
    **dict.fromkeys(
        (
            "CycleRecord",
            "EventRecord",
            "StoredCycle",
            "StoredEvent",
            "StoredFill",
            "StoredIntent",
            "StoredRejection",
            "StoredTarget",
            "TargetRecord",
        ),
        "records",
    ),
    "Store": "repo",
}
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


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'bot.store' has no attribute {name!r}")
    return getattr(importlib.import_module(f"bot.store.{module}"), name)
