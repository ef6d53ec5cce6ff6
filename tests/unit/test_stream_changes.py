"""The simulator's websocket messages from venue changes: Bybit's shapes, each change published
once, a closed position as size 0 with side "", tickers as a snapshot then deltas."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bot.sim.manual import ManualFeed
from bot.sim.markets import VenueConfig
from bot.sim.model import OrderRequest
from bot.sim.venue import Venue
from bot.sim.ws.changes import ChangeTracker

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def venue() -> Venue:
    feed = ManualFeed({"BTC": 60000}, start=T0 - timedelta(days=3))
    return Venue(feed, T0, VenueConfig.for_bases(["BTC"], wallet={"USDT": "100000", "BTC": "1"}))


def sell(v: Venue, qty: str, side: str = "Sell") -> None:
    v.place_order(
        OrderRequest("linear", "BTCUSDT", side, "Market", Decimal(qty), link_id=qty + side)
    )  # type: ignore[arg-type]


def test_a_fill_is_published_once_per_topic_in_bybit_shape() -> None:
    v = venue()
    tracker = ChangeTracker(v)
    assert tracker.private() == []
    sell(v, "0.5")
    messages = tracker.private()
    assert [m["topic"] for m in messages] == ["order", "execution", "position", "wallet"]
    for m in messages:
        assert set(m) == {"id", "topic", "creationTime", "data"} and isinstance(m["data"], list)
        assert m["creationTime"] == int(T0.timestamp() * 1000)
    order, execution, position, wallet = (m["data"] for m in messages)
    assert order[0]["orderStatus"] == "Filled" and order[0]["category"] == "linear"
    assert execution[0]["execQty"] == "0.5" and execution[0]["category"] == "linear"
    assert position[0]["side"] == "Sell" and position[0]["size"] == "0.5"
    assert wallet[0]["accountType"] == "UNIFIED"
    assert tracker.private() == []  # nothing doubled


def test_a_closed_position_is_published_flat() -> None:
    v = venue()
    sell(v, "0.5")
    tracker = ChangeTracker(v)
    sell(v, "0.5", "Buy")
    (position,) = (m["data"] for m in tracker.private() if m["topic"] == "position")
    assert position[0]["size"] == "0" and position[0]["side"] == ""


def test_tickers_snapshot_then_deltas_of_what_moved() -> None:
    v = venue()
    tracker = ChangeTracker(v)
    snap = tracker.ticker("linear", "BTCUSDT", snapshot=True)
    assert snap is not None and snap["type"] == "snapshot" and snap["topic"] == "tickers.BTCUSDT"
    assert tracker.ticker("linear", "BTCUSDT", snapshot=False) is None
    v.set_price("BTC", Decimal(61000))
    delta = tracker.ticker("linear", "BTCUSDT", snapshot=False)
    assert delta is not None and delta["type"] == "delta"
    assert delta["data"]["markPrice"] == "61000" and "fundingIntervalHour" not in delta["data"]
    spot = tracker.ticker("spot", "BTCUSDT", snapshot=False)
    assert spot is not None and spot["type"] == "snapshot" and "usdIndexPrice" in spot["data"]


def test_a_mark_move_alone_pushes_no_wallet_message() -> None:
    """Bybit's wallet topic: "The unrealised PnL change does not trigger an event" (nor do the
    margins that move with the mark); a stream-mode bot would otherwise cycle at every tick."""
    v = venue()
    sell(v, "0.5")
    tracker = ChangeTracker(v)
    v.set_price("BTC", Decimal(61000))
    assert [m["topic"] for m in tracker.private()] == []
    v.deposit("USDT", Decimal(1))  # a real balance change still is one
    assert [m["topic"] for m in tracker.private()] == ["wallet"]


def test_every_order_create_amend_cancel_pushes_the_position() -> None:
    """Bybit's position topic: "Every time when you create/amend/cancel an order, the position
    topic will generate a new message (regardless if there's any actual change)"."""
    v = venue()
    sell(v, "0.5")
    tracker = ChangeTracker(v)
    stop = v.place_order(
        OrderRequest(
            "linear",
            "BTCUSDT",
            "Buy",
            "Market",
            Decimal("0.5"),
            link_id="stop",
            reduce_only=True,
            trigger_price=Decimal(70000),
            trigger_direction=1,
        )  # type: ignore[arg-type]
    )
    messages = {m["topic"]: m["data"] for m in tracker.private()}
    assert messages["position"][0]["symbol"] == "BTCUSDT"  # created: the position, unchanged
    assert messages["position"][0]["size"] == "0.5"
    v.cancel_order("linear", "BTCUSDT", order_id=stop.order_id)
    assert {m["topic"] for m in tracker.private()} >= {"order", "position"}  # cancelled
    assert tracker.private() == []  # and nothing more without an order action
