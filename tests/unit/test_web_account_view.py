"""The account figures each cycle stores for the dashboard, the API and the metrics."""

from decimal import Decimal as D

from bot.account_view import account_view, liquidation_distance
from bot.domain import HedgeSpec
from tests.factories import snapshot

HEDGES = [HedgeSpec("btc", "BTC", "BTC/USDT:USDT"), HedgeSpec("eth", "ETH", "ETH/USDT:USDT")]


def test_liquidation_distance_is_signed_by_the_side():
    assert liquidation_distance(D(-1), D(100), D(150)) == D("0.5")
    assert liquidation_distance(D(1), D(100), D(80)) == D("0.2")
    assert liquidation_distance(D(-1), D(100), None) is None
    assert liquidation_distance(D(0), D(100), D(150)) is None


def test_account_view_values_the_hedged_holdings_and_the_margin():
    snap = snapshot(
        spot={"BTC": "2", "ETH": "30"},
        positions={"BTC/USDT:USDT": "-2", "ETH/USDT:USDT": "-30"},
        liq={"BTC/USDT:USDT": "60000", "ETH/USDT:USDT": "4500"},
    )
    view = account_view(snap, HEDGES, "USDT", D("0.8"))
    assert view["spot_value"] == D(2 * 50000 + 30 * 3000)
    assert view["total_value"] == D(100000) + view["spot_value"]
    # maintenance 0.5% of 190 000 notional over 100 000 + 0.8 x 190 000 equity
    assert view["maintenance_margin"] == D("950.000")
    assert view["margin_equity"] == D("252000.0")
    assert view["margin_ratio"] == D("950.000") / D("252000.0")
    assert view["min_liquidation_distance"] == D("0.2")  # BTC: 60 000 over a 50 000 mark
    assert view["perps"]["ETH/USDT:USDT"]["liquidation_distance"] == D("0.5")
    assert view["spot"]["ETH"] == {"qty": D(30), "price": D(3000)}
    assert view["hedges"]["btc"] == {"spot_asset": "BTC", "perp": "BTC/USDT:USDT"}


def test_account_view_without_positions_has_no_ratio_or_distance():
    view = account_view(snapshot(spot={"BTC": "1"}, usdt="0"), HEDGES, "USDT", D("0.8"))
    assert view["min_liquidation_distance"] is None
    assert view["margin_ratio"] == D(0)
    assert view["perps"] == {}
