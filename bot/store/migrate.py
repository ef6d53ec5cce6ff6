"""Schema migrations, driven from Python: ``hedgebot db upgrade`` calls ``upgrade(url)``.

The Alembic scripts live in the ``migrations`` package next to ``bot``, so they ship with it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

import migrations
from bot.store.db import make_engine, normalize_url, transactional_ddl
from bot.store.revision import current_revision, head_revision, probe, schema_status

Action = Callable[[Connection, Config], None]

MIGRATIONS_DIR = Path(migrations.__file__).resolve().parent
__all__ = ["current_revision", "downgrade", "head_revision", "probe", "schema_status", "upgrade"]


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at the shipped scripts and, if given, at ``url``."""
    cfg = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        rendered = normalize_url(url).render_as_string(hide_password=False)
        cfg.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))  # ini interpolation
    return cfg


async def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision``; a fresh SQLite file (and its directory)
    is created."""
    await _run(url, lambda conn, cfg: command.upgrade(cfg, revision))


async def downgrade(url: str, revision: str) -> None:
    await _run(url, lambda conn, cfg: command.downgrade(cfg, revision))


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
