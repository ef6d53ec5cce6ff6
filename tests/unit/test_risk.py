from dataclasses import replace
from decimal import Decimal as D

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.domain import OrderIntent, Side, Ticker, TradingState
from bot.risk import RiskLimits, guard, snapshot_problems
from tests.factories import T0, snapshot

BTC = "BTC/USDT:USDT"


def _intent(qty="1", side=Side.SELL, reduce_only=False, symbol=BTC):
    return OrderIntent(f"hb-x-1-{qty}", "btc", 1, symbol, side, D(qty), reduce_only=reduce_only)


def _guard(intents, snap, **kw):
    args = dict(
        state=TradingState.ACTIVE,
        state_reason="",
        limits=RiskLimits(),
        quote="USDT",
        hedged_spot_value=D(1_000_000),
        orders_last_minute=0,
    )
    args.update(kw)
    return guard(intents, snap, **args)


def test_plain_order_is_approved():
    res = _guard([_intent("1")], snapshot(spot={"BTC": "2"}))
    assert len(res.approved) == 1 and res.rejections == ()


def test_halted_denies_everything_with_reason():
    res = _guard(
        [_intent("1", Side.BUY, True)],
        snapshot(),
        state=TradingState.HALTED,
        state_reason="operator halt",
    )
    assert res.approved == ()
    assert res.rejections[0].reason == "trading halted: operator halt"
    assert res.rejections[0].source == "risk"


def test_halt_lets_only_the_reduce_only_closes_of_flattened_hedges_through():
    close = _intent("1", Side.BUY, True)
    shared = replace(close, client_order_id="hb-x-1-shared", hedge="btc+btc2")
    opening = replace(_intent("2"), client_order_id="hb-x-1-open")
    res = _guard(
        [close, shared, opening],
        snapshot(),
        state=TradingState.HALTED,
        state_reason="operator halt",
        flattening=frozenset({"btc"}),
    )
    assert res.approved == (close,) and res.state == TradingState.HALTED
    # a symbol shared with a hedge still hedging, and any order that is not reduce-only, wait
    assert {r.client_order_id for r in res.rejections} == {"hb-x-1-shared", "hb-x-1-open"}


def test_kill_switch_halts():
    res = _guard([_intent()], snapshot(), kill_switch=True)
    assert res.state == TradingState.HALTED and res.approved == ()


def test_reducing_allows_only_reduce_only():
    res = _guard(
        [_intent("1"), _intent("0.5", Side.BUY, True)],
        snapshot(),
        state=TradingState.REDUCING,
        state_reason="margin",
    )
    assert [i.reduce_only for i in res.approved] == [True]
    assert "reducing only" in res.rejections[0].reason


def test_leverage_cap_trims_to_its_headroom():
    snap = snapshot(usdt="10000")  # 1 BTC at 50k would be 5x on 10k equity
    res = _guard([_intent("1")], snap, limits=RiskLimits(max_leverage=D(3)))
    assert [i.qty for i in res.approved] == [D("0.600")]  # 3x: 30k of perp notional
    assert "trimmed from 1 to 0.6: leverage 5.00 would exceed 3" in res.notes[0]


def test_leverage_cap_without_headroom_denies():
    snap = snapshot(usdt="10000", positions={BTC: "-0.6"})  # already at 3x
    res = _guard([_intent("0.1")], snap, limits=RiskLimits(max_leverage=D(3)))
    assert res.approved == ()
    assert "leverage 3.50 would exceed 3" in res.rejections[0].reason


def test_overhedge_cap_trims_a_ratio_above_it_instead_of_leaving_the_spot_unhedged():
    # direct at ratio 1.2 on 2 BTC asks for a 2.4 BTC short; max_overhedge 1.05 allows 2.1
    res = _guard([_intent("2.4")], snapshot(spot={"BTC": "2"}), hedged_spot_value=D(100_000))
    assert [i.qty for i in res.approved] == [D("2.100")] and res.rejections == ()
    assert "trimmed from 2.4 to 2.10: over-hedge" in res.notes[0]


def test_overhedge_cap_without_headroom_denies():
    snap = snapshot(spot={"BTC": "2"}, positions={BTC: "-2.1"})
    res = _guard([_intent("0.5")], snap, hedged_spot_value=D(100_000))
    assert res.approved == () and "over-hedge" in res.rejections[0].reason


def test_a_trim_below_the_minimum_quantity_denies():
    res = _guard([_intent("1")], snapshot(), hedged_spot_value=D(40))  # headroom 0.00084 BTC
    assert res.approved == () and "over-hedge" in res.rejections[0].reason


