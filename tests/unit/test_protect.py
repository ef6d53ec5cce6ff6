from dataclasses import replace
from decimal import Decimal as D

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.domain import OpenOrder, OrderKind, Side, frozen_map
from bot.protect import StopPolicy, anchor, desired_trigger, plan_stops
from tests.factories import snapshot

BTC = "BTC/USDT:USDT"
POLICY = StopPolicy(liquidation_buffer=D("0.05"), entry_multiple=D("1.5"), tolerance=D("0.03"))
TICK = D("0.1")


def _stop(qty="1", trigger="142500", cid="hb-x-1-BTCUSDT-s0"):
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


def _plan(snap):
    return plan_stops(snap, cycle=3, tag="t", policy=POLICY, symbols=[BTC])


def _with_position(snap, **changes):
    pos = replace(snap.positions[BTC], **changes)
    return replace(snap, positions=frozen_map({BTC: pos}))


def test_places_a_stop_a_buffer_below_the_liquidation_price():
    (stop,) = _plan(snapshot(positions={BTC: "-1"}, liq={BTC: "150000"})).place
    assert stop.side == Side.BUY and stop.reduce_only and stop.kind == OrderKind.STOP_MARKET
    assert stop.qty == D("1") and stop.trigger_price == D("142500.0")


def test_keeps_a_matching_stop():
    snap = snapshot(positions={BTC: "-1"}, liq={BTC: "150000"}, open_orders=(_stop(),))
    plan = _plan(snap)
    assert plan.place == () and plan.cancel == ()


def test_a_crash_does_not_move_the_stop_down():
    # the mark fell 30% (50000 -> 35000); the liquidation price did not move: neither does the stop
    snap = snapshot(
        positions={BTC: "-1"},
        prices={"BTC": "35000"},
        liq={BTC: "150000"},
        open_orders=(_stop(),),
    )
    plan = _plan(snap)
    assert plan.place == () and plan.cancel == ()


def test_resizes_when_the_short_changes_new_before_old():
    snap = snapshot(positions={BTC: "-2"}, liq={BTC: "150000"}, open_orders=(_stop("1"),))
    plan = _plan(snap)
    assert plan.place[0].qty == D("2") and plan.place[0].trigger_price == D("142500.0")
    assert plan.cancel == ((BTC, "hb-x-1-BTCUSDT-s0"),)


def test_follows_the_liquidation_price_only_when_it_moves_materially():
    near = snapshot(positions={BTC: "-1"}, liq={BTC: "152000"}, open_orders=(_stop(),))
    assert _plan(near).place == ()  # the anchor moved 1.3%: within the tolerance
    moved = snapshot(positions={BTC: "-1"}, liq={BTC: "120000"}, open_orders=(_stop(),))
    plan = _plan(moved)
    assert plan.place[0].trigger_price == D("114000.0")
    assert plan.cancel == ((BTC, "hb-x-1-BTCUSDT-s0"),)


def test_without_a_liquidation_price_the_stop_sits_at_a_multiple_of_entry():
    snap = _with_position(snapshot(positions={BTC: "-1"}), liquidation_price=None)
    assert _plan(snap).place[0].trigger_price == D("75000.0")  # 1.5 x the 50000 entry
    # a liquidation price below the mark (an account long overall) protects nothing upward
    below = _with_position(snapshot(positions={BTC: "-1"}), liquidation_price=D(30000))
    assert _plan(below).place[0].trigger_price == D("75000.0")


def test_never_placed_where_it_would_fire_at_once():
    # the liquidation price is 2% above the mark: the anchor (5% below it) is under the mark
    snap = snapshot(positions={BTC: "-1"}, liq={BTC: "51000"})
    (stop,) = _plan(snap).place
    assert D(50000) < stop.trigger_price < D(51000)
    assert stop.trigger_price == D("50500.0")
    # a stop resting between mark and liquidation there is kept, not chased
    kept = snapshot(
        positions={BTC: "-1"}, liq={BTC: "51000"}, open_orders=(_stop(trigger="50800"),)
    )
    assert _plan(kept).place == ()
    # without a liquidation price and the mark past 1.5 x entry: above the mark, not at it
    risen = _with_position(
        snapshot(positions={BTC: "-1"}, prices={"BTC": "80000"}),
        liquidation_price=None,
        entry_price=D(50000),
    )
    assert _plan(risen).place[0].trigger_price == D("120000.0")


def test_a_stop_at_or_beyond_liquidation_is_replaced():
    snap = snapshot(positions={BTC: "-1"}, liq={BTC: "140000"}, open_orders=(_stop(),))
    plan = _plan(snap)
    assert plan.place[0].trigger_price == D("133000.0")
    assert plan.cancel == ((BTC, "hb-x-1-BTCUSDT-s0"),)


def test_flat_position_cancels_our_stops_only():
    foreign = _stop(cid="manual-1")
    plan = _plan(snapshot(open_orders=(_stop(), foreign)))
    assert plan.cancel == ((BTC, "hb-x-1-BTCUSDT-s0"),)


def test_never_above_ten_times_entry():
    # a liquidation price beyond the venue's price limit (Bybit: 1999999.8 for BTCUSDT) is no use
    snap = snapshot(positions={BTC: "-1"}, liq={BTC: "22000000"})
    assert _plan(snap).place[0].trigger_price == D("500000.0")


