"""decide(): a hedge whose strategy reads a symbol that is not trusted this cycle makes no
decision and says why, whichever symbol it is (a basket asset, a cross hedge's spot, its perp)."""

from __future__ import annotations

import numpy as np

from bot.decide import build_strategies, decide
from bot.domain import HedgeSpec, frozen_map
from tests.unit.test_strategy_support import (
    BTC_PERP,
    ETH_PERP,
    bars_from,
    beta_pair,
    make_snapshot,
    path_from_returns,
)

WINDOW = 48


def basket_snapshot(sol_price: float):
    sol, btc = beta_pair(1.2, WINDOW, noise=0.001, seed=3)
    eth = path_from_returns(np.random.default_rng(4).normal(0, 0.01, WINDOW), 3000.0)
    return make_snapshot(
        balances={"SOL": 100, "ETH": 10},
        prices={"SOL/USDT": sol_price, "ETH/USDT": 2000, BTC_PERP: 40000, ETH_PERP: 2000},
        history={
            ("SOL/USDT", "1h"): bars_from(sol),
            ("ETH/USDT", "1h"): bars_from(eth),
            (BTC_PERP, "1h"): bars_from(btc),
            (ETH_PERP, "1h"): bars_from(eth),
        },
    )


def strategies():
    return build_strategies(
        [
            HedgeSpec(
                "basket",
                "",
                "",
                "portfolio",
                frozen_map({"assets": ["SOL"], "perps": [BTC_PERP], "window": WINDOW}),
            ),
            HedgeSpec("eth-by-btc", "ETH", BTC_PERP, "cross", frozen_map({"window": WINDOW})),
        ]
    )


def test_a_bad_print_in_a_basket_asset_skips_the_portfolio() -> None:
    """A 10x SOL print (flagged by the price guard) used to give a 10x target."""
    trusted = decide({"basket": strategies()["basket"]}, basket_snapshot(50), {}, set())
    assert [t.perp_symbol for t in trusted.targets] == [BTC_PERP]
    bad = decide({"basket": strategies()["basket"]}, basket_snapshot(500), {}, {"SOL/USDT"})
    assert bad.targets == []
    assert "SOL/USDT" in bad.failures["basket"] and "not trusted" in bad.failures["basket"]


def test_a_cross_hedge_is_skipped_when_its_spot_is_untrusted() -> None:
    cross = {"eth-by-btc": strategies()["eth-by-btc"]}
    out = decide(cross, basket_snapshot(50), {}, {"ETH/USDT"})
    assert out.targets == [] and "ETH/USDT" in out.failures["eth-by-btc"]


def test_symbols_read_name_every_input() -> None:
    built = strategies()
    assert built["basket"].symbols_read() == {"SOL/USDT", BTC_PERP}
    assert built["eth-by-btc"].symbols_read() == {"ETH/USDT", BTC_PERP}
