from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pydantic
import pytest

from bot.domain import HedgeTarget
from strategies.basis import BasisTrade
from tests.unit.test_strategy_support import BTC_PERP, make_snapshot, make_strategy

# default fees: 4 x 0.00055 x 365 / 30 days = 0.02677 APR; 8 h funding: APR = rate x 1095


def basis(**params: object) -> BasisTrade:
    s = make_strategy("basis", {"qty": "0.5", "lookback": 0, **params})
    assert isinstance(s, BasisTrade)
    return s


def step(
    strategy: BasisTrade,
    rate: float | None,
    previous: HedgeTarget | None,
    *,
    history: Sequence[float] = (),
    spot_price: float = 40000,
) -> HedgeTarget | None:
    snap = make_snapshot(
        balances={"BTC": 3},
        prices={"BTC/USDT": spot_price, BTC_PERP: spot_price},
        funding={} if rate is None else {BTC_PERP: rate},
        funding_history={BTC_PERP: history},
    )
    return strategy.target(snap, previous)


def test_enters_and_exits_on_thresholds_with_hysteresis() -> None:
    s = basis()
    waiting = step(s, 0.0001, None)  # net 0.0827 < enter 0.10
    assert waiting is not None and waiting.details["state"] == "exited"
    assert (waiting.size, waiting.spot_size, waiting.spot_symbol) == (0, 0, "BTC/USDT")
    entered = step(s, 0.0002, waiting)  # net 0.192 > 0.10
    assert entered is not None and entered.details["state"] == "entered"
    assert (entered.size, entered.spot_size) == (Decimal("-0.5"), Decimal("0.5"))
    assert entered.spot_symbol == "BTC/USDT" and entered.ratio == 1
    stay = step(s, 0.0001, entered)  # net 0.0827: below enter, above exit 0.03
    assert stay is not None and stay.details["state"] == "entered" and stay.size == Decimal("-0.5")
    gone = step(s, 0.00004, stay)  # net 0.0170 < exit 0.03
    assert gone is not None and gone.details["state"] == "exited"
    assert (gone.size, gone.spot_size) == (0, 0)
    again = step(s, 0.0001, gone)  # the same rate that kept it in does not bring it back
    assert again is not None and again.details["state"] == "exited"


def test_fees_amortised_over_horizon_decide_entry() -> None:
    rate = 0.00012  # funding APR 0.1314
    short = step(basis(horizon_days="30"), rate, None)  # net 0.1046 > 0.10
    shorter = step(basis(horizon_days="10"), rate, None)  # net 0.0511
    assert short is not None and short.details["state"] == "entered"
    assert shorter is not None and shorter.details["state"] == "exited"
    assert basis(fee_rate="0.001", horizon_days="10").fee_apr() == Decimal("0.146")


def test_settled_rates_are_averaged_with_the_predicted_one() -> None:
    s = basis(lookback=3)
    # predicted 0.0003 averaged with the last three (0, 0, -0.001) is negative: stays out
    t = step(s, 0.0003, None, history=[0.0, 0.0, 0.0, -0.001])
    assert t is not None
    assert t.details["state"] == "exited"
    t = step(s, 0.0003, None, history=[-0.001, 0.0002, 0.0002, 0.0002])  # -0.001 is too old
    assert t is not None and t.details["state"] == "entered"


def test_notional_mode_fixes_qty_at_entry() -> None:
    s = basis(qty=None, notional="10000")
    entered = step(s, 0.0003, None, spot_price=40000)
    assert entered is not None and entered.spot_size == Decimal("0.25")
    later = step(s, 0.0003, entered, spot_price=50000)
    assert (
        later is not None and later.spot_size == Decimal("0.25") and later.size == -later.spot_size
    )


def test_previous_restored_without_details_keeps_the_trade() -> None:
    # after a restart the engine may only know the last size and ratio, not the details
    restored = HedgeTarget("h1", BTC_PERP, Decimal("-0.25"), "restored", ratio=Decimal(1))
    stay = step(basis(qty=None, notional="10000"), 0.0001, restored, spot_price=80000)
    assert stay is not None and stay.details["state"] == "entered"
    assert (stay.size, stay.spot_size) == (Decimal("-0.25"), Decimal("0.25"))
    flat = HedgeTarget("h1", BTC_PERP, Decimal(0), "restored", ratio=Decimal(0))
    out = step(basis(), 0.0001, flat)
    assert out is not None and out.details["state"] == "exited"


def test_notional_mode_without_price_does_not_enter() -> None:
    s = basis(qty=None, notional="10000")
    snap = make_snapshot(funding={BTC_PERP: 0.0003})
    t = s.target(snap, None)
    assert t is not None and t.details["state"] == "exited" and "no spot price" in t.reason


def test_no_funding_rate_makes_no_decision() -> None:
    assert step(basis(), None, None) is None


def test_spot_symbol_follows_the_perp_quote() -> None:
    s = make_strategy("basis", {"qty": "1"}, spot_asset="ETH", perp="ETH/USDC:USDC")
    assert isinstance(s, BasisTrade)
    assert s.spot_symbol == "ETH/USDC"


def test_params_are_validated() -> None:
    with pytest.raises(pydantic.ValidationError):
        basis(qty=None)  # neither qty nor notional
    with pytest.raises(pydantic.ValidationError):
        basis(notional="100")  # both
    with pytest.raises(pydantic.ValidationError):
        basis(enter_apr="0.05", exit_apr="0.05")
