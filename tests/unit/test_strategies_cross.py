from __future__ import annotations

from decimal import Decimal

import numpy as np
import pydantic
import pytest

from bot.domain import HedgeTarget
from strategies.cross import CrossHedge
from tests.unit.test_strategy_support import (
    BTC_PERP,
    bars_from,
    beta_pair,
    make_snapshot,
    make_strategy,
)

SPOT = "ETH/USDT"
WINDOW = 168


def cross(**params: object) -> CrossHedge:
    s = make_strategy("cross", {"window": WINDOW, **params}, spot_asset="ETH", perp=BTC_PERP)
    assert isinstance(s, CrossHedge)
    return s


def snap(a: np.ndarray, b: np.ndarray, *, eth: float = 10, pa: float = 2000, pb: float = 40000):
    return make_snapshot(
        balances={"ETH": eth},
        prices={SPOT: pa, BTC_PERP: pb},
        history={(SPOT, "1h"): bars_from(a), (BTC_PERP, "1h"): bars_from(b)},
    )


def test_history_needs_name_both_series_with_one_extra_bar() -> None:
    needs = {(n.symbol, n.timeframe, n.bars) for n in cross(timeframe="4h").history_needs()}
    assert needs == {(SPOT, "4h", WINDOW + 1), (BTC_PERP, "4h", WINDOW + 1)}


def test_spot_symbol_override_is_read() -> None:
    needs = cross(spot_symbol="ETH/USDC").history_needs()
    assert needs[0].symbol == "ETH/USDC"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_recovers_known_beta_and_sizes_in_value_terms(seed: int) -> None:
    a, b = beta_pair(0.7, WINDOW, noise=0.0005, seed=seed)
    t = cross().target(snap(a, b), None)
    assert t is not None and t.ratio is not None
    assert abs(t.ratio - Decimal("0.7")) < Decimal("0.02")
    # value terms: short BTC notional = beta x ETH notional
    expected = -(t.ratio * 10 * 2000 / Decimal(40000))
    assert abs(t.size - expected) < Decimal("1e-6")
    assert t.size < 0
    assert "held" not in t.details
    assert "beta=" in t.reason and "corr=" in t.reason and f"window={WINDOW}x1h" in t.reason


def test_uses_only_the_last_window_of_a_longer_history() -> None:
    early_a, early_b = beta_pair(1.5, 300, noise=0.001, seed=9)
    late_a, late_b = beta_pair(0.7, WINDOW, noise=0.0005, seed=10)
    a = np.concatenate([early_a, early_a[-1] * late_a[1:] / late_a[0]])
    b = np.concatenate([early_b, early_b[-1] * late_b[1:] / late_b[0]])
    t = cross().target(snap(a, b), None)
    assert t is not None and t.ratio is not None
    assert abs(t.ratio - Decimal("0.7")) < Decimal("0.02")


def test_beta_clamped_to_bounds() -> None:
    a, b = beta_pair(1.8, WINDOW, noise=0.001, seed=4)
    t = cross(max_beta="1.2").target(snap(a, b), None)
    assert t is not None
    assert t.ratio == Decimal("1.2")
    assert "raw 1.8" in t.reason or "raw 1.7" in t.reason


def test_low_correlation_holds_previous_target() -> None:
    a, b = beta_pair(0.3, WINDOW, noise=0.02, seed=5)  # corr about 0.15
    prev = HedgeTarget("h1", BTC_PERP, Decimal("-0.35"), "before", ratio=Decimal("0.7"))
    t = cross().target(snap(a, b), prev)
    assert t is not None
    assert t.size == Decimal("-0.35")
    assert t.ratio == Decimal("0.7")
    assert t.details["held"] == "low_correlation"
    assert Decimal(t.details["correlation"]) < Decimal("0.6")
    assert "held" in t.reason and "corr=" in t.reason


