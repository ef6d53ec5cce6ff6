from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from bot.domain import (
    IntentPurpose,
    IntentStatus,
    MarketKind,
    OrderIntent,
    OrderKind,
    OrderState,
    Side,
)
from bot.errors import FatalExchangeError, OrderRejected
from bot.exchange.inprocess import InProcessExchange
from bot.exchange.port import ExchangePort
from bot.sim.manual import ManualFeed
from bot.sim.venue import Venue

T0 = datetime(2024, 1, 1, 6, 30, tzinfo=UTC)
PERP, SPOT = "BTC/USDT:USDT", "BTC/USDT"


@pytest.fixture
def feed() -> ManualFeed:
    return ManualFeed({"BTC": 60000, "ETH": 3000}, start=T0 - timedelta(days=3))


@pytest.fixture
def venue(feed: ManualFeed) -> Venue:
    return Venue(feed, T0)


@pytest.fixture
def port(venue: Venue) -> InProcessExchange:
    return InProcessExchange(venue)


def intent(cid: str, side: Side, qty: str, symbol: str = PERP, **kw: object) -> OrderIntent:
    return OrderIntent(cid, "btc", 1, symbol, side, D(qty), **kw)  # type: ignore[arg-type]


async def test_is_an_exchange_port_with_spot_and_perp_markets(port: InProcessExchange) -> None:
    assert isinstance(port, ExchangePort)
    markets = await port.load_markets()
    assert set(markets) == {"BTC/USDT", "BTC/USDT:USDT", "ETH/USDT", "ETH/USDT:USDT"}
    perp = markets[PERP]
    assert (perp.kind, perp.venue_id, perp.settle, perp.amount_step, perp.price_tick) == (
        MarketKind.PERP,
        "BTCUSDT",
        "USDT",
        D("0.001"),
        D("0.10"),
    )
    assert perp.min_notional == D(5) and perp.max_leverage == D(100)
    assert markets[SPOT].kind == MarketKind.SPOT and markets[SPOT].settle is None


async def test_hedge_short_shows_as_negative_position_fill_and_margin(
    port: InProcessExchange,
) -> None:
    ack = await port.create_order(intent("h-1", Side.SELL, "0.5"))
    assert ack.status == IntentStatus.OPEN and ack.venue_order_id
    positions = await port.fetch_positions()
    assert positions[PERP].size == D("-0.5") and positions[PERP].mark_price == D(60000)
    (fill,) = await port.fetch_fills(None, None)
    assert (fill.client_order_id, fill.side, fill.qty, fill.symbol) == (
        "h-1",
        Side.SELL,
        D("0.5"),
        PERP,
    )
    assert fill.fee > 0 and fill.fee_asset == "USDT" and fill.ts == T0
    balances = await port.fetch_balances()
    usdt = balances["USDT"]
    assert usdt.used == D(3000) and usdt.free == usdt.total - usdt.used
    assert balances["BTC"].total == D(2)
    report = await port.fetch_order(PERP, "h-1")
    assert report is not None and report.state == OrderState.CLOSED and report.filled == D("0.5")
    assert await port.fetch_order(PERP, "nope") is None
    assert await port.fetch_order(SPOT, "h-1") is None


async def test_stop_rests_and_fires_through_the_port(
    port: InProcessExchange, venue: Venue, feed: ManualFeed
) -> None:
    await port.create_order(intent("h-1", Side.SELL, "0.5"))
    stop = intent(
        "sl-1",
        Side.BUY,
        "0.5",
        kind=OrderKind.STOP_MARKET,
        trigger_price=D(69000),
        purpose=IntentPurpose.STOP,
    )
    await port.create_order(stop)
    (open_order,) = await port.fetch_open_orders(None)
    assert (open_order.kind, open_order.trigger_price, open_order.reduce_only) == (
        OrderKind.STOP_MARKET,
        D(69000),
        True,
    )
    assert (await port.fetch_open_orders(PERP)) == [open_order]
    feed.set(T0 + timedelta(minutes=1), "BTC", 70000)
    venue.advance_to(T0 + timedelta(minutes=1))
    assert await port.fetch_open_orders(None) == []
    assert await port.fetch_positions() == {}
    report = await port.fetch_order(PERP, "sl-1")
    assert report is not None and report.state == OrderState.CLOSED


