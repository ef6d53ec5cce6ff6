from __future__ import annotations

from decimal import Decimal

import numpy as np
import pydantic
import pytest

from bot.domain import HedgeTarget, Snapshot
from strategies.dynamic import DynamicHedge
from tests.unit.test_strategy_support import (
    BTC_PERP,
    bars_from,
    make_snapshot,
    make_strategy,
    path_from_returns,
)

PARAMS = {"vol_span": 5, "vol_window": 60, "trend_window": 20, "confirm": 2, "band": "0.05"}


def dynamic(**params: object) -> DynamicHedge:
    s = make_strategy("dynamic", {**PARAMS, **params})
    assert isinstance(s, DynamicHedge)
    return s


def series(recent_vol: float, drift: float = 0.0, seed: int = 1) -> np.ndarray:
    """60 bars at 2% volatility, then 15 bars at ``recent_vol`` with ``drift`` per bar."""
    rng = np.random.default_rng(seed)
    rets = np.concatenate([rng.normal(0, 0.02, 60), rng.normal(drift, recent_vol, 15)])
    return path_from_returns(rets, 40000.0)


def snap(closes: np.ndarray, *, price: float | None = None, btc: float = 2) -> Snapshot:
    return make_snapshot(
        balances={"BTC": btc},
        prices={BTC_PERP: price if price is not None else float(closes[-1])},
        history={(BTC_PERP, "1h"): bars_from(closes)},
    )


def moving_average(closes: np.ndarray, n: int = 20) -> float:
    return float(np.mean(closes[-n:]))


def test_history_need_covers_the_longest_window() -> None:
    (need,) = dynamic().history_needs()
    assert (need.symbol, need.timeframe, need.bars) == (BTC_PERP, "1h", 61)
    (need,) = dynamic(trend_window=100, symbol="BTC/USDT", timeframe="4h").history_needs()
    assert (need.symbol, need.timeframe, need.bars) == ("BTC/USDT", "4h", 101)


def test_calm_uptrend_hedges_least() -> None:
    closes = series(0.001, drift=0.002)
    t = dynamic().target(snap(closes), None)
    assert t is not None
    assert t.details["regime"] == "calm_up"
    assert t.ratio == Decimal("0.5") and t.size == Decimal("-1")
    assert Decimal(t.details["vol_ratio"]) < Decimal("0.8")


def then(closes: np.ndarray, *relative_to_ma: float) -> np.ndarray:
    """``closes`` followed by one new closed bar per factor, each at factor x the moving average
    of the 20 bars before it."""
    out = closes
    for factor in relative_to_ma:
        out = np.append(out, moving_average(out) * factor)
    return out


def test_high_volatility_hedges_most() -> None:
    closes = then(series(0.08, seed=3), 1.05)
    t = dynamic().target(snap(closes), None)
    assert t is not None
    assert t.details["regime"] == "defensive"
    assert t.ratio == Decimal(1) and t.size == Decimal(-2)
    assert Decimal(t.details["vol_ratio"]) >= Decimal("1.25")


def test_downtrend_hedges_most_even_when_calm() -> None:
    closes = series(0.001, drift=-0.002)
    t = dynamic().target(snap(closes), None)
    assert t is not None and t.details["regime"] == "defensive" and t.ratio == Decimal(1)
    assert Decimal(t.details["trend"]) < 0 and t.details["side"] == "down"


def test_normal_volatility_uptrend_is_neutral_midpoint() -> None:
    closes = then(series(0.02, seed=2), 1.02)
    t = dynamic(high_vol="5", low_vol="0.01").target(snap(closes), None)
    assert t is not None and t.details["regime"] == "neutral" and t.ratio == Decimal("0.75")


def test_the_live_price_never_flips_the_regime_between_bar_closes() -> None:
    """Today's regression: a price wobbling 0.3% around the average flipped 0.5 <-> 1.0 every two
    cycles. The decision now moves only on closed bars; between closes it is repeated."""
    closes = then(series(0.001), 1.003)
    ma = moving_average(closes)
    strategy = dynamic()
    t = strategy.target(snap(closes), None)
    assert t is not None and t.details["regime"] == "calm_up"
    for i in range(12):  # one cycle a minute, same closed bars, ticker wobbling +-0.3%
        t = strategy.target(snap(closes, price=ma * (0.997 if i % 2 == 0 else 1.003), btc=3), t)
        assert t is not None and t.ratio == Decimal("0.5") and t.size == Decimal("-1.5")
        assert t.details["regime"] == "calm_up" and "pending" not in t.details