def test_low_correlation_holds_the_ratio_and_follows_the_holding() -> None:
    """Below the floor the previous *ratio* is held: selling the ETH closes the BTC short (it
    used to hold the size, leaving a naked 4.5 BTC short), and a price move re-sizes it."""
    a, b = beta_pair(0.3, WINDOW, noise=0.02, seed=5)  # corr about 0.15
    prev = HedgeTarget("h1", BTC_PERP, Decimal("-4.5"), "before", ratio=Decimal("0.9"))
    sold = cross().target(snap(a, b, eth=0, pa=2000, pb=40000), prev)
    assert sold is not None and sold.size == 0 and sold.ratio == Decimal("0.9")
    assert sold.details["held"] == "low_correlation"
    half = cross().target(snap(a, b, eth=50, pa=1000, pb=40000), prev)
    assert half is not None and half.size == Decimal("-1.125")  # 0.9 x 50 x 1000 / 40000


def test_low_correlation_without_previous_makes_no_decision() -> None:
    a, b = beta_pair(0.3, WINDOW, noise=0.02, seed=5)
    assert cross().target(snap(a, b), None) is None


def test_correlation_floor_is_a_parameter() -> None:
    a, b = beta_pair(0.3, WINDOW, noise=0.02, seed=5)
    t = cross(min_correlation="0").target(snap(a, b), None)
    assert t is not None and "held" not in t.details


def test_negative_correlation_never_goes_long() -> None:
    a, b = beta_pair(-0.8, WINDOW, noise=0.001, seed=6)
    prev = HedgeTarget("h1", BTC_PERP, Decimal("-0.2"), "before", ratio=Decimal("0.4"))
    t = cross(min_correlation="0").target(snap(a, b), prev)
    assert t is not None and t.size <= 0
    held = cross().target(snap(a, b), prev)
    assert held is not None and held.details["held"] == "low_correlation" and held.size <= 0


def test_flat_hedge_series_is_treated_as_uncorrelated() -> None:
    a, _ = beta_pair(0.7, WINDOW, noise=0.0005, seed=7)
    flat = np.full(WINDOW + 1, 40000.0)
    prev = HedgeTarget("h1", BTC_PERP, Decimal("-1"), "before", ratio=Decimal("0.5"))
    t = cross().target(snap(a, flat), prev)
    assert t is not None and t.details["held"] == "low_correlation" and t.ratio == Decimal("0.5")
    assert t.size == Decimal("-0.25")  # 0.5 x 10 ETH x 2000 / 40000


def test_insufficient_or_misaligned_history_makes_no_decision() -> None:
    a, b = beta_pair(0.7, WINDOW, noise=0.0005, seed=8)
    assert cross().target(snap(a[:50], b[:50]), None) is None
    shifted = make_snapshot(
        balances={"ETH": 10},
        prices={SPOT: 2000, BTC_PERP: 40000},
        history={(SPOT, "1h"): bars_from(a), (BTC_PERP, "1h"): bars_from(b, step_hours=2)[100:]},
    )
    assert cross().target(shifted, None) is None


def test_missing_price_makes_no_decision_and_zero_balance_targets_zero() -> None:
    a, b = beta_pair(0.7, WINDOW, noise=0.0005, seed=8)
    no_price = make_snapshot(
        balances={"ETH": 10},
        prices={BTC_PERP: 40000},
        history={(SPOT, "1h"): bars_from(a), (BTC_PERP, "1h"): bars_from(b)},
    )
    assert cross().target(no_price, None) is None
    t = cross().target(snap(a, b, eth=0), None)
    assert t is not None and t.size == 0


def test_params_are_validated() -> None:
    with pytest.raises(pydantic.ValidationError):
        cross(min_beta="2", max_beta="1")
    with pytest.raises(pydantic.ValidationError):
        cross(timeframe="hourly")
    with pytest.raises(pydantic.ValidationError):
        cross(unknown=1)
