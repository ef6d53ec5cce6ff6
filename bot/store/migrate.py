"""Schema migrations, driven from Python: ``hedgebot db upgrade`` calls ``upgrade(url)``.

The Alembic scripts live in the ``migrations`` package next to ``bot``, so they ship with it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

import migrations
from bot.logging import get_logger
from bot.store.db import (
    DatabaseUnavailable,
    describe,
    make_engine,
    normalize_url,
    parse_url,
    sqlite_file,
    transactional_ddl,
    unavailable,
)

Action = Callable[[Connection, Config], None]

MIGRATIONS_DIR = Path(migrations.__file__).resolve().parent


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at the shipped scripts and, if given, at ``url``."""
    cfg = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        rendered = normalize_url(url).render_as_string(hide_password=False)
        cfg.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))  # ini interpolation
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migration scripts under {MIGRATIONS_DIR}")
    return head


async def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision``; a fresh SQLite file (and its directory)
    is created."""
    await _run(url, lambda conn, cfg: command.upgrade(cfg, revision))


async def downgrade(url: str, revision: str) -> None:
    await _run(url, lambda conn, cfg: command.downgrade(cfg, revision))


async def current_revision(url: str) -> str | None:
    """The revision the database is at; None for an empty (never migrated) database."""
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_current)
    finally:
        await engine.dispose()


async def schema_status(url: str) -> tuple[str | None, str]:
    """(current, head): equal when the database is up to date."""
    return await current_revision(url), head_revision()


def _current(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


async def _run(url: str, action: Action) -> None:
    cfg = alembic_config(url)
    engine = make_engine(url)
    transactional_ddl(engine)  # all of the upgrade, or none of it
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_with_connection, cfg, action)
    finally:
        await engine.dispose()


def _with_connection(conn: Connection, cfg: Config, action: Action) -> None:
    cfg.attributes["connection"] = conn  # env.py reuses it instead of opening its own engine
    action(conn, cfg)


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
