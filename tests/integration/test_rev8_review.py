"""Reviewer rev8: defects found in issue 8 (operator) / issue 12 (web) code. Each test fails on
the code as reviewed and states the behaviour an operator relies on."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from bot import control, flatten
from bot.store.lock import AlreadyRunning, instance_lock
from tests.integration.paper import make_paper, perp_size

BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"


async def test_lock_holds_for_a_sqlite_uri_spelling_of_the_same_file(tmp_path: Path) -> None:
    """SQLAlchemy accepts `sqlite+aiosqlite:///file:/abs/x.db?uri=true` for the very same file;
    bot.store.db.sqlite_file returns None for it, so instance_lock takes no lock at all and a
    second daemon runs beside the first (shown with `hedgebot run` in the review transcript)."""
    db = tmp_path / "h.db"
    plain = f"sqlite+aiosqlite:///{db}"
    uri = f"sqlite+aiosqlite:///file:{db}?uri=true"
    async with instance_lock(plain):
        with pytest.raises(AlreadyRunning):
            async with instance_lock(uri):
                pass


async def test_flatten_closes_the_short_while_trading_is_halted(tmp_path: Path) -> None:
    """The operator's panic sequence: `hedgebot halt`, then `hedgebot flatten --yes`. The README
    says flatten closes the short with reduce-only orders; under HALTED the risk guard denies every
    intent (bot/risk.py:132), reduce-only closes included, so the shorts stay open."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'f.db'}"
    paper = await make_paper(url, transport="http")
    try:
        for _ in range(2):
            await paper.cycle()
        assert perp_size(await paper.port.fetch_positions(), BTC) == D(-2)
        await control.halt(paper.store, "panic")
        await flatten.flatten(paper.store, ["btc"], "operator flatten")
        for _ in range(3):
            await paper.cycle()
        assert perp_size(await paper.port.fetch_positions(), BTC) == 0
    finally:
        await paper.close()


CONFIG = """
[planner]
cooldown_seconds = 0

[[hedges]]
name = "bitcoin"
spot_asset = "BTC"
perp = "BTC/USDT:USDT"
strategy = "direct"
[hedges.params]
ratio = 1.0
"""


def test_flatten_without_config_flattens_the_daemons_hedges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daemon runs with `--config mine.toml`; the operator types `hedgebot flatten --yes`.
    bot/cli_flatten.py:_hedge_names reads the CLI's own (default) configuration, so it flattens
    the default hedges `btc, eth`, prints "the daemon closes them at its next cycle", exits 0,
    and the daemon's real short (hedge `bitcoin`) stays open."""
    import json

    from click.testing import CliRunner

    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    for var in ("HEDGEBOT_DATABASE_URL", "HEDGEBOT_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "mine.toml").write_text(CONFIG)
    runner = CliRunner()
    run = ["run", "--config", "mine.toml", "--max-cycles", "2", "--interval", "1"]
    assert runner.invoke(main, run).exit_code == 0
    flat = runner.invoke(main, ["flatten", "--yes"])
    assert flat.exit_code == 0, flat.output
    assert runner.invoke(main, run).exit_code == 0
    shown = runner.invoke(main, ["status", "--format", "json"])
    hedges = {h["hedge"]: h for h in json.loads(shown.output)["hedges"]}
    assert D(hedges["bitcoin"]["current"]) == 0, (flat.output, hedges["bitcoin"])


def test_status_on_a_sqlite_uri_url_does_not_create_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read-only commands never create a database (README); with the URI spelling of a SQLite
    URL, bot.store.db.sqlite_file returns None, the existence check is skipped and SQLite creates
    the file (same root cause as the lock bypass above)."""
    from click.testing import CliRunner

    from bot.cli import main

    db = tmp_path / "missing.db"
    monkeypatch.setenv("HEDGEBOT_DATABASE_URL", f"sqlite+aiosqlite:///file:{db}?uri=true")
    result = CliRunner().invoke(main, ["status"])
    assert result.exit_code == 4
    assert not db.exists()


@pytest.mark.postgres
async def test_postgres_lock_is_not_silently_lost_with_its_connection(pg_url: str) -> None:
    """The advisory lock lives on one idle connection (bot/store/lock.py:_pg_lock) that nothing
    watches. When the server ends that session (a Postgres restart or failover,
    idle_session_timeout, a proxy or network drop) the lock is gone while the daemon goes on
    trading, and a second daemon then starts on the same account. (fixb: the daemon checks
    the lock before every cycle, `lock.check()`, and takes it again when it is free.)"""
    async with instance_lock(pg_url) as lock:
        assert await _terminate_lock_sessions(pg_url) == 1
        await lock.check()  # the runner's per-cycle check: the lock was free, so taken again
        with pytest.raises(AlreadyRunning):
            async with instance_lock(pg_url):
                pass
        await lock.check()  # still ours


@pytest.mark.postgres
async def test_postgres_lock_lost_and_taken_by_another_stops_the_daemon(pg_url: str) -> None:
    """(fixb) When the lost lock was taken by someone else meanwhile, the check raises LockLost
    (an AlreadyRunning: exit 5, one line) and the daemon stops instead of trading beside it."""
    from bot.store.errors import LockLost
    from bot.store.lock import PG_LOCK_KEY

    async with instance_lock(pg_url) as lock:
        assert await _terminate_lock_sessions(pg_url) == 1
        other = await _connect(pg_url)
        try:
            assert await other.fetchval("SELECT pg_try_advisory_lock($1, $2)", *PG_LOCK_KEY)
            with pytest.raises(LockLost, match="lost with its database session"):
                await lock.check()
        finally:
            await other.close()


async def _connect(pg_url: str) -> Any:
    import asyncpg

    from bot.store.db import parse_url

    u = parse_url(pg_url)
    return await asyncpg.connect(
        user=u.username, password=u.password, host=u.host, port=u.port, database=u.database
    )


async def _terminate_lock_sessions(pg_url: str) -> int:
    """End the daemon lock's session from the server side, as a restart or failover would."""
    admin = await _connect(pg_url)
    try:
        ended = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
            "WHERE application_name LIKE 'hedgebot pid=%' AND datname = current_database()"
        )
    finally:
        await admin.close()
    return int(ended)
