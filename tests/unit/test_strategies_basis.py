from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pydantic
import pytest

from bot.domain import HedgeTarget
from strategies.basis import BasisTrade
from tests.unit.test_strategy_support import BTC_PERP, make_snapshot, make_strategy

# default fees: 2 x (0.001 + 0.00055) x 365 / 30 days = 0.03772 APR; 8 h funding: APR = rate x 1095


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
    btc: float | str = 3,
) -> HedgeTarget | None:
    snap = make_snapshot(
        balances={"BTC": btc},
        prices={"BTC/USDT": spot_price, BTC_PERP: spot_price},
        funding={} if rate is None else {BTC_PERP: rate},
        funding_history={BTC_PERP: history},
    )
    return strategy.target(snap, previous)


def test_enters_and_exits_on_thresholds_with_hysteresis() -> None:
    s = basis()
    waiting = step(s, 0.0001, None)  # net 0.0718 < enter 0.10
    assert waiting is not None and waiting.details["state"] == "exited"
    assert (waiting.size, waiting.spot_size, waiting.spot_symbol) == (0, None, None)
    entered = step(s, 0.0002, waiting)  # net 0.181 > 0.10: buy 0.5 on top of the 3 held
    assert entered is not None and entered.details["state"] == "entered"
    assert (entered.size, entered.spot_size) == (Decimal("-0.5"), Decimal("3.5"))
    assert entered.spot_symbol == "BTC/USDT" and entered.ratio == 1
    assert (entered.details["own"], entered.details["spot"]) == ("0.5", "buying")
    stay = step(s, 0.0001, entered, btc="3.5")  # net 0.0718: below enter, above exit 0.03
    assert stay is not None and stay.details["state"] == "entered" and stay.size == Decimal("-0.5")
    assert stay.spot_size is None and stay.details["spot"] == "held"  # bought: spot left alone
    gone = step(s, 0.00004, stay, btc="3.5")  # net 0.0061 < exit 0.03: sell its own 0.5
    assert gone is not None and gone.details["state"] == "exited"
    assert (gone.size, gone.spot_size) == (0, Decimal(3))
    done = step(s, 0.0001, gone, btc=3)  # sold; the same rate that kept it in does not re-enter
    assert done is not None and done.details["state"] == "exited"
    assert done.spot_size is None and done.details["own"] == "0"


def test_waiting_never_sells_the_users_spot() -> None:
    """The README example: the user holds 2 BTC; the first cycle says "wait" and used to target a
    spot holding of 0, selling the user's 2 BTC."""
    out = step(basis(), 0.0001, None, btc=2)
    assert out is not None and out.reason.startswith("basis wait")
    assert out.spot_size is None and out.spot_symbol is None and out.size == 0


def test_exit_sells_only_what_it_bought() -> None:
    s = basis()
    entered = step(s, 0.0002, None, btc=2)
    assert entered is not None and entered.spot_size == Decimal("2.5")
    held = step(s, 0.0002, entered, btc="2.5")
    more = step(s, 0.0002, held, btc="7.5")  # the user bought 5 more meanwhile: theirs
    assert more is not None and more.spot_size is None
    gone = step(s, 0.00004, more, btc="7.5")
    assert gone is not None and gone.spot_size == Decimal("7.0")


def test_a_sold_holding_shrinks_what_it_may_sell() -> None:
    s = basis()
    entered = step(s, 0.0002, None, btc=0)
    held = step(s, 0.0002, entered, btc="0.5")
    sold = step(s, 0.0002, held, btc="0.2")  # the user sold 0.3 of the basis spot by hand
    assert sold is not None and sold.details["own"] == "0.2" and sold.spot_size is None
    assert sold.size == Decimal("-0.2")  # the short shrinks with it: no naked short
    gone = step(s, 0.00004, sold, btc="0.2")
    assert gone is not None and gone.spot_size == 0
    emptied = step(s, 0.00004, step(s, 0.0002, held, btc=0), btc=0)  # all of it sold by hand
    assert emptied is not None and emptied.spot_size is None and emptied.size == 0