def test_liquidation_distance_is_judged_after_the_trade():
    # liquidation 20% above the mark today; three times the short would bring it within 5%
    snap = snapshot(positions={BTC: "-1"}, liq={BTC: "60000"})
    res = _guard([_intent("3")], snap)
    (trimmed,) = res.approved
    assert D("0.9") < trimmed.qty < D("1")  # to where the estimate keeps it 10% away
    assert "liquidation price after the trade (estimated" in res.notes[0]
    near = snapshot(positions={BTC: "-1"}, liq={BTC: "52000"})  # 4% above the mark already
    res = _guard([_intent("0.5")], near)
    assert res.approved == ()
    assert "liquidation price after the trade (estimated 51250.41)" in res.rejections[0].reason


def test_a_hedge_backed_by_its_spot_on_a_unified_account_is_far_from_liquidation():
    snap = snapshot(spot={"BTC": "2"}, usdt="5000")
    assert len(_guard([_intent("2")], snap).approved) == 1
    # the same short without the spot as collateral (Binance USD-M): liquidation near
    split = RiskLimits(spot_is_collateral=False, max_leverage=D(100))
    res = _guard([_intent("2")], snap, limits=split)
    assert res.approved[0].qty < D("1")


def test_margin_ratio_switches_to_reducing():
    snap = snapshot(positions={BTC: "-10"}, usdt="500")  # maint 2500 on equity 500
    res = _guard([_intent("0.1")], snap)
    assert res.state == TradingState.REDUCING
    assert res.approved == ()


def test_per_order_notional_cap_clips_so_large_orders_converge():
    res = _guard(
        [_intent("10")], snapshot(usdt="10000000"), limits=RiskLimits(max_order_notional=D(100_000))
    )
    assert res.approved[0].qty == D("2.000")
    assert "clipped" in res.notes[0]


def test_order_rate_limit():
    res = _guard([_intent("0.1"), _intent("0.2")], snapshot(), orders_last_minute=29)
    assert len(res.approved) == 1
    assert "order rate" in res.rejections[0].reason


def test_snapshot_problems_absurd_stale_and_jump():
    from datetime import timedelta

    snap = snapshot()
    bad = dict(snap.tickers)
    bad[BTC] = Ticker(BTC, None, None, D("NaN"), mark=D("NaN"), ts=T0)
    problems = snapshot_problems(replace(snap, tickers=bad), [BTC], RiskLimits(), {})
    assert problems == {BTC: "absurd price NaN"}
    bad[BTC] = Ticker(BTC, None, None, D(0), mark=D(0), ts=T0)
    assert snapshot_problems(replace(snap, tickers=bad), [BTC], RiskLimits(), {}) == {
        BTC: "absurd price 0"
    }
    old = replace(snap, ts=T0 + timedelta(minutes=10))
    assert "stale" in snapshot_problems(old, [BTC], RiskLimits(), {})[BTC]
    jumped = snapshot_problems(snap, [BTC, "ETH/USDT"], RiskLimits(), {BTC: D(10_000)})
    assert set(jumped) == {BTC} and "jumped" in jumped[BTC]  # only the symbol concerned
    assert snapshot_problems(snap, [BTC, "ETH/USDT"], RiskLimits(), {BTC: D(49_000)}) == {}


def test_spot_coins_count_as_collateral_at_a_haircut_on_a_unified_account_only():
    from bot.risk import margin_equity

    snap = snapshot(spot={"BTC": "2"}, usdt="0")  # BTC at 50k
    assert margin_equity(snap, "USDT", D("0.8")) == D("80000.0")
    res = _guard([_intent("2")], snap, limits=RiskLimits(max_leverage=D(3)))
    assert len(res.approved) == 1  # a spot-only hedger can short against its coins
    split = RiskLimits(max_leverage=D(3), spot_is_collateral=False)  # Binance: separate wallets
    assert split.collateral_ratio == 0
    res = _guard([_intent("2")], snap, limits=split)
    assert res.approved == () and res.rejections[0].reason == "no margin equity"


