"""An interrupted first migration leaves a database the next run migrates cleanly; a corrupt or
unreachable database is one line naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from bot.store import migrate
from bot.store.db import DatabaseUnavailable
from bot.store.migrate import current_revision, head_revision, probe, upgrade


class Interrupted(BaseException):
    """Stands for Ctrl-C (KeyboardInterrupt) arriving between two DDL statements."""


def _interrupting(after: int) -> Any:
    real = migrate.make_engine

    def make(url: Any, **kw: Any) -> Any:
        engine = real(url, **kw)
        seen = [0]

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def _count(_conn: Any, _cur: Any, statement: str, *_a: Any) -> None:
            if statement.lstrip().upper().startswith(("CREATE", "INSERT", "UPDATE")):
                seen[0] += 1
                if seen[0] > after:
                    raise Interrupted

        return engine

    return make


@pytest.mark.parametrize("after", [1, 5, 12])
async def test_interrupted_first_migration_is_rolled_back(
    db_url: str, monkeypatch: pytest.MonkeyPatch, after: int
) -> None:
    with monkeypatch.context() as m:
        m.setattr(migrate, "make_engine", _interrupting(after))
        with pytest.raises(Interrupted):
            await upgrade(db_url)
    assert await current_revision(db_url) is None
    await upgrade(db_url)  # the next run migrates cleanly
    assert await current_revision(db_url) == head_revision()


async def test_corrupt_sqlite_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.db"
    path.write_bytes(b"this is not a database, just some bytes" * 100)
    with pytest.raises(DatabaseUnavailable) as exc:
        await probe(f"sqlite+aiosqlite:///{path}", must_exist=True)
    assert str(path) in str(exc.value) and "backup" in str(exc.value)


def _hedgebot(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HEDGEBOT_DATABASE_URL": url,
        "HEDGEBOT_HEARTBEAT_FILE": str(tmp_path / "hb"),
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.mark.parametrize(
    ("url", "code", "words"),
    [
        ("sqlite+aiosqlite:///{tmp}/bad.db", 4, ["bad.db", "cannot be opened", "backup"]),
        (
            "postgresql+asyncpg://u:hunter22@127.0.0.1:1/db",
            4,
            ["127.0.0.1:1", "server is up", "***"],
        ),
        ("not a url at all", 2, ["HEDGEBOT_DATABASE_URL", "sqlite+aiosqlite:///"]),
        ("postgresql://u:hunter22@h:port/db", 2, ["HEDGEBOT_DATABASE_URL"]),
    ],
)
def test_run_on_a_bad_database_says_one_line(
    tmp_path: Path, url: str, code: int, words: list[str]
) -> None:
    (tmp_path / "bad.db").write_bytes(b"garbage" * 1000)
    proc = _hedgebot(tmp_path, url.format(tmp=tmp_path), "run", "--max-cycles", "1")
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == code, proc.stderr
    assert len(lines) <= 2 and "Traceback" not in proc.stderr  # "invalid configuration:" + line
    for word in words:
        assert word in proc.stderr
    assert "hunter22" not in proc.stderr
