"""Paper mode through the real ccxt path: the bot against the Bybit v5 simulator over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import build_app, ensure_schema
from bot.domain import IntentPurpose, IntentStatus
from bot.errors import ConfigError
from bot.settings import RuntimeSettings, parse_config
from bot.sim.markets import VenueConfig
from bot.sim.server import start_simulator
from bot.sim.synthetic import SyntheticFeed
from bot.sim.venue import Venue
from bot.store.migrate import upgrade

BASES = [
    "BTC",
    "ETH",
    "SOL",
    "XRP",
    "ADA",
    "DOGE",
    "TRX",
    "LTC",
    "BCH",
    "LINK",
    "DOT",
    "AVAX",
    "ATOM",
    "UNI",
    "XLM",
    "ETC",
    "FIL",
    "NEAR",
    "APT",
    "ARB",
]
START = datetime(2024, 3, 1, 0, 30, tzinfo=UTC)


def _config(bases: list[str]) -> str:
    text = "[planner]\ncooldown_seconds = 0\n[risk]\nmax_orders_per_minute = 100\n"
    for b in bases:
        text += f'[[hedges]]\nname = "{b.lower()}"\nspot_asset = "{b}"\nperp = "{b}/USDT:USDT"\n'
    return text


async def _steady_state_requests(tmp_path, n: int) -> tuple[int, dict]:
    bases = BASES[:n]
    feed = SyntheticFeed({b: 100 for b in bases}, seed=3)
    wallet = {"USDT": "100000", **{b: "50" for b in bases}}
    venue = Venue(feed, START, VenueConfig.for_bases(bases, wallet=wallet))
    sim = await start_simulator(venue=venue)
    runtime = RuntimeSettings(
        mode="paper", venue_url=sim.url, database_url=f"sqlite+aiosqlite:///{tmp_path / f'r{n}.db'}"
    )
    app = await build_app(runtime, parse_config(_config(bases)), clock=lambda: venue.now)
    try:
        for _ in range(3):  # hedge, protect, settle into the steady state
            venue.advance_to(venue.now + timedelta(minutes=1))
            await app.engine.run_cycle()
        positions = await app.port.fetch_positions()
        assert all(positions[f"{b}/USDT:USDT"].size == D(-50) for b in bases)
        sim.front.requests.clear()
        venue.advance_to(venue.now + timedelta(minutes=1))
        outcome = await app.engine.run_cycle()
        assert outcome.outcome == "ok" and outcome.summary["orders"] == 0
        per_endpoint = {f"{m} {p}": c for (m, p), c in sim.front.requests.items()}
        return sum(sim.front.requests.values()), per_endpoint
    finally:
        await app.close()
        await sim.stop()


async def test_reads_per_cycle_do_not_grow_with_the_number_of_hedges(tmp_path):
    one, detail_one = await _steady_state_requests(tmp_path, 1)
    twenty, detail_twenty = await _steady_state_requests(tmp_path, 20)
    assert one == twenty, (detail_one, detail_twenty)
    assert detail_twenty["GET /v5/account/wallet-balance"] == 1
    assert detail_twenty["GET /v5/position/list"] == 1
    assert detail_twenty["GET /v5/market/tickers"] == 2  # linear and spot, once each
    assert detail_twenty["GET /v5/order/realtime"] == 1  # conditional stops in the same listing
    assert twenty == 5, detail_twenty


async def test_schema_behind_head_stops_with_the_command_to_run(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await upgrade(url)
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(sa.text("UPDATE alembic_version SET version_num = '0000'"))
    await engine.dispose()
    with pytest.raises(ConfigError, match="run `hedgebot db upgrade`"):
        await ensure_schema(url, auto_migrate=False)


def _env(tmp_path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEDGEBOT_")}
    env.update(
        {
            "HEDGEBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'd.db'}",
            "HEDGEBOT_HEARTBEAT_FILE": str(tmp_path / "heartbeat"),
            **extra,
        }
    )
    return env


def test_sigterm_finishes_the_cycle_and_exits_0(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--interval", "0.2"],
        cwd=tmp_path,
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    heartbeat = tmp_path / "heartbeat"
    deadline = time.monotonic() + 60
    while not heartbeat.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # polling for the first completed cycle, not a fixed wait
    assert heartbeat.exists(), proc.communicate(timeout=10)[0]
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert "stopped" in out and "order sent" in out
    assert "Traceback" not in out


def test_live_is_refused_naming_the_missing_opt_in(tmp_path):
    env = _env(
        tmp_path,
        HEDGEBOT_MODE="live",
        HEDGEBOT_API_KEY="livekey-123456",
        HEDGEBOT_API_SECRET="livesecret-abcdef",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "HEDGEBOT_ALLOW_LIVE=true" in proc.stderr and "--i-understand-live" in proc.stderr
    assert "livesecret-abcdef" not in proc.stderr + proc.stdout


@pytest.mark.parametrize(
    ("endpoint", "kind"),
    [
        ("order/create-batch", "drop_after_accept"),  # two hedges: one batch
        ("order/create-batch", "timeout"),
        ("position/list", "http503"),
        ("order/realtime", "ratelimit"),
    ],
)
async def test_venue_faults_over_http_never_double_a_hedge(tmp_path, endpoint, kind):
    feed = SyntheticFeed({"BTC": 60000, "ETH": 3000}, seed=5)
    wallet = {"USDT": "100000", "BTC": "2", "ETH": "30"}
    venue = Venue(feed, START, VenueConfig.for_bases(["BTC", "ETH"], wallet=wallet))
    sim = await start_simulator(venue=venue)
    param = {"timeout": 3}.get(kind)
    sim.faults.add(endpoint, kind, param=param, times=1)
    runtime = RuntimeSettings(
        mode="paper", venue_url=sim.url, database_url=f"sqlite+aiosqlite:///{tmp_path / 'f.db'}"
    )
    app = await build_app(runtime, parse_config(_config(["BTC", "ETH"])), clock=lambda: venue.now)
    app.engine.port._client.timeout = 2000  # ms: a hung request times out before the sim drops it
    try:
        for _ in range(4):
            venue.advance_to(venue.now + timedelta(minutes=1))
            await app.engine.run_cycle()
        assert sim.faults.fired, "the fault never fired"
        positions = await app.port.fetch_positions()
        assert positions["BTC/USDT:USDT"].size == D("-2") and positions["ETH/USDT:USDT"].size == D(
            "-30"
        )
        hedges = await app.store.intents(purpose=IntentPurpose.HEDGE)
        filled = [i for i in hedges if i.status == IntentStatus.FILLED]
        assert sorted(i.symbol for i in filled) == ["BTC/USDT:USDT", "ETH/USDT:USDT"]
        # anything else is an order the venue provably never saw (a hung request it dropped)
        assert all(i.status == IntentStatus.LOST for i in hedges if i not in filled)
    finally:
        await app.close()
        await sim.stop()


def test_unreachable_venue_at_startup_exits_1_with_a_clear_message(tmp_path):
    env = _env(tmp_path, HEDGEBOT_VENUE_URL="http://127.0.0.1:9")  # nothing listens there
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--max-cycles", "1"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "error: load_markets" in proc.stderr and "Traceback" not in proc.stderr


def test_a_running_daemon_reloads_its_file_on_sighup_and_keeps_running(tmp_path):
    from bot.store import Store

    config = tmp_path / "hedgebot.toml"
    config.write_text(_config(["BTC", "ETH"]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--interval", "0.2", "--config", str(config)],
        cwd=tmp_path,
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    heartbeat = tmp_path / "heartbeat"
    try:
        deadline = time.monotonic() + 60
        while not heartbeat.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        config.write_text(
            _config(["BTC", "ETH"]).replace('name = "eth"', 'name = "eth"\nenabled = false')
        )
        proc.send_signal(signal.SIGHUP)
        store = Store.from_url(f"sqlite+aiosqlite:///{tmp_path / 'd.db'}")

        async def reloaded() -> list:
            return await store.events(kind="config_reloaded")

        import asyncio

        events: list = []
        while not events and proc.poll() is None and time.monotonic() < deadline:
            events = asyncio.run(reloaded())
            time.sleep(0.05)
        asyncio.run(store.close())
        assert events and "hedge eth disabled" in events[0].message
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert "config reloaded" in out
