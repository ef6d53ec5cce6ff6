"""Dialect-specific INSERT ... ON CONFLICT, the one place SQLite and Postgres SQL differ for us.
Each dialect's module loads when first used: the Postgres one costs a SQLite start ~30 ms."""

from __future__ import annotations

import importlib
from typing import Any


def insert_for(dialect: str, model: Any) -> Any:
    """An INSERT for ``model`` that supports ``on_conflict_do_nothing/update`` on this dialect."""
    if dialect not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"the store supports sqlite and postgresql, not {dialect}")
    return importlib.import_module(f"sqlalchemy.dialects.{dialect}").insert(model)
