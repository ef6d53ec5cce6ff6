"""Dialect-specific INSERT ... ON CONFLICT, the one place SQLite and Postgres SQL differ for us."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite


def insert_for(dialect: str, model: Any) -> Any:
    """An INSERT for ``model`` that supports ``on_conflict_do_nothing/update`` on this dialect."""
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(f"the store supports sqlite and postgresql, not {dialect}")
