"""The saved paper venue round-trips, and a resumed venue never reissues an id."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D
from pathlib import Path

from bot.sim import persist
from bot.sim.model import OrderRequest
from tests.integration.paper import make_venue


def test_round_trip_keeps_the_account_and_moves_ids_ahead(tmp_path: Path) -> None:
    venue = make_venue()
    venue.place_order(
        OrderRequest(
            category="linear", symbol="BTCUSDT", side="Sell", order_type="Market", qty=D(1)
        )
    )
    venue.advance_to(venue.now + timedelta(minutes=5))
    path = tmp_path / "v.pickle"
    persist.save(venue, path)
    back = persist.load(path)
    assert back is not None and back.now == venue.now
    assert back.account.positions["BTCUSDT"].size == D(-1)
    assert back.account.wallet == venue.account.wallet
    used = {e for e in [venue.ids.execution()[0] for _ in range(3)]}
    fresh = {back.ids.execution()[0] for _ in range(3)}
    assert not used & fresh  # ids a crash may have lost after the save are skipped
    assert persist.load(tmp_path / "absent.pickle") is None
