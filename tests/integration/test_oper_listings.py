"""`hedgebot events|orders|fills|funding|rejections`: filters, formats, exact numbers, and no
database created by a read-only command."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import EXIT_DATABASE, main
from bot.domain import (
    Fill,
    FundingPayment,
    IntentStatus,
    OrderIntent,
    Rejection,
    Side,
    TradingState,
)
from bot.store import CycleRecord, EventRecord, Store, TargetRecord
from bot.store.migrate import upgrade

T0 = datetime(2024, 1, 1, 12, tzinfo=UTC)
BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"


async def _seed(url: str) -> None:
    await upgrade(url)
    clock = [T0]
    store = Store.from_url(url, clock=lambda: clock[0])
    for n, (hedge, symbol) in enumerate([("btc", BTC), ("eth", ETH)], start=1):
        clock[0] = T0 + timedelta(hours=n)
        coid = f"hb-t-{n}-{hedge}-h0"
        intent = OrderIntent(coid, hedge, n, symbol, Side.SELL, D("2.000"))
        await store.record_cycle(
            CycleRecord(
                number=n,
                started_at=clock[0],
                trading_state=TradingState.ACTIVE,
                intents=[intent],
                targets=[TargetRecord(hedge, symbol, D(0), D("-2"), D(1), "direct")],
                rejections=[
                    Rejection(
                        hedge, symbol, "risk", f"max_order_notional: 120000 > 100000 ({hedge})"
                    )
                ],
                events=[
                    EventRecord("data_untrusted", f"{symbol}: stale", "warning", {"symbol": symbol})
                ],
            )
        )
        await store.update_intent(
            coid, IntentStatus.REJECTED, reason=f"110007 insufficient {hedge}"
        )
        await store.add_fills(
            [
                Fill(
                    f"e{n}",
                    f"v{n}",
                    coid,
                    symbol,
                    Side.SELL,
                    D("2.000"),
                    D("60012.50"),
                    D("1E-7"),
                    "USDT",
                    clock[0],
                )
            ]
        )
        await store.add_funding(
            [FundingPayment(f"f{n}", symbol, D("12.0025"), clock[0], D("0.0001"))]
        )
    await store.close()


@pytest.fixture
def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'l.db'}"
    asyncio.run(_seed(url))
    monkeypatch.setenv("HEDGEBOT_DATABASE_URL", url)
    return url


def _cli(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == code, (result.output, result.exception)
    return result.output


def test_fills_filters_and_exact_numbers(seeded: str) -> None:
    rows = json.loads(_cli("fills", "--format", "json"))
    assert [r["trade_id"] for r in rows] == ["e2", "e1"]  # newest first
    assert rows[0]["price"] == "60012.50" and rows[0]["fee"] == "0.0000001"
    assert [
        r["trade_id"] for r in json.loads(_cli("fills", "--hedge", "btc", "--format", "json"))
    ] == ["e1"]
    assert [
        r["trade_id"] for r in json.loads(_cli("trades", "--symbol", ETH, "--format", "json"))
    ] == ["e2"]
    since = json.loads(_cli("fills", "--since", "2024-01-01T13:30", "--format", "json"))
    assert [r["trade_id"] for r in since] == ["e2"]
    until = json.loads(_cli("fills", "--until", "2024-01-01T13:30:00Z", "--format", "json"))
    assert [r["trade_id"] for r in until] == ["e1"]
    assert len(json.loads(_cli("fills", "--limit", "1", "--format", "json"))) == 1
    table = _cli("fills")
    assert "60012.50" in table and "0.0000001" in table and "1E-7" not in table


def test_orders_show_status_and_venue_reason(seeded: str) -> None:
    rows = list(csv.DictReader(io.StringIO(_cli("orders", "--hedge", "eth", "--format", "csv"))))
    assert len(rows) == 1
    assert rows[0]["status"] == "rejected" and rows[0]["venue_reason"] == "110007 insufficient eth"
    assert rows[0]["qty"] == "2.000"


def test_rejections_funding_and_events(seeded: str) -> None:
    rej = json.loads(_cli("rejections", "--symbol", BTC, "--format", "json"))
    assert {r["source"] for r in rej} == {"risk", "venue"}
    assert any("max_order_notional" in r["reason"] for r in rej)
    fund = json.loads(_cli("funding", "--hedge", "eth", "--format", "json"))
    assert [(f["symbol"], f["amount"]) for f in fund] == [(ETH, "12.0025")]
    ev = json.loads(_cli("events", "--symbol", ETH, "--format", "json"))
    assert [e["message"] for e in ev] == [f"{ETH}: stale"]
    assert len(json.loads(_cli("events", "--format", "json"))) == 2


def test_a_bad_time_is_refused_in_one_line(seeded: str) -> None:
    out = _cli("events", "--since", "yesterday", code=2)
    assert "not a time" in out


@pytest.mark.parametrize("command", ["status", "fills", "trades", "orders", "events", "halt"])
def test_read_commands_never_create_a_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    where = tmp_path / "nowhere" / "hedgebot.db"
    monkeypatch.setenv("HEDGEBOT_DATABASE_URL", f"sqlite+aiosqlite:///{where}")
    result = CliRunner().invoke(main, [command])
    assert result.exit_code == EXIT_DATABASE, result.output
    assert f"no database at {where}" in result.output and "HEDGEBOT_DATABASE_URL" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not where.parent.exists()


def test_ages_count_back_on_the_bots_clock(seeded: str) -> None:
    # the seeded cycles ran in 2024 (a replaying venue's time): "30m" is before the newest cycle
    rows = json.loads(_cli("fills", "--since", "30m", "--format", "json"))
    assert [r["trade_id"] for r in rows] == ["e2"]
