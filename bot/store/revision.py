"""Which schema revision a database is at and which this version needs, without Alembic.

``status``, ``run`` and every command that opens the database check the revision first; Alembic
(and its Mako templates) cost a few hundred ms to import, so it loads only to migrate
(``bot.store.migrate``). The head: ``bot.store.schema_head``."""

from __future__ import annotations

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from bot.logging import get_logger
from bot.store.db import (
    DatabaseUnavailable,
    describe,
    parse_url,
    run_sync,
    sqlite_file,
    unavailable,
)
from bot.store.schema_head import VERSION_TABLE, head_revision


async def current_revision(url: str) -> str | None:
    """The revision the database is at; None for an empty (never migrated) database."""
    return await run_sync(url, _current)


def _current(conn: Connection) -> str | None:
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


async def schema_status(url: str) -> tuple[str | None, str]:
    """(current, head): equal when the database is up to date."""
    return await current_revision(url), head_revision()


async def probe(url: str, *, must_exist: bool) -> str | None:
    """The database's revision, read without creating anything when ``must_exist``. Anything that
    keeps it from being opened becomes one DatabaseUnavailable line naming it and the remedy."""
    parsed = parse_url(url)
    where = describe(parsed)
    path = sqlite_file(parsed)
    if must_exist and path is not None and not path.is_file():
        raise DatabaseUnavailable(
            f"no database at {where}: start the bot there first (`hedgebot run`), or point "
            "HEDGEBOT_DATABASE_URL at its database (e.g. sqlite+aiosqlite:////abs/path/hedgebot.db)"
        )
    try:
        current = await current_revision(url)
    except Exception as exc:  # any failure here means "cannot open": say which file and why
        get_logger("bot.store").debug("database probe failed", exc_info=True)
        raise unavailable(parsed, exc) from None
    if must_exist and current is None:
        raise DatabaseUnavailable(
            f"{where} holds no hedgebot schema: run `hedgebot run` (or `hedgebot db upgrade`) "
            "first, or point HEDGEBOT_DATABASE_URL at the bot's database"
        )
    return current


async def create_at_head(url: str) -> bool:
    """A database with no tables at all gets the models' schema and Alembic's version row at
    head, in one transaction, without importing Alembic (a first start: issue 10.5). The
    models and the migrations describe one schema (tests/integration/test_migrations.py and
    test_store_revision.py check it). Returns False, touching nothing, if any table exists:
    that database is Alembic's to migrate."""
    return await run_sync(url, _create_at_head, write=True)


def _create_at_head(conn: Connection) -> bool:
    from bot.store.models import Base

    if inspect(conn).get_table_names():
        return False
    Base.metadata.create_all(conn)
    conn.execute(
        text(
            f"CREATE TABLE {VERSION_TABLE} (version_num VARCHAR(32) NOT NULL, "
            f"CONSTRAINT {VERSION_TABLE}_pkc PRIMARY KEY (version_num))"
        )
    )
    conn.execute(
        text(f"INSERT INTO {VERSION_TABLE} (version_num) VALUES (:v)"), {"v": head_revision()}
    )
    return True