def test_the_ceiling_holds_when_the_mark_is_past_the_anchor_too():
    # no liquidation price, the mark at 8 x entry: mark x 1.5 would be 12 x entry
    snap = _with_position(
        snapshot(positions={BTC: "-1"}, prices={"BTC": "400000"}),
        liquidation_price=None,
        entry_price=D(50000),
    )
    assert _plan(snap).place[0].trigger_price == D("500000.0")
    # a stop resting above the ceiling is replaced; one at the ceiling is kept
    above = replace(snap, open_orders=(_stop(trigger="600000"),))
    assert _plan(above).place[0].trigger_price == D("500000.0")
    assert _plan(replace(snap, open_orders=(_stop(trigger="500000"),))).place == ()
    # past the ceiling itself: just above the mark rather than a stop firing at once
    beyond = _with_position(snap, mark_price=D(600000))
    assert _plan(beyond).place[0].trigger_price == D("612000.0")


def test_a_stop_a_hair_above_the_mark_below_its_anchor_is_replaced():
    # the anchor 51500 (5% below 54210.53) is 3% above the mark: a stop one tick above the mark
    # is within the 3% tolerance of it but would fire on the next tick
    snap = snapshot(
        positions={BTC: "-1"}, liq={BTC: "54210.53"}, open_orders=(_stop("1", "50000.1"),)
    )
    plan = _plan(snap)
    assert plan.place[0].trigger_price == D("51500.0")
    assert plan.cancel == ((BTC, "hb-x-1-BTCUSDT-s0"),)
    # at its anchor it stays, also once the mark comes close to it
    at = replace(snap, open_orders=(_stop("1", "51500.0"),))
    assert _plan(at).place == ()
    assert _plan(_with_position(at, mark_price=D(51400))).place == ()


def test_trigger_rounds_down_to_the_tick():
    pos = snapshot(positions={BTC: "-1"}, liq={BTC: "150001.37"}).positions[BTC]
    assert desired_trigger(pos, POLICY, TICK) == D("142501.3")


async def test_a_rehedge_wait_survives_a_restart_and_halt_mode_halts():
    from datetime import timedelta

    from bot.domain import Fill
    from bot.stops import StopFillPolicy
    from bot.store import Store
    from tests.factories import T0

    fill = Fill("e1", "v1", "hb-x-3-BTCUSDT-s0", BTC, Side.BUY, D(2), D(57000), D(1), "USDT", T0)
    snap = snapshot(spot={"BTC": "2"}, positions={})
    policy = StopFillPolicy(cooldown=timedelta(minutes=10))
    (event,), halt = policy.on_fills([fill], snap)
    assert halt is None and event.level == "warning"
    assert "with 2 BTC spot still held; re-hedging after 2024-01-01 00:10:00 UTC" in event.message
    store = Store.from_url("sqlite+aiosqlite://")
    try:
        await store.create_schema()
        await store.add_event(event.kind, event.message, level=event.level, data=dict(event.data))
        restarted = StopFillPolicy()
        await restarted.load(store)
        assert restarted.waiting(T0 + timedelta(minutes=9)) == {BTC: T0 + timedelta(minutes=10)}
        assert restarted.waiting(T0 + timedelta(minutes=10)) == {}
    finally:
        await store.close()
    events, halt = StopFillPolicy(mode="halt").on_fills([fill], snap)
    assert halt == f"stop-loss fired on {BTC}" and "trading halted" in events[0].message


def _short(mark: D, entry: D, liq: D | None) -> object:
    pos = snapshot(positions={BTC: "-1"}).positions[BTC]
    return replace(pos, mark_price=mark, entry_price=entry, liquidation_price=liq)


prices = st.decimals(min_value=D(1), max_value=D(200_000), places=1)


@settings(max_examples=300, deadline=None)
@given(mark=prices, entry=prices, liq=st.one_of(st.none(), prices), moved=prices)
# at a price of 1.1 one tick is more than the 3% tolerance: it was re-placed every cycle
@example(mark=D("1.0"), entry=D("1.1"), liq=None, moved=D("1.0"))
def test_a_stop_never_fires_at_once_sits_below_liquidation_and_does_not_trail(
    mark, entry, liq, moved
):
    pos = _short(mark, entry, liq)
    trigger = desired_trigger(pos, POLICY, TICK)
    assert trigger > mark  # placing it never fires it
    if liq is not None and liq > mark + 2 * TICK:
        assert trigger < liq  # it closes the short before the venue liquidates it
    point = anchor(pos, POLICY)
    if point is None or point <= mark * (1 + POLICY.min_gap):
        return  # placed from inside the buffer: it moves to its anchor once the mark leaves
    # the mark moves while the liquidation price and entry stay: a stop resting at its anchor is
    # kept unless the mark has reached it (then the venue has fired it)
    stop = _stop(trigger=str(trigger))
    snap = snapshot(positions={BTC: "-1"}, open_orders=(stop,))
    snap = _with_position(snap, mark_price=moved, entry_price=entry, liquidation_price=liq)
    plan = _plan(snap)
    if moved < trigger and (liq is None or liq <= moved or trigger < liq):
        assert plan.place == () and plan.cancel == ()
