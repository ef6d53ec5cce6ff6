"""One daemon per database: the account's client order ids and stops are managed by one process.

SQLite: an exclusive ``flock`` on ``<database>.lock`` beside the file. Postgres: a session-level
advisory lock held on a dedicated connection. Both are released by the kernel or the server when
the holder dies, however it dies, so a killed daemon never blocks the next one. The holder writes
who it is (pid, host, since) where a second process can read it: into the lock file, or into the
lock connection's ``application_name``.

The Postgres lock lives only as long as its session, which the server can end under a running
daemon (restart, failover, pg_terminate_backend, a dropped network). The daemon calls
``check()`` before every cycle: a lost lock is taken again when it is free, otherwise the daemon
stops (LockLost, exit 5); it never trades on without it.
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

from bot.logging import get_logger
from bot.store.db import describe, parse_url, sqlite_file, unavailable
from bot.store.errors import AlreadyRunning, DatabaseUnavailable, LockLost

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

log = get_logger("bot.store")
# pg_try_advisory_lock(int4, int4): a fixed pair, so the lock is per database
PG_LOCK_KEY = (0x4842, 0x0001)
# server-side keepalives: a vanished daemon's session (and lock) ends in about a minute and a half
PG_KEEPALIVES = {
    "tcp_keepalives_idle": "60",
    "tcp_keepalives_interval": "10",
    "tcp_keepalives_count": "3",
}
_HOLDER_SQL = (
    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a "
    "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
    "AND l.classid = $1 AND l.objid = $2 AND l.database = "
    "(SELECT oid FROM pg_database WHERE datname = current_database()) LIMIT 1"
)
_HELD_SQL = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND pid = pg_backend_pid() AND classid = $1 AND objid = $2"
)


class DaemonLock:
    """What ``instance_lock`` yields. ``check()`` is free for a file lock (the kernel keeps it
    while the process lives); for Postgres it asks the server once."""

    async def check(self) -> None:
        return None


def holder_text() -> str:
    since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"pid={os.getpid()} host={socket.gethostname()} since={since}"


def _refusal(where: str, holder: str) -> AlreadyRunning:
    return AlreadyRunning(
        f"another hedgebot daemon already runs on {where} ({holder or 'holder unknown'}): "
        "stop it first, or point this one at another database"
    )


@contextlib.asynccontextmanager
async def instance_lock(url: str) -> AsyncIterator[DaemonLock]:
    """Hold the database's daemon lock for the life of the block; AlreadyRunning if taken."""
    parsed = parse_url(url)
    if parsed.get_backend_name() == "postgresql":
        pg = _PgLock(parsed)
        await pg.acquire()
        try:
            yield pg
        finally:
            await pg.release()
        return
    path = sqlite_file(parsed)
    if path is None:  # in-memory: private to this process anyway
        yield DaemonLock()
        return
    fd = _file_lock(path.with_name(path.name + ".lock"), describe(parsed))
    try:
        yield DaemonLock()
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


class _PgLock(DaemonLock):
    """A session-level advisory lock on a dedicated connection."""

    def __init__(self, url: URL) -> None:
        self.url = url
        self.conn: Any = None

    async def acquire(self) -> None:
        import asyncpg

        try:
            conn: Any = await asyncpg.connect(
                user=self.url.username,
                password=self.url.password,
                host=self.url.host,
                port=self.url.port,
                database=self.url.database,
                timeout=10,
                server_settings={
                    "application_name": f"hedgebot {holder_text()}"[:63],
                    **PG_KEEPALIVES,
                },
            )
        except Exception as exc:  # unreachable, refused, bad password: one line naming the server
            raise unavailable(self.url, exc) from None
        try:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", *PG_LOCK_KEY):
                holder = await conn.fetchval(_HOLDER_SQL, *PG_LOCK_KEY)
                raise _refusal(describe(self.url), (holder or "").removeprefix("hedgebot "))
        except BaseException:
            with contextlib.suppress(Exception):
                await conn.close()
            raise
        self.conn = conn

    async def check(self) -> None:
        """Still ours, or taken again if free; LockLost (the daemon stops) otherwise."""
        with contextlib.suppress(Exception):  # a dead session fails here: handled below
            if await self.conn.fetchval(_HELD_SQL, *PG_LOCK_KEY, timeout=10):
                return
        await self.release()
        try:
            await self.acquire()
        except (AlreadyRunning, DatabaseUnavailable) as exc:
            raise LockLost(
                f"the daemon lock on {describe(self.url)} was lost with its database session "
                f"and cannot be taken again ({exc}); stopping: start the daemon again when the "
                "database is back and no other daemon runs on it"
            ) from None
        log.warning(
            "daemon lock lost with its database session; taken again", database=describe(self.url)
        )

    async def release(self) -> None:
        conn, self.conn = self.conn, None
        if conn is None:
            return
        try:
            await conn.close(timeout=5)  # ends the session: the server releases the lock
        except Exception:  # a half-dead connection: drop it, the server ends the session
            conn.terminate()