def test_closes_wobbling_inside_the_dead_band_do_not_flip_the_ratio() -> None:
    closes = then(series(0.001), 1.003)
    strategy = dynamic()
    t = strategy.target(snap(closes), None)
    assert t is not None and t.details["regime"] == "calm_up"
    for i in range(10):  # each new bar closes 0.3% below / above the average
        closes = then(closes, 0.997 if i % 2 == 0 else 1.003)
        t = strategy.target(snap(closes), t)
        assert t is not None and t.ratio == Decimal("0.5"), t.reason
        assert t.details["side"] == "up" and "pending" not in t.details


def test_a_move_beyond_the_band_is_confirmed_on_closed_bars() -> None:
    closes = then(series(0.001), 1.003)
    strategy = dynamic()
    t = strategy.target(snap(closes), None)
    closes = then(closes, 0.98)  # 2% below: outside the 1% dead band
    first = strategy.target(snap(closes), t)
    assert first is not None and first.ratio == Decimal("0.5")
    assert first.details["pending"] == "defensive" and first.details["pending_count"] == "1"
    again = strategy.target(snap(closes), first)  # another cycle, the same bar: no count
    assert again is not None and again.details["pending_count"] == "1"
    assert again.ratio == Decimal("0.5")
    closes = then(closes, 0.98)
    second = strategy.target(snap(closes), again)
    assert second is not None and second.ratio == Decimal(1)
    assert second.details["regime"] == "defensive" and "pending" not in second.details


def test_dead_band_is_a_parameter() -> None:
    closes = then(series(0.001), 1.003)
    strategy = dynamic(trend_band="0", confirm=1)
    t = strategy.target(snap(closes), None)
    t2 = strategy.target(snap(then(closes, 0.997)), t)
    assert t is not None and t2 is not None
    assert (t.ratio, t2.ratio) == (Decimal("0.5"), Decimal(1))


def test_confirm_one_adopts_every_change_at_the_next_close() -> None:
    closes = then(series(0.001), 1.003)
    strategy = dynamic(confirm=1)
    t = strategy.target(snap(closes), None)
    t2 = strategy.target(snap(then(closes, 0.98)), t)
    assert t is not None and t2 is not None
    assert (t.ratio, t2.ratio) == (Decimal("0.5"), Decimal(1))


def test_ratio_moves_only_beyond_the_band() -> None:
    closes = then(series(0.001), 1.003)
    strategy = dynamic(min_ratio="0.95", max_ratio="1", band="0.1", confirm=1)
    t = strategy.target(snap(closes), None)
    t2 = strategy.target(snap(then(closes, 0.98)), t)
    assert t is not None and t2 is not None
    assert t2.details["regime"] == "defensive"  # the regime changed ...
    assert t2.ratio == t.ratio == Decimal("0.95")  # ... but 0.05 is inside the 0.1 band


def test_a_negative_balance_targets_no_hedge() -> None:
    t = dynamic().target(snap(series(0.001), btc=-1), None)
    assert t is not None and t.size == 0


def test_insufficient_history_falls_back_conservatively_or_holds() -> None:
    short = series(0.01)[:10]
    t = dynamic().target(snap(short), None)
    assert t is not None and t.ratio == Decimal(1) and "held" not in t.details
    prev = HedgeTarget("h1", BTC_PERP, Decimal("-1"), "x", ratio=Decimal("0.6"))
    held = dynamic().target(snap(short, btc=4), prev)
    assert held is not None and held.ratio == Decimal("0.6") and held.size == Decimal("-2.4")
    assert held.details["held"] == "insufficient_history"


def test_previous_ratio_outside_bounds_is_clamped() -> None:
    prev = HedgeTarget("h1", BTC_PERP, Decimal("-1"), "x", ratio=Decimal("1.4"))
    t = dynamic().target(snap(series(0.01)[:10]), prev)
    assert t is not None and t.ratio == Decimal(1)


def test_params_are_validated() -> None:
    with pytest.raises(pydantic.ValidationError):
        dynamic(min_ratio="1", max_ratio="0.5")
    with pytest.raises(pydantic.ValidationError):
        dynamic(low_vol="2", high_vol="1")
    with pytest.raises(pydantic.ValidationError):
        dynamic(max_ratio="2")
