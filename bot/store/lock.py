"""One daemon per database: the account's client order ids and stops are managed by one process.

SQLite: an exclusive ``flock`` on ``<database>.lock`` beside the file. Postgres: a session-level
advisory lock held on a dedicated connection. Both are released by the kernel or the server when
the holder dies, however it dies, so a killed daemon never blocks the next one. The holder writes
who it is (pid, host, since) where a second process can read it: into the lock file, or into the
lock connection's ``application_name``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.store.db import describe, parse_url, sqlite_file, unavailable
from bot.store.errors import AlreadyRunning

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

# pg_try_advisory_lock(int4, int4): a fixed pair, so the lock is per database
PG_LOCK_KEY = (0x4842, 0x0001)


def holder_text() -> str:
    since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"pid={os.getpid()} host={socket.gethostname()} since={since}"


def _refusal(where: str, holder: str) -> AlreadyRunning:
    return AlreadyRunning(
        f"another hedgebot daemon already runs on {where} ({holder or 'holder unknown'}): "
        "stop it first, or point this one at another database"
    )


@contextlib.asynccontextmanager
async def instance_lock(url: str) -> AsyncIterator[None]:
    """Hold the database's daemon lock for the life of the block; AlreadyRunning if taken."""
    parsed = parse_url(url)
    if parsed.get_backend_name() == "postgresql":
        async with _pg_lock(parsed):
            yield
        return
    path = sqlite_file(parsed)
    if path is None:  # in-memory: private to this process anyway
        yield
        return
    fd = _file_lock(path.with_name(path.name + ".lock"), describe(parsed))
    try:
        yield
    finally:
        os.close(fd)  # closing releases the flock


def _file_lock(path: Path, where: str) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
        os.close(fd)
        raise _refusal(where, holder) from None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, (holder_text() + "\n").encode(), 0)
    return fd


@contextlib.asynccontextmanager
async def _pg_lock(url: URL) -> AsyncIterator[None]:
    import asyncpg

    try:
        conn: Any = await asyncpg.connect(
            user=url.username,
            password=url.password,
            host=url.host,
            port=url.port,
            database=url.database,
            timeout=10,
            server_settings={"application_name": f"hedgebot {holder_text()}"[:63]},
        )
    except Exception as exc:  # unreachable, refused, bad password: one line naming the server
        raise unavailable(url, exc) from None
    try:
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", *PG_LOCK_KEY):
            holder = await conn.fetchval(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a "
                "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                "AND l.classid = $1 AND l.objid = $2 AND l.database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database()) LIMIT 1",
                *PG_LOCK_KEY,
            )
            raise _refusal(describe(url), (holder or "").removeprefix("hedgebot "))
        yield
    finally:
        with contextlib.suppress(Exception):
            await conn.close()  # ends the session: the server releases the lock
