"""Time in the venue model: funding settlements, trigger orders, liquidation, market data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from bot.sim.book import OrderQuery
from bot.sim.errors import VenueError
from bot.sim.feeds import SyntheticFeed
from bot.sim.manual import ManualFeed
from bot.sim.markets import VenueConfig
from bot.sim.venue import Venue
from tests.fixtures.sim.venue_orders import perp

T0 = datetime(2024, 1, 1, 7, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)


@pytest.fixture
def feed() -> ManualFeed:
    return ManualFeed({"BTC": 60000, "ETH": 3000}, start=T0 - timedelta(days=2))


@pytest.fixture
def venue(feed: ManualFeed) -> Venue:
    return Venue(feed, T0)


def test_clock_never_goes_back(venue: Venue) -> None:
    with pytest.raises(ValueError):
        venue.advance_to(T0 - MIN)
    venue.advance_to(T0 + MIN)
    assert venue.now == T0 + MIN


def test_a_short_receives_positive_funding_at_each_settlement(
    venue: Venue, feed: ManualFeed
) -> None:
    venue.place_order(perp("Sell", "1"))
    venue.place_order(perp("Buy", "10", symbol="ETHUSDT"))
    usdt = venue.account.wallet["USDT"]
    venue.advance_to(T0 + timedelta(minutes=59))
    assert venue.executions("linear", exec_type="Funding") == []
    feed.set(T0 + 5 * HOUR, "BTC", mark=70000)
    venue.advance_to(T0 + 10 * HOUR)  # crosses 08:00 and 16:00
    fundings = venue.executions("linear", exec_type="Funding")[::-1]
    assert [(f.symbol, f.time.hour) for f in fundings] == [
        ("BTCUSDT", 8),
        ("ETHUSDT", 8),
        ("BTCUSDT", 16),
        ("ETHUSDT", 16),
    ]
    btc8, eth8, btc16, _ = fundings
    assert btc8.fee == D("-6") and btc8.side == "Sell" and btc8.fee_rate == D("0.0001")
    assert btc16.fee == D("-7") and btc16.price == D("70000")  # settled on the mark then
    assert eth8.fee == D("3") and eth8.side == "Buy"  # a long pays
    assert len({f.exec_id for f in fundings}) == 4
    assert venue.account.wallet["USDT"] == usdt + 6 + 7 - 3 - 3


def test_negative_funding_makes_a_short_pay(venue: Venue, feed: ManualFeed) -> None:
    feed.set_funding("BTC", "-0.0002")
    venue.place_order(perp("Sell", "1"))
    usdt = venue.account.wallet["USDT"]
    venue.advance_to(T0 + HOUR)
    assert venue.account.wallet["USDT"] == usdt - D("12")


def test_stop_market_fires_when_the_mark_rises_through_it(venue: Venue, feed: ManualFeed) -> None:
    venue.place_order(perp("Sell", "0.5"))
    stop = venue.place_order(
        perp(
            "Buy",
            "0.5",
            reduce_only=True,
            trigger_price="66000",
            trigger_direction=1,
            link_id="sl",
            trigger_by="MarkPrice",
        )
    )
    assert stop.status == "Untriggered" and stop.trigger_by == "MarkPrice"
    (listed,) = venue.orders_realtime(
        OrderQuery("linear", symbol="BTCUSDT", order_filter="StopOrder")
    )
    assert listed.link_id == "sl"
    assert venue.orders_realtime(OrderQuery("linear", symbol="BTCUSDT", order_filter="Order")) == []
    assert venue.wallet().total_initial_margin == D("3000")  # a stop holds no margin
    feed.set(T0 + MIN, "BTC", mark=65990)
    venue.advance_to(T0 + 2 * MIN)
    assert venue.order(link_id="sl").status == "Untriggered"  # type: ignore[union-attr]
    feed.set(T0 + 3 * MIN, "BTC", mark=66100)
    venue.advance_to(T0 + HOUR)
    done = venue.order(link_id="sl")
    assert done is not None and done.status == "Filled" and done.updated == T0 + 3 * MIN
    assert venue.positions() == []
    (hist,) = venue.order_history(OrderQuery("linear", link_id="sl"))
    assert hist.status == "Filled" and hist.trigger_price == D("66000")


def test_stop_falling_direction_and_cancel_deactivates(venue: Venue, feed: ManualFeed) -> None:
    venue.place_order(perp("Buy", "0.5"))
    stop = venue.place_order(
        perp("Sell", "0.5", reduce_only=True, trigger_price="55000", trigger_direction=2)
    )
    cancelled = venue.cancel_order("linear", "BTCUSDT", order_id=stop.order_id)
    assert cancelled.status == "Deactivated"
    feed.set(T0 + MIN, "BTC", 50000)
    venue.advance_to(T0 + 2 * MIN)
    assert venue.positions()[0].size == D("0.5")


def test_trigger_direction_must_point_away_from_the_mark(venue: Venue) -> None:
    venue.place_order(perp("Sell", "0.5"))
    with pytest.raises(VenueError) as exc:
        venue.place_order(
            perp("Buy", "0.5", reduce_only=True, trigger_price="59000", trigger_direction=1)
        )
    assert exc.value.ret_code == 110092
    with pytest.raises(VenueError) as exc:
        venue.place_order(perp("Buy", "0.5", trigger_price="61000", trigger_direction=2))
    assert exc.value.ret_code == 110093


def test_reduce_only_stop_shrinks_to_what_is_left(venue: Venue, feed: ManualFeed) -> None:
    venue.place_order(perp("Sell", "0.5"))
    venue.place_order(perp("Buy", "0.5", reduce_only=True, trigger_price="66000", link_id="sl"))
    venue.place_order(perp("Buy", "0.3", reduce_only=True))
    feed.set(T0 + MIN, "BTC", 67000)
    venue.advance_to(T0 + MIN)
    stop = venue.order(link_id="sl")
    assert stop is not None and stop.status == "Filled" and stop.cum_qty == D("0.2")
    assert venue.positions() == []


def test_liquidation_when_the_mark_crosses_the_liquidation_price(feed: ManualFeed) -> None:
    config = VenueConfig.for_bases(["BTC", "ETH"], wallet={"USDT": 10000})
    venue = Venue(feed, T0, config)
    venue.set_leverage("BTCUSDT", D(20))
    venue.place_order(perp("Sell", "2"))  # 120k notional on 10k equity
    liq = venue.positions()[0].liquidation_price
    assert liq is not None and D(64000) < liq < D(65000)
    feed.set(T0 + MIN, "BTC", mark=liq - 50)
    venue.advance_to(T0 + MIN)
    assert venue.liquidations == [] and venue.positions()[0].size == D("-2")
    feed.set(T0 + 2 * MIN, "BTC", mark=liq + 50)
    venue.advance_to(T0 + 3 * MIN)
    (event,) = venue.liquidations
    assert event.size == D("-2") and event.time == T0 + 2 * MIN
    assert venue.positions() == []
    (bust,) = venue.executions("linear", exec_type="BustTrade")
    assert bust.exec_id == event.exec_id and bust.side == "Buy"
    # Bybit takes the position over at the bankruptcy price: the margin left is lost (it stayed
    # with the trader, ~500 USDT, when the bust filled at the mark); only the tick's rounding is
    assert abs(bust.mark_price - (liq + 50)) <= D("0.1") and bust.price > bust.mark_price
    assert D(0) <= venue.account.wallet["USDT"] < 2 * D("0.1")


def test_a_hedged_short_reports_a_far_or_no_liquidation_price(venue: Venue) -> None:
    venue.place_order(perp("Sell", "2"))  # the wallet holds 2 BTC
    liq = venue.positions()[0].liquidation_price
    assert liq is None or liq > 100 * D(60000)
    venue.place_order(perp("Buy", "1", symbol="ETHUSDT"))  # a long backed by 30 ETH: none below
    eth = venue.positions("ETHUSDT")[0]
    assert eth.liquidation_price is None


def test_tickers_and_klines_never_look_past_now() -> None:
    feed = SyntheticFeed({"BTC": 60000, "ETH": 3000}, seed=3, origin=T0)
    venue = Venue(feed, T0 + timedelta(minutes=30))
    (ticker,) = venue.tickers("linear", "BTCUSDT")
    assert ticker.bid < ticker.last < ticker.ask  # quotes around the perp's own price
    assert ticker.next_funding == datetime(2024, 1, 1, 8, tzinfo=UTC)
    coming = feed.funding_rate("BTC", T0 + HOUR)
    # Bybit's formula on the premium so far: the interest rate while it stays within 0.05% of it
    assert ticker.funding_rate == D("0.0001") != coming
    bars = venue.klines("linear", "BTCUSDT", HOUR, limit=3)
    assert [b.ts for b in bars] == [T0 - 2 * HOUR, T0 - HOUR, T0]
    assert bars[-1].close == venue.market.last(venue.spec("linear", "BTCUSDT"))
    later = venue.klines("linear", "BTCUSDT", HOUR, start=T0 - 5 * HOUR, limit=2)
    assert [b.ts for b in later] == [T0 - 5 * HOUR, T0 - 4 * HOUR]
    with pytest.raises(VenueError):
        venue.klines("linear", "BTCUSDT", timedelta(seconds=30))
    rates = venue.funding_history("BTCUSDT", limit=3)
    assert [t for t, _ in rates] == [T0 - 7 * HOUR, T0 - 15 * HOUR, T0 - 23 * HOUR]
    with pytest.raises(VenueError):
        venue.funding_history("BTCUSDT", start=T0 - 24 * HOUR)


def test_synthetic_venue_runs_a_day_deterministically() -> None:
    def run() -> tuple:
        feed = SyntheticFeed({"BTC": 60000, "ETH": 3000}, seed=5, origin=T0)
        venue = Venue(feed, T0)
        venue.place_order(perp("Sell", "1", link_id="a"))
        venue.place_order(perp("Buy", "1", reduce_only=True, trigger_price="63000", link_id="b"))
        venue.advance_to(T0 + timedelta(days=1))
        return venue.account.wallet["USDT"], [
            (e.exec_id, e.fee) for e in venue.executions("linear")
        ]

    first = run()
    assert first == run()
    assert len(first[1]) >= 4  # the trade and three funding settlements at least


def test_the_funding_forecast_does_not_depend_on_how_the_clock_got_there() -> None:
    """Stepped bar by bar (a backtest: each new bar read from the current prices) or started at
    07:00 (the bars since the settlement read at once), the forecast at 07:00 is the same."""
    from pathlib import Path

    from bot.sim.replay import ReplayFeed

    sample = Path(__file__).resolve().parents[2] / "bot" / "backtest" / "sample"
    t0 = datetime(2020, 3, 12, tzinfo=UTC)  # the crash: the premium moves every hour
    stepped = Venue(ReplayFeed(sample), t0)
    seen = set()
    for h in range(1, 8):
        stepped.advance_to(t0 + h * HOUR)
        seen.add(stepped.tickers("linear", "BTCUSDT")[0].funding_rate)
    jumped = Venue(ReplayFeed(sample), t0 + 7 * HOUR)
    assert len(seen) > 2  # the forecast moved with the premium
    assert stepped.tickers("linear", "BTCUSDT") == jumped.tickers("linear", "BTCUSDT")
