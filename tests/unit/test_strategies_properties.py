"""Property test: on arbitrary snapshots every built-in strategy gives no decision or sane targets.

Sane: finite Decimal sizes on the short side, ratios within the strategy's declared bounds, spot
legs finite and non-negative, whatever the balances (zero included), prices, history (empty, short,
long, flat, misaligned) and funding (negative included), and whatever its previous target says."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bot.domain import (
    Balance,
    FundingRate,
    HedgeSpec,
    HedgeTarget,
    Snapshot,
    Ticker,
    frozen_map,
    history_key,
)
from strategies import builtin_names, get_strategy
from strategies.base import Strategy
from tests.unit.test_strategy_support import BTC_PERP, ETH_PERP, T0, bars_from

SPOTS = ("BTC/USDT", "ETH/USDT")
PERPS = (BTC_PERP, ETH_PERP)
SYMBOLS = SPOTS + PERPS
END = T0 + timedelta(days=30)

# name -> (spot_asset, perp, params); windows kept small so "long" history exercises the math
CASES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "direct": ("BTC", BTC_PERP, {"ratio": "0.8"}),
    "cross": ("ETH", BTC_PERP, {"window": 20}),
    "cross-any-correlation": ("ETH", BTC_PERP, {"window": 20, "min_correlation": "0"}),
    "dynamic": ("BTC", BTC_PERP, {"vol_span": 3, "vol_window": 20, "trend_window": 10}),
    "funding": ("BTC", BTC_PERP, {"lookback": 5}),
    "basis": ("BTC", BTC_PERP, {"qty": "1.5", "lookback": 3}),
    "basis-notional": ("ETH", ETH_PERP, {"notional": "5000"}),
    "portfolio": ("", "", {"assets": ["BTC", "ETH"], "perps": list(PERPS), "window": 20}),
}


def build(case: str) -> Strategy:
    asset, perp, params = CASES[case]
    strategy = case.split("-")[0]
    return get_strategy(strategy).from_spec(
        HedgeSpec(f"h-{case}", asset, perp, strategy, frozen_map(params))
    )


def ratio_bounds(strategy: Strategy) -> tuple[Decimal, Decimal]:
    bounds = getattr(strategy, "ratio_bounds", None)
    if bounds is not None:
        lo, hi = bounds()
        return Decimal(lo), Decimal(hi)
    ratio = Decimal(getattr(strategy.params, "ratio", 1))  # direct: a fixed ratio
    return ratio, ratio


amounts = st.one_of(
    st.just(Decimal(0)),
    st.decimals(min_value=0, max_value=10**6, places=8, allow_nan=False, allow_infinity=False),
)
prices = st.decimals(
    min_value=Decimal("0.000001"), max_value=10**7, places=6, allow_nan=False, allow_infinity=False
)
rates = st.decimals(
    min_value=Decimal("-0.01"), max_value=Decimal("0.01"), places=6, allow_nan=False
)


@st.composite
def price_history(draw: st.DrawFn) -> tuple:
    kind = draw(st.sampled_from(["empty", "short", "long"]))
    if kind == "empty":
        return ()
    n = draw(st.integers(1, 8)) if kind == "short" else draw(st.integers(22, 45))
    vol = draw(st.sampled_from([0.0, 1e-7, 0.01, 0.3]))
    start = draw(st.floats(1e-3, 1e6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    rets = np.clip(rng.normal(0.0, vol, n - 1), -0.9, 3.0)
    closes = start * np.concatenate([[1.0], np.cumprod(1.0 + rets)])
    gap = draw(st.sampled_from([0, 0, 1]))  # sometimes misaligned with the other series
    return bars_from(closes, start=END - timedelta(hours=n + gap))


@st.composite
def related_histories(draw: st.DrawFn) -> dict[str, tuple]:
    """All four series on the same bar times, driven by one factor, so the fits have data."""
    n = draw(st.integers(22, 45))
    vol = draw(st.sampled_from([0.0, 1e-7, 0.01, 0.2]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    factor = rng.normal(0.0, vol, n - 1)
    out = {}
    for symbol in SYMBOLS:
        beta = draw(st.sampled_from([-0.5, 0.0, 0.7, 1.5]))
        noise = draw(st.sampled_from([0.0, 0.1, 1.0]))
        rets = np.clip(beta * factor + rng.normal(0.0, vol * noise, n - 1), -0.9, 3.0)
        closes = draw(st.floats(1e-3, 1e6)) * np.concatenate([[1.0], np.cumprod(1.0 + rets)])
        out[history_key(symbol, "1h")] = bars_from(closes, start=END - timedelta(hours=n))
    return out


@st.composite
def snapshots(draw: st.DrawFn) -> Snapshot:
    balances = {
        a: Balance(a, q, Decimal(0), q)
        for a in ("BTC", "ETH")
        if (q := draw(st.one_of(st.none(), amounts))) is not None
    }
    tickers = {
        s: Ticker(s, None, None, p, mark=p)
        for s in SYMBOLS
        if (p := draw(st.one_of(st.none(), prices, prices, prices))) is not None
    }
    if draw(st.booleans()):
        history = draw(related_histories())
    else:
        history = {history_key(s, "1h"): draw(price_history()) for s in SYMBOLS}
    interval = draw(st.sampled_from([1, 4, 8]))
    funding = {
        s: FundingRate(s, r, None, interval)
        for s in PERPS
        if (r := draw(st.one_of(st.none(), rates))) is not None
    }
    funding_history = {
        s: tuple(FundingRate(s, r, None, interval) for r in draw(st.lists(rates, max_size=8)))
        for s in PERPS
    }
    return Snapshot(
        ts=END,
        balances=frozen_map(balances),
        tickers=frozen_map(tickers),
        history=frozen_map(history),
        funding=frozen_map(funding),
        funding_history=frozen_map(funding_history),
    )


@st.composite
def previous_targets(draw: st.DrawFn, perps: tuple[str, ...]) -> Mapping[str, HedgeTarget]:
    """Whatever a previous cycle might have stored, including nonsense a strategy must survive."""
    details = draw(
        st.dictionaries(
            st.sampled_from(["state", "qty", "regime", "pending", "pending_count", "held"]),
            st.sampled_from(["entered", "exited", "calm_up", "defensive", "7", "-1", "x", ""]),
        )
    )
    out = {}
    for perp in perps:
        if draw(st.booleans()):
            size = draw(st.decimals(min_value=-(10**6), max_value=10**6, places=4))
            ratio = draw(st.one_of(st.none(), st.decimals(min_value=-2, max_value=5, places=3)))
            out[perp] = HedgeTarget("prev", perp, size, "prev", ratio, frozen_map(details))
    return out


def assert_sane(strategy: Strategy, targets: tuple[HedgeTarget, ...]) -> None:
    lo, hi = ratio_bounds(strategy)
    for t in targets:
        assert t.hedge == strategy.hedge.name
        assert t.perp_symbol in PERPS
        assert isinstance(t.size, Decimal) and t.size.is_finite(), t
        assert t.size <= 0, t
        if t.ratio is not None:
            assert t.ratio.is_finite() and lo <= t.ratio <= hi, (t, lo, hi)
        if t.spot_size is not None:
            assert t.spot_size.is_finite() and t.spot_size >= 0, t
            assert t.spot_symbol in SPOTS
        assert all(isinstance(v, str) for v in t.details.values())


def test_every_builtin_has_a_property_case() -> None:
    assert {c.split("-")[0] for c in CASES} == set(builtin_names())


@pytest.mark.parametrize("case", list(CASES))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_targets_are_finite_short_and_within_bounds(case: str, data: st.DataObject) -> None:
    strategy = build(case)
    perps = tuple(getattr(strategy.params, "perps", ())) or (strategy.hedge.perp_symbol,)
    previous = data.draw(previous_targets(perps))
    first = strategy.targets(data.draw(snapshots()), previous)
    assert_sane(strategy, first)
    event("decided" if first else "no decision")
    event("held" if any(t.details.get("held") for t in first) else "not held")
    # feed the answer back, as the engine does, so hysteresis and hold paths run too
    chained = {t.perp_symbol: t for t in first} or previous
    assert_sane(strategy, strategy.targets(data.draw(snapshots()), chained))
