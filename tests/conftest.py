"""Shared fixtures. Append new ones below; keep each short and documented."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.store import Store
from bot.store.migrate import upgrade
from tests.pg import NO_BINARIES, PostgresServer, find_bindir


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """One throwaway Postgres for the whole run, stopped and deleted at the end."""
    bindir = find_bindir()
    if bindir is None:
        pytest.skip(NO_BINARIES)
    with PostgresServer(bindir) as server:
        yield server


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> Iterator[str]:
    """URL of a fresh, empty Postgres database for this test only."""
    url = pg_server.create_database()
    yield url
    pg_server.drop_database(url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of a fresh, empty database, once on SQLite and once on Postgres."""
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_url"))
    return f"sqlite+aiosqlite:///{tmp_path / 'hedgebot.db'}"


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    """A Store on a database migrated to head (both backends, via db_url)."""
    await upgrade(db_url)
    s = Store.from_url(db_url)
    yield s
    await s.close()
