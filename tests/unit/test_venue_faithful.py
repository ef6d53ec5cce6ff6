"""The venue model where the bot's safety depends on its fidelity to Bybit (issue 7.10). Each case
cites what it was checked against: Bybit's v5 docs (bybit-exchange/docs) or the recorded ccxt
fixtures (/work/shared/fixtures/ccxt-bybit)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from bot.sim.manual import ManualFeed
from bot.sim.markets import VenueConfig
from bot.sim.venue import Venue
from tests.fixtures.sim.venue_orders import perp

T0, MIN, HOUR = datetime(2024, 1, 1, 1, 0, tzinfo=UTC), timedelta(minutes=1), timedelta(hours=1)


@pytest.fixture
def feed() -> ManualFeed:
    """BTC at 60000, ETH at 3000 since the day before T0, funding 0.0001 per 8 h."""
    return ManualFeed({"BTC": 60000, "ETH": 3000}, start=T0 - timedelta(days=1))


def test_a_perp_market_order_fills_at_the_perp_price_not_the_mark(feed: ManualFeed) -> None:
    # the recorded linear execution (fixture fetchMyTrades) has execPrice 85.11, markPrice 85.07
    feed.set(T0, "BTC", spot=60000, perp=60300, mark=60100)
    venue = Venue(feed, T0)
    order = venue.place_order(perp("Sell", "1"))
    (fill,) = venue.executions("linear")
    assert fill.price == D("60287.9")  # 60300 less the 2 bps taker slippage, on the tick
    assert fill.mark_price == D(60100) and order.avg_price == fill.price
    position = venue.positions()[0]
    assert position.entry == D("60287.9") and position.mark == D(60100)
    assert position.unrealised == D("187.9")  # valued at the mark


def test_collateral_value_is_tiered_by_quantity() -> None:
    config = VenueConfig()
    assert config.collateral_value("USDT", D(500), D(1)) == D(500)
    assert config.collateral_value("BTC", D(2), D(60000)) == D(114000)  # 0.95
    tiered = config.collateral_value("BTC", D(1200), D(10))
    assert tiered == (D(1000) * D("0.95") + D(200) * D("0.9")) * 10
    assert config.collateral_value("BTC", D(6000), D(1)) == D(950 + 3600)  # 0 above 5000
    assert config.collateral_value("USDT", D(-50), D(1)) == D(-50)  # a debt counts in full


def test_the_margin_balance_counts_coins_at_their_collateral_ratio(feed: ManualFeed) -> None:
    venue = Venue(feed, T0, VenueConfig.for_bases(["BTC", "ETH"], wallet={"USDT": 1000, "BTC": 2}))
    report = venue.wallet()
    assert report.total_equity == D(121000)  # equity carries no haircut
    assert report.total_margin_balance == D(1000 + 114000)
    assert report.total_available == D(115000)


def test_liquidation_of_a_hedged_short_happens_where_it_is_reported(feed: ManualFeed) -> None:
    # spot BTC as the only collateral: the 5% haircut is what can liquidate a 1:1 hedge
    venue = Venue(feed, T0, VenueConfig.for_bases(["BTC", "ETH"], wallet={"BTC": 1}))
    venue.set_leverage("BTCUSDT", D(2))
    feed.set(T0, "BTC", spot=60000, perp=60000, mark=60000)
    venue.place_order(perp("Sell", "1"))
    liq = venue.positions()[0].liquidation_price
    # B + (s + c)(P - m) = r|s|P with B = 0.95 x 60000 - fee + upnl, s = -1, c = 0.95
    assert liq is not None and D(1_080_000) < liq < D(1_095_000)
    feed.set(T0 + MIN, "BTC", liq * D("0.999"))
    venue.advance_to(T0 + MIN)
    assert venue.liquidations == []
    feed.set(T0 + 2 * MIN, "BTC", liq * D("1.001"))
    venue.advance_to(T0 + 2 * MIN)
    assert len(venue.liquidations) == 1


def test_a_liquidation_price_beyond_max_price_is_not_reported(feed: ManualFeed) -> None:
    # position list docs: liqPrice is "" when it is >= maxPrice (1999999.80 for BTCUSDT)
    wallet = {"BTC": 1, "USDT": 60000}
    venue = Venue(feed, T0, VenueConfig.for_bases(["BTC", "ETH"], wallet=wallet))
    venue.place_order(perp("Sell", "1"))  # solving gives about 2.18 million
    assert venue.positions()[0].liquidation_price is None
    venue.set_wallet("USDT", D(50000))
    liq = venue.positions()[0].liquidation_price  # about 2.0 million less 10000 / 0.055
    assert liq is not None and D(1_990_000) < liq < D("1999999.8")


def test_stops_trigger_on_the_last_price_unless_mark_is_asked(feed: ManualFeed) -> None:
    # create-order docs: triggerBy LastPrice | IndexPrice | MarkPrice; sl/tpTriggerBy "default:
    # LastPrice"; ccxt sends none unless told, so Bybit's default governs
    venue = Venue(feed, T0)
    venue.place_order(perp("Sell", "1"))
    last = perp("Buy", "0.5", reduce_only=True, trigger_price="61000", trigger_direction=1)
    mark = perp(
        "Buy", "0.5", reduce_only=True, trigger_price="61000", trigger_direction=1,
        trigger_by="MarkPrice",
    )  # fmt: skip
    by_last, by_mark = venue.place_order(last), venue.place_order(mark)
    assert (by_last.trigger_by, by_mark.trigger_by) == ("LastPrice", "MarkPrice")
    feed.set(T0 + MIN, "BTC", spot=60000, perp=61200, mark=60500)  # the perp trades up alone
    venue.advance_to(T0 + MIN)
    assert venue.order(by_last.order_id).status == "Filled"  # type: ignore[union-attr]
    assert venue.order(by_mark.order_id).status == "Untriggered"  # type: ignore[union-attr]


def test_funding_settles_on_each_instruments_own_interval(feed: ManualFeed) -> None:
    config = VenueConfig.for_bases(["BTC", "ETH"], funding_minutes={"ETH": 60})
    venue = Venue(feed, T0, config)
    assert venue.spec("linear", "ETHUSDT").funding_minutes == 60
    venue.place_order(perp("Sell", "1"))
    venue.place_order(perp("Sell", "10", symbol="ETHUSDT"))
    (eth_ticker,) = venue.tickers("linear", "ETHUSDT")
    assert eth_ticker.next_funding == T0 + HOUR
    venue.advance_to(T0 + 8 * HOUR)  # 02:00 ... 09:00: BTC settles once, at 08:00
    paid = venue.executions("linear", exec_type="Funding")
    assert sorted(e.time.hour for e in paid if e.symbol == "BTCUSDT") == [8]
    eth = [e for e in paid if e.symbol == "ETHUSDT"]
    assert len(eth) == 8 and {e.fee_rate for e in eth} == {D("0.0000125")}  # 1/8 of 8 h rate
    history = venue.funding_history("ETHUSDT", limit=3)
    assert [t for t, _ in history] == [T0 + 8 * HOUR, T0 + 7 * HOUR, T0 + 6 * HOUR]
    with pytest.raises(ValueError, match="60, 240 or 480"):
        VenueConfig.for_bases(["BTC"], funding_minutes={"BTC": 120})


def test_the_ticker_funding_rate_is_bybits_formula_on_the_premium_so_far(feed: ManualFeed) -> None:
    # Bybit help centre, "Introduction to Funding Rate": F = P + clamp(I - P, 0.05%, -0.05%),
    # I = 0.01% per 8 h, P the premium index of the interval so far, minute i weighted by i
    feed.set(T0 - 30 * MIN, "BTC", spot=60000, perp=60060, mark=60000)  # +0.1% from 00:30
    venue = Venue(feed, T0)  # 01:00: sixty minute bars since the 00:00 settlement
    ranks = range(1, 61)  # the bar opening 00:29 closes at 00:30: ranks 30 to 60 at +0.1%
    premium = sum(D(r) * D("0.001") for r in ranks if r >= 30) / sum(ranks)
    (ticker,) = venue.tickers("linear", "BTCUSDT")
    assert ticker.funding_rate == (premium - D("0.0005")).quantize(D("0.00000001"))  # clamped
    feed.set(T0 + MIN, "BTC", spot=60000, perp=60000, mark=60000)
    venue.place_order(perp("Sell", "0.1"))
    venue.advance_to(datetime(2024, 1, 1, 8, 0, tzinfo=UTC))
    (paid,) = venue.executions("linear", exec_type="Funding")
    assert paid.fee_rate == D("0.0001")  # the settlement pays the feed's rate, not the forecast
    (ticker,) = venue.tickers("linear", "BTCUSDT")
    assert ticker.funding_rate == D("0.0001")  # no bar closed since: the last settled rate
    venue.advance_to(datetime(2024, 1, 1, 9, 0, tzinfo=UTC))
    (ticker,) = venue.tickers("linear", "BTCUSDT")
    assert ticker.funding_rate == D("0.0001")  # no premium: the interest rate
