"""Order acceptance, matching and rejections of the venue model (Bybit codes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from bot.sim.book import OrderQuery
from bot.sim.errors import VenueError
from bot.sim.manual import ManualFeed
from bot.sim.markets import VenueConfig
from bot.sim.model import OrderRequest
from bot.sim.venue import Venue

T0 = datetime(2024, 1, 1, 1, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


@pytest.fixture
def feed() -> ManualFeed:
    return ManualFeed({"BTC": 60000, "ETH": 3000}, start=T0 - timedelta(days=1))


@pytest.fixture
def venue(feed: ManualFeed) -> Venue:
    return Venue(feed, T0, VenueConfig.for_bases(["BTC", "ETH"]))


def _prices(kw: dict) -> None:
    for key in ("price", "trigger_price"):
        if isinstance(kw.get(key), str):
            kw[key] = D(kw[key])


def perp(side: str, qty: str, **kw: object) -> OrderRequest:
    kw.setdefault("order_type", "Market")
    _prices(kw)
    return OrderRequest("linear", "BTCUSDT", side, qty=D(qty), **kw)  # type: ignore[arg-type]


def spot(side: str, qty: str, **kw: object) -> OrderRequest:
    kw.setdefault("order_type", "Market")
    kw.setdefault("market_unit", "baseCoin")
    _prices(kw)
    return OrderRequest("spot", "BTCUSDT", side, qty=D(qty), **kw)  # type: ignore[arg-type]


def code(exc: pytest.ExceptionInfo[VenueError]) -> int:
    return exc.value.ret_code


def test_market_sell_opens_a_short_at_mark_minus_slippage_and_pays_the_taker_fee(
    venue: Venue,
) -> None:
    usdt = venue.account.wallet["USDT"]
    order = venue.place_order(perp("Sell", "0.5", link_id="h-1"))
    assert order.status == "Filled" and order.cum_qty == D("0.5")
    price = D("59988.0")  # 60000 - 2 bps, on the 0.1 tick, rounded down for a sell
    assert order.avg_price == price
    fee = D("0.5") * price * D("0.00055")
    assert order.cum_fee == fee
    assert venue.account.wallet["USDT"] == usdt - fee
    (row,) = venue.positions()
    assert row.size == D("-0.5") and row.entry == price
    assert row.initial_margin == D("3000") and row.maintenance_margin == D("150")
    (ex,) = venue.executions("linear", exec_type="Trade")
    assert (ex.order_id, ex.link_id, ex.side, ex.qty, ex.price, ex.fee) == (
        order.order_id,
        "h-1",
        "Sell",
        D("0.5"),
        price,
        fee,
    )
    assert order.order_id.isdigit() and len(order.order_id) == 19


def test_market_buy_pays_more_than_mark(venue: Venue) -> None:
    order = venue.place_order(perp("Buy", "0.1"))
    assert order.avg_price == D("60012.0")


def test_closing_realises_pnl_into_usdt(venue: Venue, feed: ManualFeed) -> None:
    venue.place_order(perp("Sell", "1"))
    entry = venue.positions()[0].entry
    feed.set(T0 + MIN, "BTC", 50000)
    venue.advance_to(T0 + MIN)
    before = venue.account.wallet["USDT"]
    close = venue.place_order(perp("Buy", "1", reduce_only=True))
    assert venue.positions() == []
    pnl = entry - close.avg_price  # type: ignore[operator]
    assert venue.account.wallet["USDT"] == before + pnl - close.cum_fee


def test_limit_rests_then_fills_as_maker_when_crossed(venue: Venue, feed: ManualFeed) -> None:
    order = venue.place_order(perp("Buy", "0.1", order_type="Limit", price="59000", link_id="l1"))
    assert order.status == "New" and order.cum_qty == 0
    (resting,) = venue.orders_realtime(OrderQuery("linear", symbol="BTCUSDT"))
    assert resting.order_id == order.order_id
    assert venue.wallet().total_initial_margin == D("590")  # order margin: 0.1 x 59000 / 10
    feed.set(T0 + MIN, "BTC", 58900)
    venue.advance_to(T0 + 2 * MIN)
    done = venue.order(link_id="l1")
    assert done is not None and done.status == "Filled" and done.avg_price == D("59000")
    (ex,) = venue.executions("linear")
    assert ex.is_maker and ex.fee == D("0.1") * D("59000") * D("0.0002")


def test_marketable_limit_fills_at_once_as_taker_at_no_worse_than_its_price(venue: Venue) -> None:
    order = venue.place_order(perp("Buy", "0.1", order_type="Limit", price="61000"))
    assert order.status == "Filled" and order.avg_price == D("60012.0")
    post = venue.place_order(
        perp("Buy", "0.1", order_type="Limit", price="61000", time_in_force="PostOnly")
    )
    assert post.status == "Cancelled" and post.cum_qty == 0


def test_partial_fill_of_the_next_market_order(venue: Venue) -> None:
    venue.queue_partial_fill(D("0.4"))
    order = venue.place_order(perp("Sell", "0.5"))
    assert order.status == "PartiallyFilledCanceled" and order.cum_qty == D("0.2")
    assert venue.positions()[0].size == D("-0.2")
    assert venue.place_order(perp("Sell", "0.5")).status == "Filled"  # one-shot


@pytest.mark.parametrize(
    ("req", "ret_code"),
    [
        (perp("Sell", "0.0005"), 10001),  # below min qty
        (perp("Sell", "0.0015"), 10001),  # not a multiple of the 0.001 step
        (perp("Buy", "0.1", order_type="Limit", price="59000.05"), 10001),  # off tick
        (perp("Buy", "0.1", order_type="Limit"), 10001),  # limit without price
        (OrderRequest("linear", "BTCUSDT", "Buy", "Market", D("0.1"), link_id="x" * 37), 10001),
        (OrderRequest("linear", "DOGEUSDT", "Buy", "Market", D("1")), 10001),
        (OrderRequest("linear", "ETHUSDT", "Buy", "Market", D("0.01")), 110094),  # 30 USDT ok? no
        (spot("Buy", "0.0000015"), 170137),
        (spot("Buy", "0.00001"), 170136),
    ],
)
def test_filters_reject_with_bybit_codes(venue: Venue, req: OrderRequest, ret_code: int) -> None:
    if req.symbol == "ETHUSDT":  # 0.01 ETH at 3000 is 30 USDT: make it too small
        venue.config.market("linear", "ETHUSDT")
        req = OrderRequest("linear", "ETHUSDT", "Buy", "Limit", D("0.01"), price=D("100"))
    with pytest.raises(VenueError) as exc:
        venue.place_order(req)
    assert code(exc) == ret_code
    assert venue.book.orders == {}


def test_spot_min_order_value(venue: Venue) -> None:
    with pytest.raises(VenueError) as exc:
        venue.place_order(spot("Buy", "0.00005"))  # 3 USDT
    assert code(exc) == 170140


def test_duplicate_link_id_is_rejected(venue: Venue) -> None:
    venue.place_order(perp("Sell", "0.1", link_id="same"))
    with pytest.raises(VenueError) as exc:
        venue.place_order(perp("Sell", "0.1", link_id="same"))
    assert code(exc) == 110072
    assert venue.positions()[0].size == D("-0.1")


@pytest.mark.parametrize(
    ("opening", "closing"),
    [
        (None, perp("Buy", "0.1", reduce_only=True)),
        ("Sell", perp("Sell", "0.1", reduce_only=True)),
        ("Sell", perp("Buy", "0.3", reduce_only=True)),
    ],
    ids=["flat", "would-increase", "would-flip"],
)
def test_reduce_only_violations(venue: Venue, opening: str | None, closing: OrderRequest) -> None:
    if opening:
        venue.place_order(perp(opening, "0.2"))
    with pytest.raises(VenueError) as exc:
        venue.place_order(closing)
    assert code(exc) == 110017


def test_reduce_only_is_exempt_from_min_notional(venue: Venue) -> None:
    venue.place_order(perp("Sell", "0.001"))  # 60 USDT
    feed_small = venue.place_order(perp("Buy", "0.001", reduce_only=True))
    assert feed_small.status == "Filled" and venue.positions() == []


def test_insufficient_margin_and_spot_balance(venue: Venue) -> None:
    with pytest.raises(VenueError) as exc:
        venue.place_order(perp("Sell", "60"))  # 3.6M notional at 10x > 310k equity
    assert code(exc) == 110007
    with pytest.raises(VenueError) as exc:
        venue.place_order(spot("Buy", "2"))  # 120k USDT > 100k
    assert code(exc) == 170131
    with pytest.raises(VenueError) as exc:
        venue.place_order(spot("Sell", "2.5"))  # only 2 BTC
    assert code(exc) == 170131


def test_spot_orders_move_wallet_coins(venue: Venue) -> None:
    usdt, btc = venue.account.wallet["USDT"], venue.account.wallet["BTC"]
    buy = venue.place_order(spot("Buy", "0.1"))
    # a buy pays its fee in the coin received (Bybit's spot fee currency rule): 0.1% of 0.1 BTC
    assert buy.avg_price == D("60012.00") and buy.cum_fee == D("0.0001")
    assert venue.account.wallet["BTC"] == btc + D("0.0999")
    assert venue.account.wallet["USDT"] == usdt - buy.cum_value
    sell = venue.place_order(spot("Sell", "0.0999"))
    assert venue.account.wallet["BTC"] == btc
    assert sell.cum_fee == (sell.cum_value * D("0.001")).quantize(D("0.00000001"))  # in USDT
    assert venue.account.wallet["USDT"] == usdt - buy.cum_value + sell.cum_value - sell.cum_fee


def test_spot_market_buy_defaults_to_quote_units(venue: Venue) -> None:
    order = venue.place_order(OrderRequest("spot", "BTCUSDT", "Buy", "Market", D("6001.2")))
    assert order.cum_qty == D("0.1")


def test_spot_limit_locks_funds_until_cancelled(venue: Venue) -> None:
    order = venue.place_order(spot("Sell", "1.5", order_type="Limit", price="70000", link_id="s1"))
    btc = next(c for c in venue.wallet().coins if c.coin == "BTC")
    assert btc.locked == D("1.5")
    with pytest.raises(VenueError) as exc:
        venue.place_order(spot("Sell", "1"))
    assert code(exc) == 170131
    cancelled = venue.cancel_order("spot", "BTCUSDT", link_id="s1")
    assert cancelled.status == "Cancelled" and cancelled.order_id == order.order_id
    assert next(c for c in venue.wallet().coins if c.coin == "BTC").locked == 0


def test_cancel_rules(venue: Venue) -> None:
    with pytest.raises(VenueError) as exc:
        venue.cancel_order("linear", "BTCUSDT", order_id="123")
    assert code(exc) == 110001
    filled = venue.place_order(perp("Sell", "0.1"))
    with pytest.raises(VenueError) as exc:
        venue.cancel_order("linear", "BTCUSDT", order_id=filled.order_id)
    assert code(exc) == 110001
    resting = venue.place_order(perp("Buy", "0.1", order_type="Limit", price="50000"))
    assert venue.cancel_order("linear", "BTCUSDT", order_id=resting.order_id).status == "Cancelled"
    history = venue.order_history(OrderQuery("linear", symbol="BTCUSDT"))
    assert [o.status for o in history] == ["Cancelled", "Filled"]


def test_set_leverage(venue: Venue) -> None:
    venue.place_order(perp("Sell", "1"))
    venue.set_leverage("BTCUSDT", D(5))
    assert venue.positions()[0].initial_margin == D("12000")
    with pytest.raises(VenueError) as exc:
        venue.set_leverage("BTCUSDT", D(5))
    assert code(exc) == 110043 and exc.value.message == "leverage not modified"
    with pytest.raises(VenueError) as exc:
        venue.set_leverage("BTCUSDT", D(101))
    assert code(exc) == 10001


def test_realtime_lookup_by_link_id_sees_closed_orders(venue: Venue) -> None:
    venue.place_order(perp("Sell", "0.1", link_id="done"))
    assert venue.orders_realtime(OrderQuery("linear", symbol="BTCUSDT")) == []
    (found,) = venue.orders_realtime(OrderQuery("linear", symbol="BTCUSDT", link_id="done"))
    assert found.status == "Filled"
    (closed,) = venue.orders_realtime(OrderQuery("linear", settle="USDT"), open_only=1)
    assert closed.link_id == "done"


def test_same_actions_give_the_same_ids(feed: ManualFeed) -> None:
    def run() -> list[tuple[str, str]]:
        v = Venue(feed, T0)
        v.place_order(perp("Sell", "0.1"))
        v.place_order(perp("Buy", "0.1", order_type="Limit", price="50000"))
        v.advance_to(T0 + timedelta(hours=8))
        return [(e.exec_id, e.order_id) for e in v.executions("linear")]

    first = run()
    assert first == run() and len({e for e, _ in first}) == len(first) == 2
