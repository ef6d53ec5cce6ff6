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
from bot.store.db import make_engine, normalize_url

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
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_with_connection, cfg, action)
    finally:
        await engine.dispose()


def _with_connection(conn: Connection, cfg: Config, action: Action) -> None:
    cfg.attributes["connection"] = conn  # env.py reuses it instead of opening its own engine
    action(conn, cfg)
