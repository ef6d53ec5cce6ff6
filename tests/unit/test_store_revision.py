"""The schema revision is read without Alembic (issue 10.5: `status` starts fast); Alembic's own
answers are the reference."""

from __future__ import annotations

from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from bot.store.db import run_sync
from bot.store.migrate import alembic_config, upgrade
from bot.store.revision import create_at_head, current_revision, head_revision


def test_the_head_is_alembics_head() -> None:
    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_the_current_revision_is_what_alembic_stamped(tmp_path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    assert await current_revision(url) is None  # nothing there yet
    await upgrade(url, "0001")
    assert await current_revision(url) == "0001"
    await upgrade(url)
    assert await current_revision(url) == head_revision() != "0001"


def _schema(conn: Connection) -> dict[str, Any]:
    """Every table's columns (name, type, nullability, key), indexes and unique constraints."""
    i = inspect(conn)
    return {
        t: (
            [
                (c["name"], str(c["type"]), c["nullable"], c.get("primary_key"))
                for c in i.get_columns(t)
            ],
            sorted(
                (x["name"], tuple(x["column_names"]), bool(x["unique"])) for x in i.get_indexes(t)
            ),
            sorted((u["name"], tuple(u["column_names"])) for u in i.get_unique_constraints(t)),
            i.get_pk_constraint(t)["constrained_columns"],
        )
        for t in sorted(i.get_table_names())
    }


async def test_a_fresh_database_created_at_head_is_the_migrated_schema(tmp_path) -> None:
    migrated, fresh = (f"sqlite+aiosqlite:///{tmp_path / n}" for n in ("m.db", "f.db"))
    await upgrade(migrated)
    assert await create_at_head(fresh)
    assert await current_revision(fresh) == head_revision()
    assert await run_sync(fresh, _schema) == await run_sync(migrated, _schema)
    assert not await create_at_head(migrated)  # tables there: Alembic's to migrate
    await upgrade(fresh)  # Alembic takes it as at head
    assert await current_revision(fresh) == head_revision()