def test_cap_overhedge_scales_short_targets_down_to_the_cap():
    from bot.caps import cap_overhedge
    from bot.domain import HedgeTarget

    snap = snapshot(spot={"BTC": "2"})
    spot_of = {"btc": ["BTC"], "carry": ["BTC"]}
    wanted = [HedgeTarget("btc", BTC, D("-2.4"), "ratio 1.2")]
    targets, capped, note = cap_overhedge(wanted, snap, D("1.05"), spot_of, "USDT")
    assert targets[0].size == D("-2.100") and capped == (BTC,)
    assert "trimmed to max_overhedge 1.05" in note and "-2.4 -> -2.10" in note
    within = [HedgeTarget("btc", BTC, D("-2"), "ratio 1")]
    assert cap_overhedge(within, snap, D("1.05"), spot_of, "USDT") == (within, (), "")
    # a basis leg buying 1 BTC of spot in the same plan raises the cap with it
    basis = [HedgeTarget("carry", BTC, D("-3"), "carry", spot_symbol="BTC/USDT", spot_size=D(3))]
    assert cap_overhedge(basis, snap, D("1.05"), spot_of, "USDT")[1] == ()


def test_cap_overhedge_trims_the_hedge_that_is_over_not_its_neighbour():
    """rev7 defect 4: one account-wide factor trimmed a 1:1 ETH hedge beside BTC at 1.2."""
    from bot.caps import cap_overhedge
    from bot.domain import HedgeTarget

    snap = snapshot(spot={"BTC": "2", "ETH": "40"}, prices={"BTC": "60000", "ETH": "3000"})
    eth = "ETH/USDT:USDT"
    spot_of = {"btc": ["BTC"], "eth": ["ETH"], "btc2": ["BTC"]}
    wanted = [HedgeTarget("btc", BTC, D("-2.4"), ""), HedgeTarget("eth", eth, D("-40"), "")]
    targets, capped, _ = cap_overhedge(wanted, snap, D("1.05"), spot_of, "USDT")
    assert [t.size for t in targets] == [D("-2.100"), D("-40")] and capped == (BTC,)
    # two hedges of the same coin are judged together: 0.6 + 0.6 of BTC is 1.2 of it
    halves = [HedgeTarget(h, BTC, D("-1.2"), "") for h in ("btc", "btc2")]
    targets, capped, _ = cap_overhedge([*halves, wanted[1]], snap, D("1.05"), spot_of, "USDT")
    assert sum(t.size for t in targets[:2]) >= D("-2.1") and targets[2].size == D(-40)


async def test_spot_is_collateral_on_a_unified_account_not_on_binance_usdm():
    from pydantic import SecretStr

    from bot.exchange.factory import VenueConnection, create_exchange
    from bot.universe import spot_is_collateral

    def port(venue: str):
        key = SecretStr("k")
        conn = VenueConnection(venue, "testnet", api_key=key, api_secret=key)
        return create_exchange(conn)

    bybit, binance = port("bybit"), port("binance")
    try:
        assert spot_is_collateral(bybit) is True
        assert spot_is_collateral(binance) is False  # spot and USD-M futures: two wallets
    finally:
        await bybit.close()
        await binance.close()


@settings(max_examples=200, deadline=None)
@given(
    spot=st.decimals(min_value=0, max_value=50, places=3),
    usdt=st.decimals(min_value=0, max_value=500_000, places=0),
    short=st.decimals(min_value=0, max_value=20, places=3),
    qty=st.decimals(min_value=D("0.001"), max_value=30, places=3),
)
# clipped by the notional cap first, then trimmed by the liquidation distance (second note)
@example(spot=D("0.661"), usdt=D(0), short=D("0.531"), qty=D("5.001"))
def test_a_trimmed_order_respects_every_cap_and_is_the_largest_that_does(spot, usdt, short, qty):
    from bot.risk import margin_equity

    positions = {BTC: str(-short)} if short else {}
    snap = snapshot(spot={"BTC": str(spot)}, usdt=str(usdt), positions=positions)
    limits = RiskLimits(max_margin_ratio=D(1))
    hedged = spot * 50_000
    res = _guard([_intent(str(qty))], snap, limits=limits, hedged_spot_value=hedged)
    if not res.approved:
        return
    (order,) = res.approved
    assert order.qty <= qty and order.qty % D("0.001") == 0
    equity = margin_equity(snap, "USDT", limits.collateral_ratio)
    after = (short + order.qty) * 50_000
    assert after <= equity * limits.max_leverage
    assert after <= hedged * limits.max_overhedge
    if order.qty < qty:  # one step more would have broken a cap
        more = (short + order.qty + D("0.001")) * 50_000
        assert (
            more > equity * limits.max_leverage
            or more > hedged * limits.max_overhedge
            or (order.qty + D("0.001")) * 50_000 > limits.max_order_notional
            or any("liquidation" in n for n in res.notes)
        )
