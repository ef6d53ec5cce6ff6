"""Migrations on both backends: empty to head, status before and after, and no drift from the
models (Alembic autogenerate finds nothing to change)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from bot.store.db import DEFAULT_URL, run_sync
from bot.store.migrate import current_revision, downgrade, head_revision, schema_status, upgrade
from bot.store.models import Base

TABLES = {
    "bars",
    "cursors",
    "cycles",
    "events",
    "fills",
    "funding_payments",
    "intents",
    "marks",
    "rejections",
    "risk_state",
    "targets",
}


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names()) - {"alembic_version"}


def _diff(conn: Connection) -> list[Any]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_empty_to_head(db_url: str) -> None:
    head = head_revision()
    assert await schema_status(db_url) == (None, head)
    await upgrade(db_url)
    assert await schema_status(db_url) == (head, head)
    assert await run_sync(db_url, _tables) == TABLES
    await upgrade(db_url)  # already at head: nothing to do, nothing breaks
    assert await current_revision(db_url) == head


async def test_migrated_schema_matches_the_models(db_url: str) -> None:
    await upgrade(db_url)
    assert await run_sync(db_url, _diff) == []


async def test_models_differ_from_an_empty_database(db_url: str) -> None:
    # guards the test above: the comparison does see missing tables
    diff = await run_sync(db_url, _diff)
    assert {d[1].name for d in diff if d[0] == "add_table"} == TABLES


async def test_downgrade_to_base_and_back(db_url: str) -> None:
    await upgrade(db_url)
    await downgrade(db_url, "base")
    assert await run_sync(db_url, _tables) == set()
    assert await current_revision(db_url) is None
    await upgrade(db_url)
    assert await run_sync(db_url, _tables) == TABLES


async def test_default_url_creates_the_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    await upgrade(DEFAULT_URL)
    assert (tmp_path / "data" / "hedgebot.db").is_file()
    assert await current_revision(DEFAULT_URL) == head_revision()


async def test_plain_sqlite_url_in_a_new_nested_folder(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a' / 'b' / 'bot.db'}"  # no driver given: aiosqlite is added
    await upgrade(url)
    assert await schema_status(url) == (head_revision(), head_revision())
