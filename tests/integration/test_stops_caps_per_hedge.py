"""The over-hedge cap trims the hedge that is over, not the ones at 1:1 (rev7 review, defect 4;
ccxt + the HTTP simulator)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

from bot.sim.manual import ManualFeed
from bot.sim.markets import VenueConfig
from bot.sim.venue import Venue
from tests.integration.paper import START, make_paper
from tests.integration.test_stops_risk_caps import _hedge

ETH = "ETH/USDT:USDT"


async def test_one_hedge_above_max_overhedge_leaves_a_1_to_1_hedge_whole(tmp_path):
    """The cap was judged on the account's total and every short target scaled by the same
    factor, so a BTC hedge at ratio 1.2 beside an ETH hedge at 1.0 trimmed ETH too: 40 ETH held,
    about 38.2 shorted, ~1.8 ETH (4.5%) left unhedged, while BTC stayed over-hedged at ~1.145.
    Now each hedge is capped at max_overhedge x its own spot: BTC at 1.05, ETH whole."""
    feed = ManualFeed({"BTC": 60000, "ETH": 3000}, start=START - timedelta(days=1))
    wallet = {"USDT": "100000", "BTC": "2", "ETH": "40"}
    venue = Venue(feed, START, VenueConfig.for_bases(["BTC", "ETH"], wallet=wallet))
    cfg = (
        "[planner]\ncooldown_seconds = 0\n[risk]\nmax_overhedge = 1.05\n"
        + _hedge("btc", "BTC", "1.2")
        + _hedge("eth", "ETH", "1")
    )
    paper = await make_paper(
        f"sqlite+aiosqlite:///{tmp_path / 'cap2.db'}", venue=venue, config=cfg, transport="http"
    )
    try:
        for _ in range(4):
            assert (await paper.cycle()).outcome == "ok"
        positions = await paper.port.fetch_positions()
        eth = positions[ETH]
        assert eth.size == D(-40), f"ETH at ratio 1 hedged {-eth.size} of 40"
        assert positions["BTC/USDT:USDT"].size == D("-2.1")  # 1.05 x 2 BTC
    finally:
        await paper.close()
