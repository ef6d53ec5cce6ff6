"""Starting and stopping the simulator: time modes, feeds, the CLI entry point."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import aiohttp
import ccxt.async_support as ccxt
import pytest

from bot.sim.server import DEFAULT_API_KEY, DEFAULT_API_SECRET, start_simulator
from tests.fixtures.sim.harness import PERP, bybit_client

ROOT = Path(__file__).resolve().parents[2]


async def test_manual_mode_keeps_the_clock_still_until_told() -> None:
    start = datetime(2024, 3, 1, tzinfo=UTC)
    sim = await start_simulator(start=start, seed=3, wallet={"USDT": 5000, "BTC": 1})
    try:
        assert sim.url.startswith("http://127.0.0.1:")
        assert sim.venue.now == start and sim.venue.account.wallet["USDT"] == Decimal(5000)
        url = sim.url + "/v5/market/tickers?category=linear"
        async with aiohttp.ClientSession() as session, session.get(url) as r:
            body = await r.json()
        assert body["retCode"] == 0 and body["time"] == int(start.timestamp() * 1000)
        assert sim.venue.now == start
        for secret in (DEFAULT_API_KEY, DEFAULT_API_SECRET):
            assert secret not in repr(sim) and secret not in repr(sim.front)
    finally:
        await sim.stop()


async def test_realtime_mode_advances_the_venue_clock() -> None:
    start = datetime(2024, 3, 1, tzinfo=UTC)
    sim = await start_simulator(start=start, speed=3600.0, tick_seconds=0.01)
    try:
        async with asyncio.timeout(10):
            await sim.wait_for_time(start + timedelta(minutes=2))
    finally:
        await sim.stop()
    stopped_at = sim.venue.now
    await asyncio.sleep(0)
    assert sim.venue.now == stopped_at


async def test_replay_feed_from_a_data_directory(tmp_path: Path) -> None:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    rows = [
        f"{(t0 + timedelta(hours=h)).strftime('%Y-%m-%dT%H:%M:%SZ')},100,101,99,{100 + h},1"
        for h in range(24 * 40)
    ]
    (tmp_path / "BTCUSDT_perp_1h.csv").write_text(
        "timestamp,open,high,low,close,volume\n" + "\n".join(rows)
    )
    settlements = [
        f"{(t0 + timedelta(hours=h)).strftime('%Y-%m-%dT%H:%M:%SZ')},0.0001"
        for h in range(0, 24 * 40, 4)
    ]  # 4-hourly, as Bybit lists some perps: the venue settles them so
    (tmp_path / "BTCUSDT_funding.csv").write_text(
        "timestamp,funding_rate\n" + "\n".join(settlements)
    )
    sim = await start_simulator(data_dir=tmp_path, wallet={"USDT": 1000})
    try:
        assert sim.venue.now == t0 + timedelta(days=30, hours=1)  # after the warm-up
        (ticker,) = sim.venue.tickers("linear", "BTCUSDT")
        assert ticker.last == Decimal(100 + 24 * 30)
        assert sim.venue.spec("linear", "BTCUSDT").funding_minutes == 240
        assert ticker.next_funding == t0 + timedelta(days=30, hours=4)
    finally:
        await sim.stop()


async def test_stop_releases_a_hung_request_quickly() -> None:
    sim = await start_simulator(faults="market/time:timeout:1")
    ex = bybit_client(sim.url, timeout_ms=60_000)
    try:
        reached = asyncio.Event()
        sim.faults.on_fire = lambda rule: reached.set()
        pending = asyncio.create_task(ex.fetch_time())
        async with asyncio.timeout(10):
            await reached.wait()
        began = time.monotonic()
        await sim.stop()
        assert time.monotonic() - began < 5
        with pytest.raises(ccxt.NetworkError):
            await pending
    finally:
        await ex.close()


def test_sim_main_prints_its_url_and_stops_on_sigterm() -> None:
    code = (
        "import asyncio; from bot.sim.server import sim_main; "
        "asyncio.run(sim_main('127.0.0.1', 0, 'k', 's', None, True, None, 1.0))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "listening on http://127.0.0.1:" in line and "'s'" not in line
        url = line.split("listening on ")[1].split()[0]

        async def probe() -> dict:
            ex = bybit_client(url, api_key="k", secret="s")
            try:
                await ex.load_markets()
                return await ex.fetch_balance()
            finally:
                await ex.close()

        balance = asyncio.run(probe())
        assert balance["USDT"]["total"] == 100000
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def test_paper_options_from_the_app_are_accepted() -> None:
    sim = await start_simulator(
        wallet={"USDT": Decimal(100), "BTC": Decimal(1), "SOL": Decimal(10)},
        seed=9,
        speed=60.0,
        data_dir=None,
    )
    ex = bybit_client(sim.url)
    try:
        markets = await ex.load_markets()
        assert {PERP, "SOL/USDT:USDT", "ETH/USDT"} <= set(markets)
        assert sim.venue.now <= datetime.now(UTC) + timedelta(minutes=5)
    finally:
        await ex.close()
        await sim.stop()
