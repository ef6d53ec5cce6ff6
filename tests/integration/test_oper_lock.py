"""One daemon per database: a second `hedgebot run` refuses and names the holder; a killed holder
releases the lock. On SQLite (file lock) and on Postgres (advisory lock)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.store.lock import AlreadyRunning, instance_lock

HOLD = """
import asyncio, sys
from bot.store.lock import instance_lock
async def main():
    async with instance_lock(sys.argv[1]):
        print("locked", flush=True)
        await asyncio.Event().wait()
asyncio.run(main())
"""


def _holder(url: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, url], stdout=subprocess.PIPE, text=True, cwd=os.getcwd()
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"  # blocks until the child holds it
    return proc


async def test_second_holder_is_refused_and_told_who_holds_it(db_url: str) -> None:
    async with instance_lock(db_url):
        with pytest.raises(AlreadyRunning) as refused:
            async with instance_lock(db_url):
                pass
    assert f"pid={os.getpid()}" in str(refused.value)
    assert f"host={socket.gethostname()}" in str(refused.value)
    async with instance_lock(db_url):  # released on exit: taken again
        pass


async def test_a_killed_holder_releases_the_lock(db_url: str) -> None:
    proc = _holder(db_url)
    try:
        with pytest.raises(AlreadyRunning, match=f"pid={proc.pid}"):
            async with instance_lock(db_url):
                pass
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    async with instance_lock(db_url):
        pass


def test_second_run_exits_5_naming_the_holder(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    proc = _holder(url)
    try:
        run = subprocess.run(
            [sys.executable, "-m", "bot", "run", "--max-cycles", "1"],
            capture_output=True,
            text=True,
            env={
                **os.environ,
                "HEDGEBOT_DATABASE_URL": url,
                "HEDGEBOT_HEARTBEAT_FILE": str(tmp_path / "hb"),
            },
            timeout=120,
        )
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert run.returncode == 5, run.stderr
    assert run.stderr.strip().splitlines() == [
        line for line in run.stderr.strip().splitlines() if "another hedgebot daemon" in line
    ]
    assert f"pid={proc.pid}" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "h.db").exists()  # refused before touching the database


def test_db_upgrade_under_a_running_daemon_exits_5_naming_it(tmp_path: Path) -> None:
    """Migrating a database a daemon is trading on changes its schema under it: `db upgrade`
    takes the daemon lock too, and refuses (exit 5, one line, the holder) while a daemon runs."""
    from click.testing import CliRunner

    from bot.cli import main

    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    proc = _holder(url)
    try:
        refused = CliRunner().invoke(main, ["db", "upgrade"], env={"HEDGEBOT_DATABASE_URL": url})
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert refused.exit_code == 5, refused.output
    assert "another hedgebot daemon" in refused.output and f"pid={proc.pid}" in refused.output
    assert not (tmp_path / "h.db").exists()  # refused before touching the database
    done = CliRunner().invoke(main, ["db", "upgrade"], env={"HEDGEBOT_DATABASE_URL": url})
    assert done.exit_code == 0 and "database at revision" in done.output, done.output
