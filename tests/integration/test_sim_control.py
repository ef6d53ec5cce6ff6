"""Scenario control over HTTP: the signed /sim routes, scenario files, and a still clock."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest

import bot.sim
from bot.sim.bars import to_ms
from bot.sim.control_client import SimControl, SimControlError
from bot.sim.scenario import Scenario, ScenarioError
from bot.sim.server import DEFAULT_API_KEY
from tests.fixtures.sim.harness import PERP, T0, SimClient, sim_client

ROOT = Path(__file__).resolve().parents[2]
CRASH = Path(bot.sim.__file__).parent / "scenarios" / "crash_rebound.toml"


@pytest.fixture
async def sc() -> AsyncIterator[SimClient]:
    async with sim_client() as client:
        yield client


@pytest.fixture
async def ctl(sc: SimClient) -> AsyncIterator[SimControl]:
    async with SimControl(sc.sim.url) as control:
        yield control


async def test_advance_moves_the_clock_and_settles_on_the_way(
    sc: SimClient, ctl: SimControl
) -> None:
    await sc.ex.create_order(PERP, "market", "sell", 1, None, {"clientOrderId": "h-1"})
    answer = await ctl.advance(3900)  # 07:00 -> 08:05, over the 08:00 settlement
    assert answer["time"] == str(to_ms(T0 + timedelta(seconds=3900)))
    assert sc.sim.venue.now == T0 + timedelta(seconds=3900)
    (payment,) = await sc.ex.fetch_funding_history(PERP)
    assert payment["timestamp"] == to_ms(T0 + timedelta(hours=1))
    with pytest.raises(SimControlError) as refused:
        await ctl.advance(-5)
    assert refused.value.ret_code == 10001


async def test_price_sets_every_series_and_persists(sc: SimClient, ctl: SimControl) -> None:
    row = await ctl.price("BTC", "42000", basis="0.001")
    assert row == {"spot": "42000", "index": "42000", "perp": "42042", "mark": "42042"}
    await ctl.advance(6 * 3600)
    ticker = await sc.ex.fetch_ticker(PERP)
    assert (ticker["last"], ticker["markPrice"], ticker["indexPrice"]) == (42042, 42042, 42000)
    spot = await sc.ex.fetch_ticker("BTC/USDT")
    assert spot["last"] == 42000
    bars = await sc.ex.fetch_ohlcv("BTC/USDT", "1h", limit=3)
    assert [b[4] for b in bars][-2:] == [42000, 42000]  # the history follows the new level


async def test_price_moves_from_a_synthetic_feed_follow_the_new_level() -> None:
    from bot.sim.server import start_simulator

    sim = await start_simulator(seed=5, start=T0)
    try:
        async with SimControl(sim.url) as ctl:
            await ctl.price("BTC", "30000")
            await ctl.advance(24 * 3600)
            spot = Decimal((await ctl.state())["prices"]["BTC"]["spot"])
    finally:
        await sim.stop()
    assert Decimal(20000) < spot < Decimal(45000)  # moved on from 30000, never back to ~60000


async def test_a_price_move_fires_a_stop_at_once(sc: SimClient, ctl: SimControl) -> None:
    await sc.ex.create_order(PERP, "market", "sell", 1, None, {"clientOrderId": "h-1"})
    stop = {"clientOrderId": "s-1", "triggerPrice": 66000, "reduceOnly": True}
    await sc.ex.create_order(PERP, "market", "buy", 1, None, {**stop, "triggerDirection": 1})
    state = await ctl.state()
    (order,) = state["openOrders"]
    assert (order["orderLinkId"], order["triggerPrice"], order["status"]) == (
        "s-1",
        "66000",
        "Untriggered",
    )
    before = state["executions"]
    await ctl.price("BTC", "67000")
    state = await ctl.state()
    assert state["openOrders"] == [] and state["executions"] == before + 1
    assert state["positions"] == []


async def test_wallet_sets_a_balance(sc: SimClient, ctl: SimControl) -> None:
    assert await ctl.wallet("BTC", "1.5") == {"coin": "BTC", "walletBalance": "1.5"}
    balance = await sc.ex.fetch_balance()
    assert balance["BTC"]["total"] == 1.5
    await ctl.wallet("BTC", "0")
    state = await ctl.state()
    assert "BTC" not in state["wallet"] and state["wallet"]["USDT"] == "100000"


async def test_state_lists_wallet_positions_orders_and_executions(
    sc: SimClient, ctl: SimControl
) -> None:
    await sc.ex.create_order(PERP, "market", "sell", 0.5, None, {"clientOrderId": "h-1"})
    await sc.ex.create_order(PERP, "limit", "buy", 0.1, 50000, {"clientOrderId": "l-1"})
    state = await ctl.state()
    assert state["wallet"] == {"BTC": "2", "ETH": "30", "USDT": "99983.5033"}
    (pos,) = state["positions"]
    assert pos["symbol"] == "BTCUSDT" and pos["size"] == "-0.5" and pos["entryPrice"] == "59988"
    assert pos["liqPrice"] == ""  # 2 BTC held cover the 0.5 short: no liquidation price
    (order,) = state["openOrders"]
    assert order["price"] == "50000" and order["triggerPrice"] == ""
    assert state["executions"] == 1 and state["time"] == str(to_ms(T0))
    json.dumps(state)  # plain JSON: amounts as strings


@pytest.mark.parametrize(
    ("headers", "code"),
    [({"X-BAPI-SIGN": "0" * 64}, 10004), ({"X-BAPI-API-KEY": "intruder"}, 10003)],
)
async def test_control_routes_refuse_a_bad_signature(
    sc: SimClient, headers: dict[str, str], code: int
) -> None:
    body = json.dumps({"coin": "BTC", "amount": "99"})
    signed = {**SimControl(sc.sim.url).headers(body), **headers}
    async with (
        aiohttp.ClientSession() as session,
        session.post(sc.sim.url + "/sim/wallet", data=body, headers=signed) as r,
    ):
        answer = await r.json()
    assert answer["retCode"] == code and set(answer) >= {"retMsg", "result", "time"}
    assert sc.sim.venue.account.wallet["BTC"] == 2
    async with (
        aiohttp.ClientSession() as session,
        session.get(sc.sim.url + "/sim/state") as r,
    ):
        assert (await r.json())["retCode"] == 10003  # unsigned


async def test_in_process_speed_zero_moves_only_when_told() -> None:
    from bot.sim.server import start_simulator

    sim = await start_simulator(start=T0, speed=0)
    try:
        async with SimControl(sim.url) as ctl:
            began = time.monotonic()
            while time.monotonic() - began < 0.5:  # real time passes, simulated time does not
                assert (await ctl.state())["time"] == str(to_ms(T0))
            sim.advance(90)  # in-process, between bot cycles
            assert (await ctl.state())["time"] == str(to_ms(T0 + timedelta(seconds=90)))
        with pytest.raises(RuntimeError, match="without a clock"):
            await sim.wait_for_time(T0 + timedelta(hours=1))
    finally:
        await sim.stop()


async def test_the_shipped_scenario_runs_end_to_end_over_http() -> None:
    async with sim_client(scenario=CRASH) as sc, SimControl(sc.sim.url) as ctl:
        spot = sc.ex.fetch_ticker
        assert (await spot("BTC/USDT"))["last"] == 60000
        await ctl.advance(4 * 3600)  # half way down the 6 h ramp that began at 1 h
        assert (await spot("BTC/USDT"))["last"] == 51000
        await ctl.advance(3 * 3600)  # 7 h: bottom, -30%
        assert (await spot("BTC/USDT"))["last"] == 42000
        await ctl.advance(6 * 3600)  # 13 h: +15% from the bottom
        assert (await spot("BTC/USDT"))["last"] == 48300
        assert sc.sim.venue.account.wallet["ETH"] == 30
        await ctl.advance(3600)
        state = await ctl.state()
        assert state["wallet"]["ETH"] == "10" and state["prices"]["BTC"]["perp"] == "48300"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[[step]]\nat = "1h"\naction = "melt"\ncoin = "BTC"', "action must be one of"),
        ('[[step]]\nat = "soon"\naction = "price"\ncoin = "BTC"\nprice = 1', "not a duration"),
        ('[[step]]\nat = "1h"\naction = "price"\ncoin = "BTC"', "either price or change"),
        (
            '[[step]]\nat="1h"\naction="price"\ncoin="BTC"\nchange="-0.3"\nover="6h"\n'
            '[[step]]\nat="2h"\naction="wallet"\ncoin="BTC"\namount="1"',
            "step 2: starts before step 1 ends",
        ),
        ("step = 3", "at least one [[step]]"),
    ],
)
def test_bad_scenarios_are_named(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        Scenario.load(path)


def _cli(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "sim", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )


def test_cli_refuses_a_bad_scenario_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[step]]\nat = "1h"\naction = "price"\ncoin = "DOGE"\nprice = "1"')
    proc = _cli("--speed", "0", "--scenario", str(bad))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert err.strip().count("\n") == 0 and "DOGE" in err and "Traceback" not in err


async def test_speed_zero_keeps_the_clock_still_until_advanced() -> None:
    proc = _cli("--speed", "0", "--scenario", str(CRASH))
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "clock still" in line, line
        url = line.split("listening on ")[1].split()[0]
        async with SimControl(url) as ctl:
            first = await ctl.state()
            began = time.monotonic()
            while time.monotonic() - began < 1.0:  # a real second of requests: time stands
                assert (await ctl.state())["time"] == first["time"]
            await ctl.advance(3600)  # the crash ramp begins
            crash = await ctl.state()
            await ctl.advance(6 * 3600)
            later = await ctl.state()
        assert int(later["time"]) - int(first["time"]) == 7 * 3600 * 1000
        bottom, top = (Decimal(s["prices"]["BTC"]["spot"]) for s in (later, crash))
        assert bottom == top * Decimal("0.7")
        assert DEFAULT_API_KEY not in line
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def test_a_running_clock_keeps_pace_after_an_advance() -> None:
    from bot.sim.server import start_simulator

    sim = await start_simulator(start=T0, speed=3600.0, tick_seconds=0.01)
    try:
        async with SimControl(sim.url) as ctl:
            await ctl.advance(86400)  # a day ahead of the real-time clock's own schedule
        ahead = sim.venue.now
        async with asyncio.timeout(5):  # not the 24 s the clock would need to catch up
            await sim.wait_for_time(ahead + timedelta(minutes=2))
    finally:
        await sim.stop()
