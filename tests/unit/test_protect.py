from decimal import Decimal as D

from bot.domain import OpenOrder, OrderKind, Side
from bot.protect import StopPolicy, desired_trigger, plan_stops
from tests.factories import snapshot

BTC = "BTC/USDT:USDT"
POLICY = StopPolicy(distance=D("0.15"), tolerance=D("0.03"))


def _stop(qty="1", trigger="57500", cid="hb-x-1-BTCUSDT-s0"):
    return OpenOrder(
        BTC,
        "v1",
        cid,
        Side.BUY,
        OrderKind.STOP_MARKET,
        D(qty),
        D(0),
        True,
        trigger_price=D(trigger),
    )


def test_places_a_stop_for_an_unprotected_short():
    plan = plan_stops(
        snapshot(positions={BTC: "-1"}), cycle=3, tag="t", policy=POLICY, symbols=[BTC]
    )
    (stop,) = plan.place
    assert stop.side == Side.BUY and stop.reduce_only and stop.kind == OrderKind.STOP_MARKET
    assert stop.qty == D("1") and stop.trigger_price == D("57500.0")


def test_keeps_a_matching_stop():
    snap = snapshot(positions={BTC: "-1"}, open_orders=(_stop(),))
    plan = plan_stops(snap, cycle=3, tag="t", policy=POLICY, symbols=[BTC])
    assert plan.place == () and plan.cancel == ()


def test_resizes_when_the_short_changes_new_before_old():
    snap = snapshot(positions={BTC: "-2"}, open_orders=(_stop("1"),))
    plan = plan_stops(snap, cycle=3, tag="t", policy=POLICY, symbols=[BTC])
    assert plan.place[0].qty == D("2")
    assert plan.cancel == ((BTC, "hb-x-1-BTCUSDT-s0"),)


def test_stop_tightens_when_price_falls_but_never_chases_up():
    fallen = snapshot(positions={BTC: "-1"}, prices={"BTC": "40000"}, open_orders=(_stop(),))
    assert plan_stops(fallen, cycle=3, tag="t", policy=POLICY, symbols=[BTC]).place
    risen = snapshot(positions={BTC: "-1"}, prices={"BTC": "56000"}, open_orders=(_stop(),))
    assert plan_stops(risen, cycle=3, tag="t", policy=POLICY, symbols=[BTC]).place == ()


def test_flat_position_cancels_our_stops_only():
    foreign = _stop(cid="manual-1")
    snap = snapshot(open_orders=(_stop(), foreign))
    plan = plan_stops(snap, cycle=3, tag="t", policy=POLICY, symbols=[BTC])
    assert plan.cancel == ((BTC, "hb-x-1-BTCUSDT-s0"),)


def test_trigger_stays_below_liquidation():
    trig = desired_trigger(D(50000), D(55000), POLICY, D("0.1"))
    assert trig == D("54000.0")  # 20% of the way back from liquidation