def test_exit_while_the_buy_is_unfilled_sells_nothing() -> None:
    s = basis()
    entered = step(s, 0.0002, None, btc=2)  # asks for 2.5; the buy never filled
    gone = step(s, 0.00004, entered, btc=2)
    assert gone is not None and gone.size == 0 and gone.spot_size is None


def test_fees_amortised_over_horizon_decide_entry() -> None:
    rate = 0.00013  # funding APR 0.14235
    short = step(basis(horizon_days="30"), rate, None)  # net 0.1046 > 0.10
    shorter = step(basis(horizon_days="10"), rate, None)  # net 0.0292
    assert short is not None and short.details["state"] == "entered"
    assert shorter is not None and shorter.details["state"] == "exited"
    fees = basis(spot_fee_rate="0.001", perp_fee_rate="0.0005", horizon_days="10").fee_apr()
    assert fees == Decimal("0.1095")  # 2 x (0.001 + 0.0005) x 365 / 10


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
    assert entered is not None and entered.spot_size == Decimal("3.25")  # 3 held + 0.25
    later = step(s, 0.0003, entered, spot_price=50000)  # not filled yet: the same holding
    assert later is not None and later.spot_size == Decimal("3.25")
    assert later.size == Decimal("-0.25") and Decimal(later.details["qty"]) == Decimal("0.25")


def test_previous_restored_without_details_keeps_the_trade() -> None:
    # after a restart the engine may only know the last size and ratio, not the details
    restored = HedgeTarget("h1", BTC_PERP, Decimal("-0.25"), "restored", ratio=Decimal(1))
    stay = step(basis(qty=None, notional="10000"), 0.0001, restored, spot_price=80000)
    assert stay is not None and stay.details["state"] == "entered"
    assert (stay.size, stay.spot_size) == (Decimal("-0.25"), None)  # nothing of its own known
    again = step(basis(qty=None, notional="10000"), 0.0001, stay, spot_price=80000)
    assert again is not None and again.size == Decimal("-0.25") and again.spot_size is None
    out_now = step(basis(qty=None, notional="10000"), 0.00001, again, spot_price=80000)
    assert out_now is not None and (out_now.size, out_now.spot_size) == (0, None)  # sells none
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


def test_a_changed_qty_moves_both_legs_and_keeps_the_users_part() -> None:
    held = step(basis(), 0.0002, step(basis(), 0.0002, None, btc=2), btc="2.5")
    assert held is not None and held.details["own"] == "0.5"
    more = step(basis(qty="0.8"), 0.0002, held, btc="2.5")
    assert more is not None and (more.spot_size, more.size) == (Decimal("2.8"), Decimal("-0.8"))
    fewer = step(basis(qty="0.2"), 0.0002, held, btc="2.5")
    assert fewer is not None and (fewer.spot_size, fewer.size) == (Decimal("2.2"), Decimal("-0.2"))
    trimmed = step(basis(qty="0.2"), 0.0002, fewer, btc="2.2")
    assert trimmed is not None and trimmed.details["own"] == "0.2" and trimmed.spot_size is None
    gone = step(basis(qty="0.2"), 0.00004, trimmed, btc="2.2")
    assert gone is not None and gone.spot_size == Decimal(2)


def test_re_entering_while_its_sale_is_in_flight_cancels_the_sale() -> None:
    s = basis()
    held = step(s, 0.0002, step(s, 0.0002, None, btc=2), btc="2.5")
    selling = step(s, 0.00004, held, btc="2.5")
    assert selling is not None and selling.spot_size == Decimal(2)
    back = step(s, 0.0003, selling, btc="2.5")  # not sold yet, and funding pays again
    assert back is not None and back.details["state"] == "entered"
    assert back.spot_size is None or back.spot_size == Decimal("2.5")
    assert back.size == Decimal("-0.5")
