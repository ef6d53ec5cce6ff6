"""`hedgebot health` is healthy only when the daemon cycles, its cycles succeed and it may trade."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.domain import TradingState
from bot.store import CycleRecord, Store
from bot.store.migrate import upgrade

T0 = datetime(2024, 1, 1, tzinfo=UTC)  # the venue's clock: far behind the wall clock on purpose


async def _seed(url: str, outcomes: list[str], halted: bool = False) -> None:
    await upgrade(url)
    store = Store.from_url(url)
    for n, outcome in enumerate(outcomes, start=1):
        at = T0 + timedelta(minutes=5 * n)
        await store.record_cycle(CycleRecord(n, at, TradingState.ACTIVE))
        await store.finish_cycle(n, outcome, {"reason": "venue unreachable: position/list 503"})
    if halted:
        await store.set_trading_state(TradingState.HALTED, "stop-loss filled on BTC/USDT:USDT")
    await store.close()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    beat = tmp_path / "heartbeat"
    beat.touch()
    monkeypatch.setenv("HEDGEBOT_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'h.db'}")
    monkeypatch.setenv("HEDGEBOT_HEARTBEAT_FILE", str(beat))
    return dict(os.environ)


def _health(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["health", *args])
    return result.exit_code, result.output.strip()


def test_healthy_when_cycles_succeed(env: dict[str, str]) -> None:
    asyncio.run(_seed(env["HEDGEBOT_DATABASE_URL"], ["ok", "ok", "skipped"]))
    code, out = _health()
    assert code == 0 and out.startswith("healthy: last cycle"), out


def test_unhealthy_when_cycles_keep_failing(env: dict[str, str]) -> None:
    asyncio.run(_seed(env["HEDGEBOT_DATABASE_URL"], ["ok", "skipped", "skipped", "error"]))
    code, out = _health()  # 15 minutes of failures > 300 s, with a fresh heartbeat
    assert code == 1
    assert out == (
        "unhealthy: 3 cycles skipped or failed over 900s (more than 300s): "
        "venue unreachable: position/list 503"
    )
    assert _health("--max-failing", "1000")[0] == 0


def test_unhealthy_when_halted(env: dict[str, str]) -> None:
    asyncio.run(_seed(env["HEDGEBOT_DATABASE_URL"], ["ok"], halted=True))
    code, out = _health()
    assert code == 1 and "trading halted: stop-loss filled" in out and "hedgebot resume" in out


def test_unhealthy_when_the_heartbeat_is_stale(env: dict[str, str]) -> None:
    asyncio.run(_seed(env["HEDGEBOT_DATABASE_URL"], ["ok"]))
    old = datetime.now().timestamp() - 600
    os.utime(env["HEDGEBOT_HEARTBEAT_FILE"], (old, old))
    code, out = _health()
    assert code == 1 and "last cycle 600s ago" in out


def test_status_says_why_the_last_cycle_was_skipped(env: dict[str, str]) -> None:
    asyncio.run(_seed(env["HEDGEBOT_DATABASE_URL"], ["ok", "skipped"]))
    result = CliRunner().invoke(main, ["status", "--format", "json"])
    summary = json.loads(result.output)["summary"][0]
    assert summary["last_outcome"] == "skipped"
    assert summary["last_note"] == "venue unreachable: position/list 503"
