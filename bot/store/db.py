"""The async engine: URL normalisation, SQLite pragmas, and no I/O until first use."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from bot.errors import ConfigError
from bot.logging import REDACTOR
from bot.store.errors import DatabaseUnavailable

DEFAULT_URL = "sqlite+aiosqlite:///./data/hedgebot.db"
T = TypeVar("T")

_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}


def parse_url(url: str | URL) -> URL:
    """The URL, or a ConfigError naming HEDGEBOT_DATABASE_URL (never echoing a password)."""
    try:
        parsed = normalize_url(url)
    except (ArgumentError, ValueError):
        raise ConfigError(
            [
                "HEDGEBOT_DATABASE_URL: not a database URL; use "
                "sqlite+aiosqlite:///path/to/hedgebot.db or "
                "postgresql+asyncpg://user@host:5432/db (password after the user and a colon)"
            ]
        ) from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            [
                f"HEDGEBOT_DATABASE_URL: unsupported database {parsed.get_backend_name()!r} "
                "(use sqlite or postgresql)"
            ]
        )
    return parsed


def sqlite_file(url: URL) -> Path | None:
    """The absolute path of a SQLite database file; None for memory and Postgres. A URI
    filename (``file:/abs/x.db?uri=true``) names its file too: the lock and the read-only
    commands' existence check must see the same file whichever way it is spelled."""
    if url.get_backend_name() != "sqlite" or is_sqlite_memory(url) or url.database is None:
        return None
    if url.database.startswith("file:"):
        return _uri_file(url)
    return Path(url.database).expanduser().resolve()


def _uri_file(url: URL) -> Path | None:
    from urllib.parse import unquote, urlsplit

    assert url.database is not None
    split = urlsplit(url.database)
    path = unquote(split.path)
    if url.query.get("mode") == "memory" or path in ("", ":memory:"):
        return None
    if split.netloc not in ("", "localhost"):
        raise ConfigError(
            [
                f"HEDGEBOT_DATABASE_URL: SQLite URI authority {split.netloc!r} not supported; "
                "use sqlite+aiosqlite:///path/to/hedgebot.db"
            ]
        )
    return Path(path).expanduser().resolve()


def describe(url: str | URL) -> str:
    """How to name the database to a person: the file's absolute path, or the URL sans password."""
    parsed = parse_url(url)
    path = sqlite_file(parsed)
    return str(path) if path else parsed.render_as_string(hide_password=True)


def normalize_url(url: str | URL) -> URL:
    """Give plain ``sqlite://`` / ``postgresql://`` URLs their async driver."""
    parsed = make_url(url)
    driver = _ASYNC_DRIVERS.get(parsed.drivername)
    return parsed.set(drivername=driver) if driver else parsed


def is_sqlite_memory(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def ensure_sqlite_dir(url: URL) -> None:
    """Create the parent directory of a SQLite file (./data on a fresh checkout)."""
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


def make_engine(url: str | URL, *, echo: bool = False) -> AsyncEngine:
    """Build the engine without connecting. The SQLite directory is created on first connect."""
    parsed = normalize_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if is_sqlite_memory(parsed):
        # one shared connection, or every checkout would see its own empty database
        kwargs["poolclass"] = StaticPool
    elif parsed.get_backend_name() == "postgresql":
        kwargs["pool_pre_ping"] = True
    engine = create_async_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        _install_sqlite_hooks(engine, parsed)
    return engine


def _install_sqlite_hooks(engine: AsyncEngine, url: URL) -> None:
    @event.listens_for(engine.sync_engine, "do_connect")
    def _make_dir(*_args: Any) -> None:
        ensure_sqlite_dir(url)

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        try:
            # wait for a concurrent writer (review commands, a second process) instead of failing
            cursor.execute("PRAGMA busy_timeout = 5000")
            if not is_sqlite_memory(url):
                cursor.execute("PRAGMA journal_mode = WAL")
        finally:
            cursor.close()


def transactional_ddl(engine: AsyncEngine) -> None:
    """Make SQLite run DDL inside our transaction. Python's sqlite3 driver commits implicitly
    before CREATE/ALTER, so a migration cut short would leave half a schema and no revision; with
    the driver's own transaction handling off and an explicit BEGIN IMMEDIATE, the whole upgrade
    commits or rolls back as one (the SQLAlchemy documented recipe for pysqlite/aiosqlite)."""
    if engine.dialect.name != "sqlite":
        return  # Postgres DDL is transactional already

    @event.listens_for(engine.sync_engine, "connect")
    def _no_implicit(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


async def run_sync(url: str | URL, fn: Callable[[Connection], T], *, write: bool = False) -> T:
    """``fn`` on one connection of a short-lived engine: a read, or with ``write`` one
    transaction whose DDL commits or rolls back with it."""
    engine = make_engine(url)
    if write:
        transactional_ddl(engine)
    try:
        async with engine.begin() if write else engine.connect() as conn:
            return await conn.run_sync(fn)
    finally:
        await engine.dispose()


def unavailable(url: URL, exc: BaseException) -> DatabaseUnavailable:
    """One line: which database, the driver's first words, and what to do."""
    inner = getattr(exc, "orig", None) or exc
    text = str(inner).strip()
    cause = REDACTOR.scrub(text.splitlines()[0] if text else type(inner).__name__)
    if sqlite_file(url) is not None:
        remedy = "restore it from a backup, or move it aside to start a new one (`hedgebot run`)"
    else:
        remedy = (
            "check that the server is up and HEDGEBOT_DATABASE_URL (host, port, user, password)"
        )
    return DatabaseUnavailable(f"database {describe(url)} cannot be opened: {cause}; {remedy}")
