"""Store errors. They derive from ``bot.errors.HedgebotError``, so callers catch both together."""

from __future__ import annotations

from bot.errors import HedgebotError


class StoreError(HedgebotError):
    """Base of the errors the store raises on purpose."""


class StoreConflict(StoreError):
    """A write broke a uniqueness rule (a duplicate client order id or cycle number); nothing of it
    was written."""


class NotFound(StoreError, LookupError):
    """The intent or cycle named does not exist."""


class IntentTransitionError(StoreError):
    """An intent already in a final state was asked to move to another state."""


class DatabaseUnavailable(HedgebotError):
    """The database is missing, unreadable, corrupt or unreachable: one line, naming it."""


class AlreadyRunning(HedgebotError):
    """Another daemon holds this database."""


class LockLost(AlreadyRunning):
    """The daemon's lock went with its database session and could not be taken again."""
