from datetime import timedelta
from decimal import Decimal as D

from bot.domain import HedgeTarget, Side
from bot.planner import PlannerConfig, aggregate, client_order_id, plan, round_down, within_band
from tests.factories import T0, perp_market, snapshot

BTC = "BTC/USDT:USDT"
ETH = "ETH/USDT:USDT"


def _plan(snap, targets, **kw):
    cfg = kw.pop("config", PlannerConfig(rebalance_band=D("0.02"), cooldown_seconds=30))
    return plan(cycle=7, tag="ab12", targets=aggregate(targets), snapshot=snap, config=cfg, **kw)


def test_opens_short_rounded_down_to_step():
    snap = snapshot(spot={"BTC": "2.00049"})
    result = _plan(snap, [HedgeTarget("btc", BTC, D("-2.00049"), "r")])
    (intent,) = result.intents
    assert intent.side == Side.SELL
    assert intent.qty == D("2.000")  # 2.00049 rounded down to the 0.001 step
    assert not intent.reduce_only
    assert intent.client_order_id == "hb-ab12-7-BTCUSDT-h0"


def test_inside_band_sends_nothing():
    snap = snapshot(spot={"BTC": "2"}, positions={BTC: "-1.97"})
    result = _plan(snap, [HedgeTarget("btc", BTC, D("-2"), "r")])
    assert result.intents == ()
    assert result.skips[0].reason.startswith("within rebalance band (")


def test_outside_band_tops_up():
    snap = snapshot(spot={"BTC": "2"}, positions={BTC: "-1.9"})
    (intent,) = _plan(snap, [HedgeTarget("btc", BTC, D("-2"), "r")]).intents
    assert (intent.side, intent.qty, intent.reduce_only) == (Side.SELL, D("0.1"), False)


def test_shrinking_short_is_reduce_only_and_never_flips():
    snap = snapshot(positions={BTC: "-1"})
    (intent,) = _plan(snap, [HedgeTarget("btc", BTC, D("0.5"), "r")]).intents
    assert intent.side == Side.BUY
    assert intent.reduce_only
    assert intent.qty == D("1")  # capped at the position: closes, does not go long


def test_target_zero_closes_whatever_the_band():
    snap = snapshot(positions={BTC: "-0.004"})
    (intent,) = _plan(snap, [HedgeTarget("btc", BTC, D(0), "r")]).intents
    assert intent.qty == D("0.004") and intent.reduce_only


def test_below_min_notional_is_dropped():
    snap = snapshot(spot={"BTC": "0.00005"})
    result = _plan(snap, [HedgeTarget("btc", BTC, D("-0.00005"), "r")])
    assert result.intents == ()
    assert "min qty" in result.skips[0].reason


def test_min_notional_rule():
    snap = snapshot(prices={"BTC": "1000"})
    result = _plan(snap, [HedgeTarget("btc", BTC, D("-0.004"), "r")])  # 4 USDT < 5
    assert result.intents == ()
    assert "min notional" in result.skips[0].reason


def test_cooldown_blocks_a_recent_symbol_only():
    snap = snapshot(spot={"BTC": "2", "ETH": "30"})
    targets = [HedgeTarget("btc", BTC, D("-2"), "r"), HedgeTarget("eth", ETH, D("-30"), "r")]
    result = _plan(snap, targets, last_order_at={BTC: T0 - timedelta(seconds=10)})
    assert [i.symbol for i in result.intents] == [ETH]
    assert any(s.symbol == BTC and s.reason == "cooldown (20s left)" for s in result.skips)


def test_unresolved_intent_blocks_symbol():
    snap = snapshot(spot={"BTC": "2"})
    result = _plan(snap, [HedgeTarget("btc", BTC, D("-2"), "r")], blocked={BTC})
    assert result.intents == ()
    assert "unresolved" in result.skips[0].reason


def test_targets_on_one_perp_are_summed():
    snap = snapshot(spot={"BTC": "1", "ETH": "10"})
    targets = [HedgeTarget("btc", BTC, D("-1"), "r"), HedgeTarget("eth-x", BTC, D("-0.5"), "r")]
    (intent,) = _plan(snap, targets).intents
    assert intent.qty == D("1.5")
    assert intent.hedge == "btc+eth-x"


def test_spot_leg_of_basis_target():
    snap = snapshot(spot={"BTC": "0"})
    t = HedgeTarget("carry", BTC, D("-1"), "r", spot_symbol="BTC/USDT", spot_size=D("1"))
    intents = {i.symbol: i for i in _plan(snap, [t]).intents}
    assert intents["BTC/USDT"].side == Side.BUY and intents["BTC/USDT"].qty == D("1")
    assert not intents["BTC/USDT"].reduce_only
    assert intents[BTC].side == Side.SELL


def test_client_ids_are_deterministic_and_short():
    m = perp_market("1000PEPE")
    from bot.domain import IntentPurpose

    a = client_order_id("ffff", 9_999_999_999, m, IntentPurpose.STOP, 3)
    assert a == client_order_id("ffff", 9_999_999_999, m, IntentPurpose.STOP, 3)
    assert len(a) <= 36


def test_helpers():
    assert round_down(D("1.23456"), D("0.01")) == D("1.23")
    assert within_band(D("-1.99"), D("-2"), D("0.01"))
    assert not within_band(D("-1.97"), D("-2"), D("0.01"))
    assert within_band(D(0), D(0), D("0.5"))


def test_a_last_order_in_the_future_does_not_block_forever():
    snap = snapshot(spot={"BTC": "2"})
    result = _plan(
        snap, [HedgeTarget("btc", BTC, D("-2"), "r")], last_order_at={BTC: T0 + timedelta(hours=1)}
    )
    assert len(result.intents) == 1
