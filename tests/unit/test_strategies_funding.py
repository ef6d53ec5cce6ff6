from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pydantic
import pytest

from bot.domain import HedgeTarget
from strategies.funding import FundingAwareHedge
from tests.unit.test_strategy_support import BTC_PERP, make_snapshot, make_strategy


def funding(**params: object) -> FundingAwareHedge:
    s = make_strategy("funding", params)
    assert isinstance(s, FundingAwareHedge)
    return s


def decide(
    predicted: float | None,
    history: Sequence[float],
    *,
    btc: float = 2,
    previous: HedgeTarget | None = None,
    interval_hours: int = 8,
    **params: object,
) -> HedgeTarget:
    snap = make_snapshot(
        balances={"BTC": btc},
        funding={} if predicted is None else {BTC_PERP: predicted},
        funding_history={BTC_PERP: history},
        interval_hours=interval_hours,
    )
    t = funding(**params).target(snap, previous)
    assert t is not None
    return t


def test_declares_funding_history_lookback() -> None:
    assert funding().funding_history_needed() == 9
    assert funding(lookback=21).funding_history_needed() == 21
    assert funding(lookback=2, exit_after=5).funding_history_needed() == 5
    assert funding().history_needs() == ()


def test_positive_funding_keeps_base_ratio() -> None:
    t = decide(0.0001, [0.0001] * 9)
    assert t.ratio == Decimal(1) and t.size == Decimal(-2) and t.details["state"] == "normal"


def test_persistent_negative_funding_scales_down_then_restores() -> None:
    mild = decide(-0.00055, [-0.00055] * 9)  # halfway between 0.0001 and 0.001
    assert mild.ratio == Decimal("0.75") and mild.size == Decimal("-1.5")
    assert mild.details["state"] == "adverse" and "short pays" in mild.reason
    severe = decide(-0.003, [-0.002] * 9, previous=mild)
    assert severe.ratio == Decimal("0.5") and severe.size == Decimal(-1)  # floor: min_ratio
    restored = decide(0.0001, [-0.002] * 6 + [0.0001] * 3, previous=severe)
    assert restored.ratio == Decimal(1) and restored.details["state"] == "normal"


def test_a_single_sign_flip_never_ends_the_cut() -> None:
    """It used to restore the full hedge as soon as the predicted rate turned positive once."""
    cut = decide(-0.003, [-0.002] * 9)
    assert cut.ratio == Decimal("0.5") and cut.details["state"] == "adverse"
    flip = decide(0.0005, [-0.002] * 8 + [0.0005], previous=cut)  # one good settlement
    assert flip.details["state"] == "adverse" and flip.ratio == Decimal("0.5")
    two = decide(0.0005, [-0.002] * 7 + [0.0005] * 2, previous=flip)
    assert two.details["state"] == "adverse"
    three = decide(0.0005, [-0.002] * 6 + [0.0005] * 3, previous=two)  # exit_after = 3
    assert three.details["state"] == "normal" and three.ratio == Decimal(1)


def test_a_bad_predicted_rate_keeps_the_cut_even_after_good_settlements() -> None:
    cut = decide(-0.003, [-0.002] * 9)
    still = decide(-0.0005, [-0.002] * 6 + [0.0005] * 3, previous=cut)
    assert still.details["state"] == "adverse" and still.ratio < Decimal(1)


def test_missing_data_keeps_a_cut_and_leaves_a_normal_hedge_whole() -> None:
    cut = decide(-0.003, [-0.002] * 9)
    assert decide(None, [-0.002] * 9, previous=cut).ratio == Decimal("0.5")
    assert decide(-0.003, [], previous=cut).details["state"] == "adverse"


def test_one_negative_print_is_not_persistent() -> None:
    t = decide(-0.002, [0.0001] * 9)  # the next rate is bad, the recent average is not
    assert t.ratio == Decimal(1)
    t = decide(0.0001, [-0.002] * 9)  # the past was bad, the next rate is not
    assert t.ratio == Decimal(1)


def test_milder_of_predicted_and_average_sets_the_cut() -> None:
    t = decide(-0.01, [-0.00055] * 9)
    assert t.ratio == Decimal("0.75")


def test_only_the_lookback_window_is_averaged() -> None:
    t = decide(-0.00055, [0.01] * 20 + [-0.00055] * 3, lookback=3)
    assert t.ratio == Decimal("0.75")


def test_rates_of_other_intervals_are_rescaled_to_eight_hours() -> None:
    # -0.000275 per 4 h == -0.00055 per 8 h
    t = decide(-0.000275, [-0.000275] * 9, interval_hours=4)
    assert t.ratio == Decimal("0.75")


def test_never_below_min_ratio_and_bounds_respected() -> None:
    t = decide(-0.05, [-0.05] * 9, base_ratio="0.9", min_ratio="0.3")
    assert t.ratio == Decimal("0.3")
    lo, hi = funding(base_ratio="0.9", min_ratio="0.3").ratio_bounds()
    assert (lo, hi) == (Decimal("0.3"), Decimal("0.9"))


def test_without_data_it_is_a_plain_direct_hedge() -> None:
    assert decide(None, [-0.01] * 9).ratio == Decimal(1)
    no_history = decide(-0.01, [])
    assert no_history.ratio == Decimal(1) and "persistence" in no_history.reason


def test_zero_balance_gives_zero_size() -> None:
    assert decide(-0.002, [-0.002] * 9, btc=0).size == 0


def test_params_are_validated() -> None:
    with pytest.raises(pydantic.ValidationError):
        funding(min_ratio="1.2", base_ratio="1")
    with pytest.raises(pydantic.ValidationError):
        funding(adverse_rate="0.01", full_cut_rate="0.001")
    with pytest.raises(pydantic.ValidationError):
        funding(exit_after=1)  # one settlement is a single sign flip
