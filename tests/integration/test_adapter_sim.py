"""CcxtExchange end to end: factory -> unmodified ccxt bybit -> the loopback Bybit v5 simulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal as D
from typing import Any

import pytest
from pydantic import SecretStr
from structlog.testing import capture_logs

from bot.domain import IntentPurpose, IntentStatus, OrderIntent, OrderKind, OrderState, Side
from bot.errors import AmbiguousSubmit, FatalExchangeError, OrderRejected, TransientError
from bot.exchange.ccxt_adapter import CcxtExchange
from bot.exchange.factory import VenueConnection, create_exchange
from bot.exchange.retry import RetryPolicy
from bot.sim.manual import ManualFeed
from bot.sim.server import DEFAULT_API_KEY, DEFAULT_API_SECRET, RunningSimulator, start_simulator
from tests.fixtures.sim.harness import PERP, SPOT, T0

FAST = RetryPolicy(
    attempts=4, initial_wait=0.01, max_wait=0.05, jitter=0.01, rate_limited_wait=0.02
)


@dataclass
class Rig:
    sim: RunningSimulator
    feed: ManualFeed
    port: CcxtExchange

    def requests(self, path: str) -> int:
        return sum(n for (_, p), n in self.sim.front.requests.items() if p == "/v5/" + path)

    def link_count(self, client_order_id: str) -> int:
        return sum(1 for o in self.sim.venue.book.orders.values() if o.link_id == client_order_id)

    def advance(self, delta: timedelta) -> None:
        self.sim.venue.advance_to(self.sim.venue.now + delta)


@asynccontextmanager
async def rig(
    *, secret: str = DEFAULT_API_SECRET, timeout_ms: int = 3000, sleep: Any = None, **kw: Any
) -> AsyncIterator[Rig]:
    feed = ManualFeed({"BTC": 60000, "ETH": 3000}, start=T0 - timedelta(days=3))
    sim = await start_simulator(feed=feed, start=T0, **kw)
    port = create_exchange(
        VenueConnection(
            venue="bybit",
            mode="paper",
            api_key=SecretStr(DEFAULT_API_KEY),
            api_secret=SecretStr(secret),
            url=sim.url,
            timeout_ms=timeout_ms,
            enable_rate_limit=False,
        ),
        retry=FAST,
    )
    assert isinstance(port, CcxtExchange)
    if sleep is not None:
        port._sleep_kw = {"sleep": sleep}
    try:
        yield Rig(sim, feed, port)
    finally:
        await port.close()
        await sim.stop()


@pytest.fixture
async def r() -> AsyncIterator[Rig]:
    async with rig() as built:
        yield built


def hedge(cid: str = "hb-1-btc-1", **over: Any) -> OrderIntent:
    fields: dict = {
        "client_order_id": cid,
        "hedge": "btc",
        "cycle": 1,
        "symbol": PERP,
        "side": Side.SELL,
        "qty": D("0.5"),
    }
    fields.update(over)
    return OrderIntent(**fields)


async def test_every_port_method_end_to_end(r: Rig) -> None:
    port = r.port
    markets = await port.load_markets()
    assert {PERP, SPOT} <= set(markets)
    assert markets[PERP].amount_step == D("0.001") and markets[PERP].min_notional == D(5)

    balances = await port.fetch_balances()
    assert balances["USDT"].total == D(100000) and balances["BTC"].total == D(2)
    await port.set_leverage(PERP, D(5))
    await port.set_leverage(PERP, D(5))  # "leverage not modified" (110043) is tolerated
    with pytest.raises(FatalExchangeError, match="leverage must be between"):
        await port.set_leverage(PERP, D(500))

    ack = await port.create_order(hedge())
    assert ack.status == IntentStatus.OPEN and ack.venue_order_id
    report = await port.fetch_order(PERP, "hb-1-btc-1")
    assert report is not None and report.state == OrderState.CLOSED
    assert report.filled == D("0.5") and report.average_price is not None

    positions = await port.fetch_positions()
    assert positions[PERP].size == D("-0.5")
    assert positions[PERP].leverage == D(5)

    tickers = await port.fetch_tickers([PERP, SPOT])
    assert tickers[PERP].mark == D(60000) and tickers[SPOT].last == D(60000)
    funding = await port.fetch_funding_rates([PERP])
    assert funding[PERP].rate == D("0.0001")
    assert funding[PERP].next_funding_time == T0 + timedelta(hours=1)

    stop = hedge(
        "hb-1-btc-stop",
        side=Side.BUY,
        kind=OrderKind.STOP_MARKET,
        trigger_price=D(66000),
        reduce_only=True,
        purpose=IntentPurpose.STOP,
    )
    assert (await port.create_order(stop)).status == IntentStatus.OPEN
    (resting,) = await port.fetch_open_orders(None)
    assert resting.client_order_id == "hb-1-btc-stop"
    assert resting.kind == OrderKind.STOP_MARKET and resting.trigger_price == D(66000)
    assert resting.reduce_only and resting.qty == D("0.5")
    assert [o.client_order_id for o in await port.fetch_open_orders(PERP)] == ["hb-1-btc-stop"]
    assert await port.cancel_order(PERP, "hb-1-btc-stop") is True
    assert await port.cancel_order(PERP, "hb-1-btc-stop") is False
    cancelled = await port.fetch_order(PERP, "hb-1-btc-stop")
    assert cancelled is not None and cancelled.state == OrderState.CANCELLED
    assert await port.fetch_order(PERP, "never-sent") is None

    (fill,) = await port.fetch_fills(None, T0)
    assert fill.client_order_id == "hb-1-btc-1" and fill.side == Side.SELL
    assert fill.qty == D("0.5") and fill.fee > 0
    assert await port.fetch_fills(PERP, T0 + timedelta(minutes=1)) == []

    r.advance(timedelta(hours=1, minutes=1))  # through the 08:00 settlement
    (payment,) = await port.fetch_funding_payments(None, T0)
    assert payment.symbol == PERP and payment.amount > 0  # a short receives a positive rate
    assert payment.ts == T0 + timedelta(hours=1)
    assert await port.fetch_funding_payments(PERP, T0 + timedelta(hours=2)) == []

    bars = await port.fetch_ohlcv(PERP, "1h", T0 - timedelta(hours=5), 3)
    assert [b.ts for b in bars] == [T0 - timedelta(hours=h) for h in (5, 4, 3)]
    history = await port.fetch_funding_rate_history(PERP, None, 3)
    assert len(history) == 3 and history[-1].next_funding_time == T0 + timedelta(hours=1)
    assert [h.next_funding_time for h in history] == sorted(h.next_funding_time for h in history)


async def test_tickers_and_funding_of_one_cycle_cost_one_request_per_category(r: Rig) -> None:
    await r.port.load_markets()
    before = r.requests("market/tickers")
    await asyncio.gather(
        r.port.fetch_tickers([PERP, "ETH/USDT:USDT", SPOT, "ETH/USDT"]),
        r.port.fetch_funding_rates([PERP, "ETH/USDT:USDT"]),
    )
    assert r.requests("market/tickers") - before == 2  # linear + spot, whatever the symbols


async def test_dropped_response_after_accept_resolves_without_a_second_order(r: Rig) -> None:
    await r.port.load_markets()
    r.sim.faults.add("order/create", "drop_after_accept")
    with capture_logs() as logs:
        ack = await r.port.create_order(hedge("hb-drop"))
    (event,) = [e for e in logs if e["event"] == "create_order_outcome_unknown"]
    assert event["found"] is True and event["client_order_id"] == "hb-drop"
    assert ack.status == IntentStatus.OPEN and ack.venue_order_id
    assert r.link_count("hb-drop") == 1
    assert r.requests("order/create") == 1
    assert (await r.port.fetch_positions())[PERP].size == D("-0.5")


async def test_create_that_never_arrived_is_ambiguous_and_not_resent() -> None:
    async with rig(timeout_ms=300) as r:
        await r.port.load_markets()
        r.sim.faults.add("order/create", "timeout", param=1)
        with pytest.raises(AmbiguousSubmit):
            await r.port.create_order(hedge("hb-lost"))
        assert r.link_count("hb-lost") == 0
        assert r.requests("order/create") == 1


async def test_503_on_positions_is_retried_and_succeeds(r: Rig) -> None:
    await r.port.load_markets()
    r.sim.faults.add("position/list", "http503", times=2)
    assert await r.port.fetch_positions() == {}
    assert r.requests("position/list") == 3


async def test_rate_limit_is_retried_with_backoff() -> None:
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    async with rig(sleep=record) as r:
        await r.port.load_markets()
        r.sim.faults.add("account/wallet-balance", "ratelimit", times=2)
        balances = await r.port.fetch_balances()
        assert balances["USDT"].total == D(100000)
        assert r.requests("account/wallet-balance") == 3
        assert len(waits) == 2 and all(w >= FAST.rate_limited_wait for w in waits)


async def test_persistent_failure_gives_up_after_the_bounded_attempts(r: Rig) -> None:
    await r.port.load_markets()
    r.sim.faults.add("position/list", "http503", times=None)
    with pytest.raises(TransientError, match="ExchangeNotAvailable") as info:
        await r.port.fetch_positions()
    assert r.requests("position/list") == FAST.attempts
    assert "/v5/position/list" in str(info.value) and "settleCoin" not in str(info.value)


async def test_injected_rejection_keeps_the_venue_reason(r: Rig) -> None:
    await r.port.load_markets()
    r.sim.faults.add("order/create", "reject", param=110007)
    with pytest.raises(OrderRejected, match="ab not enough for new order") as info:
        await r.port.create_order(hedge("hb-poor"))
    assert info.value.code == "110007"
    assert r.requests("order/create") == 1


async def test_venue_rules_reject_with_their_reason(r: Rig) -> None:
    await r.port.load_markets()
    with pytest.raises(OrderRejected) as info:
        await r.port.create_order(hedge("hb-ro", side=Side.BUY, reduce_only=True))
    assert info.value.code == "110017"
    assert "reduce" in str(info.value).lower()
    with pytest.raises(OrderRejected):
        await r.port.create_order(hedge("hb-tiny", qty=D("0.0001")))


async def test_wrong_credentials_are_fatal_and_do_not_leak() -> None:
    async with rig(secret="not-the-secret") as r:
        await r.port.load_markets()  # public
        with pytest.raises(FatalExchangeError) as info:
            await r.port.fetch_balances()
        assert "not-the-secret" not in str(info.value)
        assert DEFAULT_API_KEY not in str(info.value)
        assert r.requests("account/wallet-balance") == 1


async def test_open_orders_follow_cursor_pages(r: Rig) -> None:
    await r.port.load_markets()
    count = 55  # more than one page of 50
    for i in range(count):
        limit = hedge(f"hb-limit-{i}", kind=OrderKind.LIMIT, price=D(70000 + i), qty=D("0.001"))
        await r.port.create_order(limit)
    before = r.requests("order/realtime")
    orders = await r.port.fetch_open_orders(None)
    assert len(orders) == count
    assert {o.price for o in orders} == {D(70000 + i) for i in range(count)}
    assert r.requests("order/realtime") - before == 2  # 2 pages, conditional orders included


async def test_the_opt_in_testnet_checks_pass_on_the_simulator(r: Rig) -> None:
    from tests.testnet.venue_checks import read_only, tiny_order_round_trip

    await read_only(r.port, PERP, SPOT)
    await tiny_order_round_trip(r.port, PERP)
    assert await r.port.fetch_positions() == {}  # it rested and was cancelled: nothing filled


async def test_rejected_timestamp_resyncs_the_clock_and_the_retry_succeeds(r: Rig) -> None:
    await r.port.load_markets()
    r.port._client.options["timeDifference"] = 60_000  # our clock a minute off the venue's
    balances = await r.port.fetch_balances()
    assert balances["USDT"].total == D(100000)
    assert r.requests("account/wallet-balance") == 2  # refused (10002), then accepted
    assert r.requests("market/time") == 1
    assert abs(r.port._client.options["timeDifference"]) < 5_000