async def test_venue_rejections_carry_code_and_message(port: InProcessExchange) -> None:
    with pytest.raises(OrderRejected, match=r"^110017 Reduce-only") as exc:
        await port.create_order(intent("r-1", Side.BUY, "0.1", reduce_only=True))
    assert exc.value.code == "110017"
    first = await port.create_order(intent("d-1", Side.SELL, "0.1"))
    # the same order again is found and acknowledged, never sent twice (as over ccxt)
    again = await port.create_order(intent("d-1", Side.SELL, "0.1"))
    assert again.venue_order_id == first.venue_order_id and again.created_at is not None
    with pytest.raises(OrderRejected, match="already names another order") as dup:
        await port.create_order(intent("d-1", Side.SELL, "0.2"))
    assert dup.value.code == "duplicate_client_id"
    with pytest.raises(OrderRejected, match=r"^110007 "):
        await port.create_order(intent("big", Side.SELL, "100"))
    with pytest.raises(FatalExchangeError):
        await port.create_order(intent("x", Side.SELL, "1", symbol="DOGE/USDT:USDT"))


async def test_cancel_by_client_id(port: InProcessExchange) -> None:
    await port.create_order(intent("l-1", Side.BUY, "0.1", kind=OrderKind.LIMIT, price=D(50000)))
    assert await port.cancel_order(PERP, "l-1") is True
    assert await port.cancel_order(PERP, "l-1") is False
    assert await port.cancel_order(PERP, "never") is False
    report = await port.fetch_order(PERP, "l-1")
    assert report is not None and report.state == OrderState.CANCELLED and report.reason


async def test_funding_received_by_a_short_is_positive(
    port: InProcessExchange, venue: Venue
) -> None:
    await port.create_order(intent("h-1", Side.SELL, "1"))
    venue.advance_to(T0 + timedelta(hours=10))
    first, second = await port.fetch_funding_payments(None, None)
    assert first.amount == D(6) and first.rate == D("0.0001") and first.position_size == D(-1)
    assert first.ts == datetime(2024, 1, 1, 8, tzinfo=UTC) and first.ts < second.ts
    assert await port.fetch_funding_payments(PERP, second.ts) == [second]
    assert await port.fetch_fills(PERP, T0 + timedelta(seconds=1)) == []


async def test_tickers_funding_rates_and_leverage(port: InProcessExchange) -> None:
    tickers = await port.fetch_tickers([PERP, SPOT])
    assert tickers[PERP].mark == D(60000) and tickers[PERP].bid < tickers[PERP].ask
    assert tickers[SPOT].mark is None and tickers[SPOT].price == D(60000)
    rates = await port.fetch_funding_rates([PERP, SPOT])
    assert set(rates) == {PERP}
    assert rates[PERP].rate == D("0.0001") and rates[PERP].next_funding_time == datetime(
        2024, 1, 1, 8, tzinfo=UTC
    )
    await port.set_leverage(PERP, D(3))
    await port.set_leverage(PERP, D(3))  # "not modified" is tolerated
    await port.create_order(intent("h-1", Side.SELL, "0.3"))
    assert (await port.fetch_positions())[PERP].leverage == D(3)


async def test_history_reads_are_oldest_first(port: InProcessExchange) -> None:
    bars = await port.fetch_ohlcv(PERP, "1h", None, 5)
    assert (
        len(bars) == 5
        and bars[0].ts < bars[-1].ts
        and bars[-1].ts == datetime(2024, 1, 1, 6, tzinfo=UTC)
    )
    since = datetime(2023, 12, 31, tzinfo=UTC)
    rates = await port.fetch_funding_rate_history(PERP, since, 3)
    assert [r.next_funding_time for r in rates] == [
        since + timedelta(hours=8 * k) for k in range(3)
    ]
    latest = await port.fetch_funding_rate_history(PERP, None, 2)
    assert [r.next_funding_time.hour for r in latest] == [16, 0]  # type: ignore[union-attr]
    with pytest.raises(FatalExchangeError):
        await port.fetch_ohlcv(PERP, "7x", None, 5)


async def test_spot_order_through_the_port(port: InProcessExchange) -> None:
    await port.create_order(intent("s-1", Side.BUY, "0.1", symbol=SPOT))
    balances = await port.fetch_balances()
    assert balances["BTC"].total == D("2.0999")  # 0.1 bought, its 0.1% fee paid in BTC
    (fill,) = await port.fetch_fills(SPOT, None)
    assert fill.symbol == SPOT and fill.qty == D("0.1")
    assert await port.fetch_fills(None, None) == []  # None means the linear perps
