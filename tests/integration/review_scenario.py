"""A scripted paper run for the report tests: hourly cycles through price moves with different
spot, perp and mark prices, a ratio change (trades), a fired stop-loss and one funding settlement."""

from __future__ import annotations

from datetime import timedelta

from bot.settings import parse_config
from bot.sim.manual import ManualFeed
from bot.sim.markets import VenueConfig
from bot.sim.venue import Venue
from tests.integration.paper import DEMO, START, Paper, make_paper

HOUR = timedelta(hours=1)
# half hedged, the venue reports no liquidation price: the stop sits at stop_entry_multiple x entry
HALF_BTC = DEMO.replace("[[hedges]]", "[risk]\nstop_entry_multiple = 1.5\n[[hedges]]", 1).replace(
    'perp = "BTC/USDT:USDT"', 'perp = "BTC/USDT:USDT"\n[hedges.params]\nratio = "0.5"'
)


async def scripted_run(db_url: str) -> Paper:
    feed = ManualFeed({"BTC": 60000, "ETH": 3000}, START, funding_rate="0.0003")
    cfg = VenueConfig.for_bases(["BTC", "ETH"], wallet={"USDT": "100000", "BTC": "2", "ETH": "30"})
    venue = Venue(feed, START, cfg)
    paper = await make_paper(db_url, venue=venue)
    await paper.cycle()
    for btc, eth in [(61000, 2950), (59000, 3100), (58000, 3050), (62000, 2900)]:
        at = venue.now + timedelta(minutes=10)
        feed.set(at, "BTC", spot=btc, perp=btc + 15, mark=btc + 5)
        feed.set(at, "ETH", spot=eth, perp=eth - 1, mark=eth + 0.5)
        await paper.cycle(advance=HOUR)
    paper.engine.apply_config(parse_config(HALF_BTC))  # sells half the BTC hedge back
    await paper.cycle(advance=HOUR)
    feed.set(venue.now + timedelta(minutes=10), "BTC", 95000)  # through the stop-loss (1.5 x entry)
    for _ in range(3):  # crosses the 08:00 settlement
        await paper.cycle(advance=HOUR)
    return paper
