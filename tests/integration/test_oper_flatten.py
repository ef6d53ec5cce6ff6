"""`hedgebot flatten`: the daemon closes the hedge's short with reduce-only orders, cancels its
stop and keeps it flat across restarts until `resume --hedge`; other hedges are untouched."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot import flatten
from bot.cli import main
from bot.domain import IntentPurpose, IntentStatus
from bot.engine import Engine
from tests.integration.paper import make_paper, perp_size

BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"


async def _stops(paper, symbol: str) -> list:
    orders = await paper.port.fetch_open_orders(symbol)
    return [o for o in orders if o.trigger_price is not None]


@pytest.mark.parametrize("transport", ["http"])
async def test_flatten_closes_one_hedge_and_keeps_it_flat(tmp_path: Path, transport: str) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'f.db'}"
    paper = await make_paper(url, transport=transport)
    try:
        for _ in range(2):
            await paper.cycle()
        positions = await paper.port.fetch_positions()
        assert perp_size(positions, BTC) == D(-2) and perp_size(positions, ETH) == D(-30)
        assert await _stops(paper, BTC)

        await flatten.flatten(paper.store, ["btc"], "test")
        for _ in range(2):
            await paper.cycle()
        positions = await paper.port.fetch_positions()
        assert perp_size(positions, BTC) == 0 and perp_size(positions, ETH) == D(-30)
        assert await _stops(paper, BTC) == [] and await _stops(paper, ETH)
        orders = await paper.store.intents(symbol=BTC, purpose=IntentPurpose.HEDGE)
        closes = [i for i in orders if i.cycle > 2]
        assert len(closes) == 1 and closes[0].reduce_only and closes[0].qty == D(2)
        assert closes[0].status == IntentStatus.FILLED

        # a restart (a new engine on the same database) keeps it flat
        paper.engine = Engine(
            port=paper.port, store=paper.store, config=paper.engine.config,
            clock=lambda: paper.venue.now, tag="t001",
        )  # fmt: skip
        await paper.engine.start()
        await paper.cycle()
        assert perp_size(await paper.port.fetch_positions(), BTC) == 0

        await flatten.unflatten(paper.store, ["btc"])
        await paper.cycle()
        assert perp_size(await paper.port.fetch_positions(), BTC) == D(-2)
    finally:
        await paper.close()


def test_flatten_command_records_the_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"
    monkeypatch.setenv("HEDGEBOT_DATABASE_URL", url)
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    refused = runner.invoke(main, ["flatten", "--hedge", "btc"], input="n\n")
    assert refused.exit_code == 1  # not confirmed: nothing recorded
    bad = runner.invoke(main, ["flatten", "--hedge", "doge", "--yes"])
    assert bad.exit_code == 2 and "no hedge named doge" in bad.output
    ok = runner.invoke(main, ["flatten", "--hedge", "btc", "--yes"])
    assert ok.exit_code == 0, ok.output
    assert "flattened: btc" in ok.output and "no daemon runs" in ok.output
    resumed = runner.invoke(main, ["resume"])
    assert "still flattened: btc" in resumed.output
    again = runner.invoke(main, ["resume", "--hedge", "btc"])
    assert again.exit_code == 0 and "hedging again: btc" in again.output
    events = runner.invoke(main, ["events", "--format", "csv"]).output
    assert "flattened" in events and "unflattened" in events
