from __future__ import annotations

from decimal import Decimal

import numpy as np
import pydantic
import pytest

from bot.domain import Snapshot
from strategies.portfolio import PortfolioHedge
from tests.unit.test_strategy_support import (
    BTC_PERP,
    ETH_PERP,
    bars_from,
    make_snapshot,
    make_strategy,
    path_from_returns,
)

WINDOW = 200


def portfolio(assets: list[str], **params: object) -> PortfolioHedge:
    s = make_strategy(
        "portfolio",
        {"assets": assets, "perps": [BTC_PERP, ETH_PERP], "window": WINDOW, **params},
        spot_asset="",
        perp="",
        name="basket",
    )
    assert isinstance(s, PortfolioHedge)
    return s


def perp_paths(seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    r1, r2 = rng.normal(0, 0.01, WINDOW), rng.normal(0, 0.015, WINDOW)
    return r1, r2, path_from_returns(r1, 40000.0), path_from_returns(r2, 2000.0)


def snap(spot: dict[str, np.ndarray], btc: np.ndarray, eth: np.ndarray, qty: dict) -> Snapshot:
    history = {(f"{a}/USDT", "1h"): bars_from(c) for a, c in spot.items()}
    history[(BTC_PERP, "1h")] = bars_from(btc)
    history[(ETH_PERP, "1h")] = bars_from(eth)
    prices = {f"{a}/USDT": float(c[-1]) for a, c in spot.items()}
    prices.update({BTC_PERP: 40000, ETH_PERP: 2000})
    return make_snapshot(balances=qty, prices=prices, history=history)


def test_history_needs_cover_every_asset_and_perp() -> None:
    needs = portfolio(["SOL", "AVAX"], timeframe="4h").history_needs()
    assert {(n.symbol, n.timeframe, n.bars) for n in needs} == {
        ("SOL/USDT", "4h", WINDOW + 1),
        ("AVAX/USDT", "4h", WINDOW + 1),
        (BTC_PERP, "4h", WINDOW + 1),
        (ETH_PERP, "4h", WINDOW + 1),
    }


def test_recovers_known_weights_of_one_asset_on_two_perps() -> None:
    r1, r2, btc, eth = perp_paths()
    noise = np.random.default_rng(2).normal(0, 0.0005, WINDOW)
    sol = path_from_returns(0.5 * r1 + 0.3 * r2 + noise, 100.0)
    s = snap({"SOL": sol}, btc, eth, {"SOL": 100})
    targets = portfolio(["SOL"]).targets(s, {})
    by_perp = {t.perp_symbol: t for t in targets}
    assert set(by_perp) == {BTC_PERP, ETH_PERP}
    w_btc, w_eth = by_perp[BTC_PERP].ratio, by_perp[ETH_PERP].ratio
    assert w_btc is not None and w_eth is not None
    assert abs(w_btc - Decimal("0.5")) < Decimal("0.02")
    assert abs(w_eth - Decimal("0.3")) < Decimal("0.02")
    value = Decimal(100) * Decimal(str(round(float(sol[-1]), 10)))
    for t, price in ((by_perp[BTC_PERP], 40000), (by_perp[ETH_PERP], 2000)):
        assert t.hedge == "basket" and t.size < 0
        assert abs(t.size - (-(t.ratio or 0) * value / price)) < Decimal("1e-6")
        assert "R2=" in t.reason and "resid_var=" in t.reason
        assert float(t.details["r2"]) > 0.95


def test_two_asset_basket_weights_are_value_shares() -> None:
    _, _, btc, eth = perp_paths(seed=3)
    # spot BTC tracks the BTC perp, spot ETH the ETH perp; 60% / 40% of the value at the start
    s = snap({"BTC": btc, "ETH": eth}, btc, eth, {"BTC": 0.6, "ETH": 8})  # 24000 + 16000 USDT
    targets = {t.perp_symbol: t for t in portfolio(["BTC", "ETH"]).targets(s, {})}
    assert abs(float(targets[BTC_PERP].ratio or 0) - 0.6) < 0.05
    assert abs(float(targets[ETH_PERP].ratio or 0) - 0.4) < 0.05
    assert float(targets[BTC_PERP].details["r2"]) > 0.99


def test_weights_are_clamped_to_bounds() -> None:
    r1, r2, btc, eth = perp_paths()
    sol = path_from_returns(1.5 * r1 - 0.4 * r2, 100.0)
    s = snap({"SOL": sol}, btc, eth, {"SOL": 100})
    targets = {t.perp_symbol: t for t in portfolio(["SOL"], max_weight="1").targets(s, {})}
    assert targets[BTC_PERP].ratio == Decimal(1)
    assert targets[ETH_PERP].ratio == 0 and targets[ETH_PERP].size == 0  # never a long hedge


def test_bounds_are_solved_jointly_not_clamped_after_the_fit() -> None:
    """Correlated perps, a basket that loads 1.3 on BTC and -0.4 on ETH: with ETH held at 0 the
    best BTC weight is the one-perp beta, not the 1.3 an unbounded fit gives (clamping after the
    fit over-hedged by 20% or more)."""
    rng = np.random.default_rng(11)
    r1 = rng.normal(0, 0.01, WINDOW)
    r2 = 0.8 * r1 + rng.normal(0, 0.006, WINDOW)  # ETH follows BTC
    btc, eth = path_from_returns(r1, 40000.0), path_from_returns(r2, 2000.0)
    sol = path_from_returns(1.3 * r1 - 0.4 * r2 + rng.normal(0, 0.0005, WINDOW), 100.0)
    targets = {
        t.perp_symbol: t
        for t in portfolio(["SOL"]).targets(snap({"SOL": sol}, btc, eth, {"SOL": 100}), {})
    }
    assert targets[ETH_PERP].ratio == 0 and targets[ETH_PERP].size == 0
    y = sol[1:] / sol[:-1] - 1
    x = btc[1:] / btc[:-1] - 1
    one_perp_beta = float(np.cov(y, x)[0, 1] / np.var(x, ddof=1))
    assert abs(float(targets[BTC_PERP].ratio or 0) - one_perp_beta) < 0.002
    assert one_perp_beta < 1.1  # the unbounded fit's 1.3 would over-hedge by about 20%


def test_empty_basket_targets_no_hedge_on_every_perp() -> None:
    _, _, btc, eth = perp_paths()
    targets = portfolio(["SOL"]).targets(snap({}, btc, eth, {}), {})
    assert [(t.perp_symbol, t.size) for t in targets] == [(BTC_PERP, 0), (ETH_PERP, 0)]


def test_insufficient_data_makes_no_decision() -> None:
    r1, _, btc, eth = perp_paths()
    sol = path_from_returns(0.5 * r1, 100.0)
    short = snap({"SOL": sol[:50]}, btc, eth, {"SOL": 1})
    assert portfolio(["SOL"]).targets(short, {}) == ()
    no_price = make_snapshot(
        balances={"SOL": 1},
        prices={BTC_PERP: 40000, ETH_PERP: 2000},
        history={(BTC_PERP, "1h"): bars_from(btc), (ETH_PERP, "1h"): bars_from(eth)},
    )
    assert portfolio(["SOL"]).targets(no_price, {}) == ()


def test_collinear_perps_make_no_decision() -> None:
    r1, _, btc, _ = perp_paths()
    sol = path_from_returns(0.5 * r1, 100.0)
    twin = btc / 20  # the "ETH" perp moves exactly like BTC: weights are not identified
    assert portfolio(["SOL"]).targets(snap({"SOL": sol}, btc, twin, {"SOL": 1}), {}) == ()


def test_is_multi_asset_and_target_returns_the_first_perp() -> None:
    assert PortfolioHedge.multi_asset is True
    r1, r2, btc, eth = perp_paths()
    sol = path_from_returns(0.5 * r1 + 0.3 * r2, 100.0)
    one = portfolio(["SOL"]).target(snap({"SOL": sol}, btc, eth, {"SOL": 1}), None)
    assert one is not None and one.perp_symbol == BTC_PERP


def test_equal_bounds_fix_every_weight() -> None:
    r1, r2, btc, eth = perp_paths()
    sol = path_from_returns(0.5 * r1 + 0.3 * r2, 100.0)
    s = snap({"SOL": sol}, btc, eth, {"SOL": 100})
    targets = portfolio(["SOL"], min_weight="0.7", max_weight="0.7").targets(s, {})
    assert [t.ratio for t in targets] == [Decimal("0.7"), Decimal("0.7")]


def test_params_are_validated() -> None:
    with pytest.raises(pydantic.ValidationError):
        portfolio([])
    with pytest.raises(pydantic.ValidationError):
        portfolio(["SOL"], perps=["BTC/USDT"])
    with pytest.raises(pydantic.ValidationError):
        portfolio(["SOL", "SOL"])
    with pytest.raises(pydantic.ValidationError):
        portfolio(["SOL"], min_weight="2", max_weight="1")
