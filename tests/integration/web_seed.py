"""A database with real cycles for the web tests: the paper rig (real venue model, engine and
store) hedges 2 BTC + 30 ETH over a simulated day, so targets, orders, fills, stops, funding and
the cycles' account figures are all there."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.paper import make_paper


async def seed(db_url: str, cycles: int = 8, step: timedelta = timedelta(hours=2)) -> None:
    paper = await make_paper(db_url)
    try:
        for _ in range(cycles):
            await paper.cycle(step)
    finally:
        await paper.close()
