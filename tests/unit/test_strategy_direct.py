from decimal import Decimal as D

import pytest
from pydantic import ValidationError

from bot.domain import HedgeSpec, frozen_map
from strategies.direct import DirectHedge
from tests.factories import snapshot

BTC = "BTC/USDT:USDT"


def _direct(**params):
    return DirectHedge.from_spec(HedgeSpec("btc", "BTC", BTC, "direct", frozen_map(params)))


def test_default_ratio_shorts_the_whole_holding():
    target = _direct().target(snapshot(spot={"BTC": "2.5"}), None)
    assert target is not None
    assert target.size == D("-2.5") and target.ratio == D(1)
    assert "ratio=1" in target.reason


def test_ratio_scales_the_short():
    target = _direct(ratio="0.6").target(snapshot(spot={"BTC": "2"}), None)
    assert target is not None and target.size == D("-1.2")


def test_no_holding_means_no_short():
    target = _direct().target(snapshot(), None)
    assert target is not None and target.size == 0


@pytest.mark.parametrize("bad", [{"ratio": "-0.1"}, {"ratio": "1.6"}, {"ratios": 1}])
def test_params_are_bounded_and_unknown_keys_refused(bad):
    with pytest.raises(ValidationError):
        _direct(**bad)


def test_a_negative_balance_never_targets_a_long():
    """A borrowed (negative) spot balance is no holding to hedge: the target is 0, never long."""
    target = _direct().target(snapshot(spot={"BTC": "-0.7"}), None)
    assert target is not None and target.size == 0
