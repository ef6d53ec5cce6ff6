"""`hedgebot trades` and `hedgebot status` read the database and print table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal as D

from bot.domain import Fill, FundingPayment, OrderIntent, Side, TradingState
from bot.store import CycleRecord, Store, TargetRecord
from bot.store.migrate import upgrade

T = datetime(2024, 1, 1, 12, tzinfo=UTC)


async def _seed(url: str) -> None:
    await upgrade(url)
    store = Store.from_url(url)
    intent = OrderIntent("hb-t-1-BTCUSDT-h0", "btc", 1, "BTC/USDT:USDT", Side.SELL, D("2.000"))
    await store.record_cycle(
        CycleRecord(
            number=1,
            started_at=T,
            trading_state=TradingState.ACTIVE,
            intents=[intent],
            targets=[TargetRecord("btc", "BTC/USDT:USDT", D(0), D("-2"), D(1), "direct ratio=1")],
        )
    )
    await store.add_fills(
        [
            Fill(
                "e1",
                "v1",
                "hb-t-1-BTCUSDT-h0",
                "BTC/USDT:USDT",
                Side.SELL,
                D("2.000"),
                D("60012.5"),
                D("0.0000001"),
                "USDT",
                T,
            )
        ]
    )
    await store.add_funding([FundingPayment("f1", "BTC/USDT:USDT", D("12.0025"), T, D("0.0001"))])
    await store.finish_cycle(1, "ok", {"orders": 1})
    await store.close()


def _cli(url: str, *args: str) -> str:
    env = {**os.environ, "HEDGEBOT_DATABASE_URL": url}
    proc = subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


async def test_trades_in_three_formats(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    await _seed(url)
    table = _cli(url, "trades")
    assert "BTC/USDT:USDT" in table and "60012.5" in table and "btc" in table
    rows = list(csv.DictReader(io.StringIO(_cli(url, "trades", "--format", "csv"))))
    assert rows[0]["qty"] == "2.000" and rows[0]["fee"] == "0.0000001"
    data = json.loads(_cli(url, "trades", "--format", "json"))
    assert data[0]["price"] == "60012.5"  # exact decimal text, never a float
    assert data[0]["hedge"] == "btc"


async def test_status_shows_state_hedges_and_orders(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 's.db'}"
    await _seed(url)
    text = _cli(url, "status")
    assert "active" in text and "direct ratio=1" in text and "hb-t-1-BTCUSDT-h0" in text
    data = json.loads(_cli(url, "status", "--format", "json"))
    assert data["summary"][0]["funding_received"] == "12.0025"
    assert data["hedges"][0]["target"] == "-2"
    _cli(url, "halt", "--reason", "maintenance")
    assert (
        json.loads(_cli(url, "status", "--format", "json"))["summary"][0]["trading_state"]
        == "halted"
    )
    _cli(url, "resume")
    assert (
        json.loads(_cli(url, "status", "--format", "json"))["summary"][0]["trading_state"]
        == "active"
    )
