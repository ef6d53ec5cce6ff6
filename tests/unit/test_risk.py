from dataclasses import replace
from decimal import Decimal as D

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


def test_leverage_cap():
    snap = snapshot(usdt="10000")  # 1 BTC at 50k = 5x on 10k equity
    res = _guard([_intent("1")], snap, limits=RiskLimits(max_leverage=D(3)))
    assert res.approved == ()
    assert "leverage 5.00 would exceed 3" in res.rejections[0].reason


def test_overhedge_cap():
    res = _guard([_intent("1")], snapshot(), hedged_spot_value=D(40_000))
    assert "over-hedge" in res.rejections[0].reason


def test_liquidation_distance():
    snap = snapshot(positions={BTC: "-1"}, liq={BTC: "52000"})  # 4% above the mark
    res = _guard([_intent("0.5")], snap)
    assert "liquidation price 52000" in res.rejections[0].reason


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


def test_spot_coins_count_as_collateral_at_a_haircut():
    from bot.risk import margin_equity

    snap = snapshot(spot={"BTC": "2"}, usdt="0")  # BTC at 50k
    assert margin_equity(snap, "USDT", D("0.8")) == D("80000.0")
    res = _guard([_intent("2")], snap, limits=RiskLimits(max_leverage=D(3)))
    assert len(res.approved) == 1  # a spot-only hedger can short against its coins
