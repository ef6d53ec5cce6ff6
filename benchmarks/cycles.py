"""Cycle benchmarks over HTTP (issue 10.7): the bot as shipped, the bot with ccxt's own rate limiter
instead of the venue-window budget, and a naive loop awaiting one request per asset in turn.

Every rig serves one simulated venue over Bybit v5 on loopback with Bybit's request windows
enforced (bot/sim/ratelimit.py) and ``latency_ms`` added to every request. The engine is warmed up
in-process (hedged and protected without HTTP), then measured through ccxt on the same venue and
database, so 200 hedges need no 40 s of paced order placement before the first sample. The warmed
venue is then served by a process of its own (venue_process.py): the bot's cycle is timed without
the venue's work in its event loop, as against a real exchange; the clock and the wallet move
through the simulator's control routes, outside the timed part.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from ccxt.base import errors as ccxt_errors
from rig import START, STEP, sim_connection
from venue_process import VenueProcess

from bot.engine import Engine
from bot.exchange.ccxt_adapter import CcxtExchange
from bot.exchange.factory import VenueConnection, _client, create_exchange
from bot.exchange.inprocess import InProcessExchange
from bot.exchange.venues import BYBIT
from bot.settings import parse_config
from bot.sim import persist
from bot.sim.control_client import SimControl
from bot.sim.markets import VenueConfig
from bot.sim.synthetic import SyntheticFeed
from bot.sim.venue import Venue
from bot.store import Store
from bot.store.migrate import upgrade

MODES = ("bot", "ccxt-limiter", "naive")
HELD = Decimal(50)


def bases(n: int) -> list[str]:
    return [f"C{i:03d}" for i in range(n)]


def config_text(coins: list[str]) -> str:
    text = "[planner]\ncooldown_seconds = 0\n[risk]\nmax_orders_per_minute = 100000\n"
    for b in coins:
        text += f'[[hedges]]\nname = "{b.lower()}"\nspot_asset = "{b}"\nperp = "{b}/USDT:USDT"\n'
    return text


def conn(url: str, *, limiter: bool = False) -> VenueConnection:
    return sim_connection(url, rate_limit=limiter)


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class CycleRig:
    proc: VenueProcess
    control: SimControl
    clock: Clock
    store: Store
    engine: Engine | None
    client: Any  # the naive loop's raw ccxt client
    coins: list[str]
    held: dict[str, Decimal]
    refused: int = 0

    async def close(self) -> None:
        if self.engine is not None:
            await self.engine.port.close()
        if self.client is not None:
            await self.client.close()
        await self.control.close()
        await self.store.close()
        self.refused = self.proc.stop()


async def make_rig(n: int, mode: str, latency_ms: int, workdir: Path) -> CycleRig:
    coins = bases(n)
    wallet = {"USDT": str(10_000 * n + 100_000), **{c: str(HELD) for c in coins}}
    venue = Venue(
        SyntheticFeed(dict.fromkeys(coins, 100), seed=3),
        START,
        VenueConfig.for_bases(coins, wallet=wallet),
    )
    db = workdir / f"cyc-{n}-{mode}-{latency_ms}-{time.monotonic_ns()}.db"
    url = f"sqlite+aiosqlite:///{db}"
    await upgrade(url)
    clock = Clock(venue.now)
    store = Store.from_url(url, clock=clock)
    cfg = parse_config(config_text(coins))
    warm = Engine(port=InProcessExchange(venue), store=store, config=cfg, clock=clock, tag="w001")
    await warm.start()
    for _ in range(3):
        venue.advance_to(venue.now + STEP)
        clock.now = venue.now
        await warm.run_cycle()
    state = workdir / f"{db.stem}.venue.pickle"
    persist.save(venue, state)
    proc = VenueProcess(state, latency_ms)  # the parent's venue copy stands still from here
    engine, client = None, None
    if mode == "naive":  # ccxt as it comes: its own limiter on
        client = _client("bybit", BYBIT, conn(proc.url, limiter=True))
        await client.load_markets()
    else:
        if mode == "bot":
            port: Any = create_exchange(conn(proc.url))
        else:  # ccxt's own limiter (one request per 100 ms per client), no venue-window budget
            port = CcxtExchange(_client("bybit", BYBIT, conn(proc.url, limiter=True)), BYBIT)
        engine = Engine(port=port, store=store, config=cfg, clock=clock, tag="b001")
        engine._leverage = dict(warm._leverage)  # set by the warm-up already
        await engine.start()
    held = {c: venue.account.wallet.get(c, HELD) for c in coins}
    return CycleRig(proc, SimControl(proc.url), clock, store, engine, client, coins, held)


async def naive_cycle(r: CycleRig, orders: bool) -> int:
    """What a first version would do: for each asset in turn its tickers, position and open
    orders, then an order if it must; the wallet once. Returns the requests sent."""
    c = r.client
    calls: list[tuple[Any, tuple]] = [(c.fetch_balance, ())]
    for coin in r.coins:
        perp, spot = f"{coin}/USDT:USDT", f"{coin}/USDT"
        calls += [(c.fetch_ticker, (spot,)), (c.fetch_ticker, (perp,))]
        calls += [(c.fetch_positions, ([perp],)), (c.fetch_open_orders, (perp,))]
        if orders:
            calls.append((c.create_order, (perp, "market", "sell", 1.0)))
    for call, args in calls:
        # refused by the venue's window: the simulator counts it
        with contextlib.suppress(ccxt_errors.RateLimitExceeded):
            await call(*args)
    return len(calls)


async def sample(r: CycleRig, *, rebalance: bool, round_no: int) -> tuple[float, int, int]:
    """One cycle: (milliseconds, venue requests, orders sent)."""
    if rebalance:  # every holding moves: every hedge must trade, every stop moves
        step = Decimal(5) if round_no % 2 == 0 else Decimal(-5)
        for coin in r.coins:
            r.held[coin] += step
        await asyncio.gather(*(r.control.wallet(c, r.held[c]) for c in r.coins))
    await r.control.advance(STEP.total_seconds())
    r.clock.now += STEP
    began = time.perf_counter()
    if r.engine is None:
        sent = await naive_cycle(r, rebalance)
        return (time.perf_counter() - began) * 1000, sent, len(r.coins) if rebalance else 0
    outcome = await r.engine.run_cycle()
    took = (time.perf_counter() - began) * 1000
    summary = outcome.summary
    return took, int(summary.get("venue_requests", 0)), int(summary.get("orders", 0))


async def measure(n: int, mode: str, latency_ms: int, samples: int, workdir: Path) -> dict:
    r = await make_rig(n, mode, latency_ms, workdir)
    try:
        await sample(r, rebalance=False, round_no=0)  # connections opened, caches warm
        count = 1 if mode == "naive" and n >= 200 else samples  # 45 s a sample at 50 ms
        steady = [await sample(r, rebalance=False, round_no=i) for i in range(count)]
        moved = [await sample(r, rebalance=True, round_no=i) for i in range(max(1, samples // 2))]
    finally:
        await r.close()
    return {
        "refused": r.refused,  # requests the venue's windows refused (the bot: none)
        "n": n,
        "mode": mode,
        "latency": latency_ms,
        "steady_ms": statistics.median(s[0] for s in steady),
        "steady_requests": statistics.median(s[1] for s in steady),
        "rebalance_ms": statistics.median(s[0] for s in moved),
        "rebalance_requests": statistics.median(s[1] for s in moved),
        "rebalance_orders": statistics.median(s[2] for s in moved),
    }


def table(rows: list[dict]) -> str:
    """Markdown: one line per (hedges, latency), the bot and the ratios of the others to it."""
    by = {(r["n"], r["latency"], r["mode"]): r for r in rows}
    keys = sorted({(r["n"], r["latency"]) for r in rows})
    out = [
        "| hedges | latency | steady ms (bot) | requests | x ccxt limiter | x naive "
        "| rebalance ms (bot) | orders | requests | x ccxt limiter | x naive "
        "| refused (bot / ccxt limiter / naive) | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n, lat in keys:
        bot = by.get((n, lat, "bot"))
        if bot is None:
            continue

        def ratio(mode: str, key: str, bot: dict = bot, n: int = n, lat: int = lat) -> str:
            other = by.get((n, lat, mode))
            return f"{other[key] / bot[key]:.1f}x" if other and bot[key] else "-"

        out.append(
            f"| {n} | {lat} ms | {bot['steady_ms']:.0f} | {bot['steady_requests']:.0f} "
            f"| {ratio('ccxt-limiter', 'steady_ms')} | {ratio('naive', 'steady_ms')} "
            f"| {bot['rebalance_ms']:.0f} | {bot['rebalance_orders']:.0f} "
            f"| {bot['rebalance_requests']:.0f} "
            f"| {ratio('ccxt-limiter', 'rebalance_ms')} | {ratio('naive', 'rebalance_ms')} "
            f"| {' / '.join(str(by.get((n, lat, m), {}).get('refused', '-')) for m in MODES)} "
            f"| {bot.get('load', '')} |"
        )
    return "\n".join(out)
