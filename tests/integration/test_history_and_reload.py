"""Market history is fetched incrementally for strategies that need it; the config file toggles
hedges without a restart; an invalid file is rejected and the running configuration kept."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D
from itertools import pairwise

from bot.domain import IntentPurpose
from bot.history import HistoryCache
from bot.runner import ConfigWatcher, maybe_reload
from tests.integration.paper import DEMO, make_paper, make_venue

BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"


class Counting:
    def __init__(self, inner):
        self.inner = inner
        self.calls: list[tuple] = []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    async def fetch_ohlcv(self, symbol, timeframe, since, limit):
        self.calls.append((symbol, timeframe, since, limit))
        return await self.inner.fetch_ohlcv(symbol, timeframe, since, limit)

    async def fetch_funding_rate_history(self, symbol, since, limit):
        self.calls.append((symbol, since, limit))
        return await self.inner.fetch_funding_rate_history(symbol, since, limit)


async def test_history_is_cached_and_fetched_incrementally(store):
    from bot.exchange.inprocess import InProcessExchange

    venue = make_venue()
    port = Counting(InProcessExchange(venue))
    cache = HistoryCache(port, store)
    need = [(BTC, "1h", 48)]
    bars = (await cache.bars(need, venue.now))[f"{BTC}|1h"]
    assert len(bars) == 48 and bars == tuple(sorted(bars, key=lambda b: b.ts))
    assert all(b.ts + timedelta(hours=1) <= venue.now for b in bars)  # closed bars only
    first_calls = len(port.calls)

    venue.advance_to(venue.now + timedelta(minutes=10))  # no new bar has closed
    await cache.bars(need, venue.now)
    assert len(port.calls) == first_calls

    venue.advance_to(venue.now + timedelta(hours=2))
    newer = (await cache.bars(need, venue.now))[f"{BTC}|1h"]
    assert len(port.calls) == first_calls + 1
    assert port.calls[-1][2] == bars[-1].ts + timedelta(hours=1)  # asks only after the known bar
    assert newer[-1].ts > bars[-1].ts and len(newer) == 48

    # a new process reads the database first and fetches only what is missing
    fresh = Counting(port.inner)
    again = (await HistoryCache(fresh, store).bars(need, venue.now))[f"{BTC}|1h"]
    assert again == newer and fresh.calls == []


async def test_two_needs_on_one_series_get_the_largest_count(store):
    """A dynamic (721 bars) beside a cross (169) on the same perp: both get what they need, in
    either order of arrival, and the deeper need back-fills only the older bars, once."""
    from bot.exchange.inprocess import InProcessExchange

    venue = make_venue()
    port = Counting(InProcessExchange(venue))
    cache = HistoryCache(port, store)
    got = await cache.bars([(BTC, "1h", 169), (BTC, "1h", 721)], venue.now)
    assert len(got[f"{BTC}|1h"]) == 721

    # the other order: a cross first, then a dynamic added by a reload
    other = Counting(InProcessExchange(make_venue()))
    cache = HistoryCache(other, None)
    assert len((await cache.bars([(ETH, "1h", 169)], venue.now))[f"{ETH}|1h"]) == 169
    known = (await cache.bars([(ETH, "1h", 169)], venue.now))[f"{ETH}|1h"]
    deep = (await cache.bars([(ETH, "1h", 169), (ETH, "1h", 721)], venue.now))[f"{ETH}|1h"]
    assert len(deep) == 721 and deep[-169:] == known
    times = [b.ts for b in deep]
    assert all(b - a == timedelta(hours=1) for a, b in pairwise(times))
    calls = len(other.calls)
    again = (await cache.bars([(ETH, "1h", 169), (ETH, "1h", 721)], venue.now))[f"{ETH}|1h"]
    assert again == deep and len(other.calls) == calls


async def test_engine_gives_a_dynamic_beside_a_cross_its_721_bars(tmp_path):
    """The engine's needs on one perp (cross: 169 bars, dynamic: 721) come back at 721, on the
    first cycle and on the next; the dynamic hedge decides on full history, not the fallback."""
    config = (
        '[planner]\ncooldown_seconds = 0\n[[hedges]]\nname = "eth-by-btc"\nspot_asset = "ETH"\n'
        'perp = "BTC/USDT:USDT"\nstrategy = "cross"\n[[hedges]]\nname = "btc"\n'
        'spot_asset = "BTC"\nperp = "BTC/USDT:USDT"\nstrategy = "dynamic"\n'
    )
    paper = await make_paper(f"sqlite+aiosqlite:///{tmp_path / 'needs.db'}", config=config)
    try:
        for _ in range(2):
            await paper.cycle()
            snapshot = await paper.engine._observe(paper.venue.now)
            assert len(snapshot.bars(BTC, "1h")) == 721
            assert len(snapshot.bars("ETH/USDT", "1h")) == 169
        dynamic = paper.engine.previous[("btc", BTC)]
        assert "insufficient history" not in dynamic.reason and "vol_ratio" in dynamic.details
    finally:
        await paper.close()


async def test_funding_history_is_fetched_after_the_next_settlement_not_every_cycle():
    from bot.exchange.inprocess import InProcessExchange

    venue = make_venue()
    port = Counting(InProcessExchange(venue))
    cache = HistoryCache(port, None)
    first = (await cache.funding([(BTC, 9)], venue.now))[BTC]
    assert len(first) == 9 and len(port.calls) == 1
    settled = first[-1].next_funding_time
    assert settled is not None
    due = settled + timedelta(hours=first[-1].interval_hours)
    # cycles every minute until just before the next settlement: no request
    while venue.now + timedelta(minutes=1) < due:
        venue.advance_to(min(due - timedelta(seconds=1), venue.now + timedelta(minutes=20)))
        assert (await cache.funding([(BTC, 9)], venue.now))[BTC] == first
    assert len(port.calls) == 1
    venue.advance_to(due + timedelta(minutes=1))
    later = (await cache.funding([(BTC, 9)], venue.now))[BTC]
    assert len(port.calls) == 2
    assert later[-1].next_funding_time == due and later[:-1] == first[1:]
    # a basis (3) beside a funding (9) hedge on the same perp: both read the 9
    assert len((await cache.funding([(BTC, 3), (BTC, 9)], venue.now))[BTC]) == 9


async def test_disable_close_and_invalid_reload(tmp_path):
    path = tmp_path / "hedgebot.toml"
    path.write_text(DEMO)
    paper = await make_paper(f"sqlite+aiosqlite:///{tmp_path / 'reload.db'}", config=DEMO)
    watcher = ConfigWatcher(path)
    try:
        await paper.cycle()
        await paper.cycle()
        assert (await paper.port.fetch_positions())[ETH].size < 0

        # disable eth, keeping its position (the default on_disable = "keep")
        path.write_text(DEMO.replace('name = "eth"', 'name = "eth"\nenabled = false'))
        watcher.requested = True
        await maybe_reload(paper.engine, watcher)
        before = len(await paper.store.intents(purpose=IntentPurpose.HEDGE))
        paper.venue.advance_to(paper.venue.now + timedelta(minutes=1))
        await paper.engine.run_cycle()
        assert len(await paper.store.intents(purpose=IntentPurpose.HEDGE)) == before
        assert (await paper.port.fetch_positions())[ETH].size < 0
        events = await paper.store.events(kind="config_reloaded")
        assert "hedge eth disabled" in events[0].message

        # an invalid file is rejected with its reasons; the running config stays
        path.write_text(DEMO + '\n[planner]\nrebalance_band = "wide"\n')
        watcher.requested = True
        await maybe_reload(paper.engine, watcher)
        rejected = await paper.store.events(kind="config_rejected")
        assert rejected and "planner" in rejected[0].message
        assert not paper.engine.strategies["eth"].hedge.enabled

        # on_disable = "close" closes the short
        path.write_text(
            DEMO.replace('name = "eth"', 'name = "eth"\nenabled = false\non_disable = "close"')
        )
        watcher.requested = True
        await maybe_reload(paper.engine, watcher)
        await paper.cycle()
        await paper.cycle()
        positions = await paper.port.fetch_positions()
        assert positions.get(ETH) is None or positions[ETH].size == 0
        assert positions[BTC].size <= D("-1.96")
        # the closed short leaves no stop behind
        stops = [o for o in await paper.port.fetch_open_orders(None) if o.trigger_price]
        assert [o.symbol for o in stops] == [BTC]
    finally:
        await paper.close()


async def test_file_change_is_noticed_without_a_signal(tmp_path):
    import os

    path = tmp_path / "hedgebot.toml"
    path.write_text(DEMO)
    watcher = ConfigWatcher(path)
    assert not watcher.due()
    path.write_text(DEMO.replace('name = "eth"', 'name = "eth"\nenabled = false'))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert watcher.due()
    assert not watcher.load().hedges[1].enabled
    assert not watcher.due()
