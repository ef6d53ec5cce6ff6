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


async def test_flatten_while_halted_closes_only_that_short(tmp_path: Path) -> None:
    """`hedgebot halt`, then `hedgebot flatten --hedge btc`: btc's short closes and its stop goes;
    eth's hedge stays as it is, and trading stays halted."""
    from bot import control
    from bot.domain import TradingState

    paper = await make_paper(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}")
    try:
        for _ in range(2):
            await paper.cycle()
        await control.halt(paper.store, "panic")
        paper.venue.deposit("ETH", D(5))  # eth off target: halted, no order for it
        await flatten.flatten(paper.store, ["btc"], "test")
        for _ in range(2):
            outcome = await paper.cycle()
        positions = await paper.port.fetch_positions()
        assert perp_size(positions, BTC) == 0 and perp_size(positions, ETH) == D(-30)
        assert await _stops(paper, BTC) == [] and await _stops(paper, ETH)
        assert outcome.summary["why"] == {"eth": "risk guard: trading halted: panic"}
        assert (await paper.store.trading_state())[0] == TradingState.HALTED
    finally:
        await paper.close()


CONFIG = """
[[hedges]]
name = "btc"
spot_asset = "BTC"
perp = "BTC/USDT:USDT"
strategy = "direct"
[hedges.params]
ratio = 1.0
"""


def test_flatten_command_records_the_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"
    monkeypatch.setenv("HEDGEBOT_DATABASE_URL", url)
    monkeypatch.delenv("HEDGEBOT_CONFIG", raising=False)
    (tmp_path / "mine.toml").write_text(CONFIG)
    mine = ["--config", str(tmp_path / "mine.toml")]
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    # the database has seen no hedge yet and no --config names the daemon's: refused, one line
    unseen = runner.invoke(main, ["flatten", "--yes"])
    assert unseen.exit_code == 2 and len(unseen.output.splitlines()) == 1, unseen.output
    assert "no hedge to flatten" in unseen.output and "--config" in unseen.output
    refused = runner.invoke(main, ["flatten", *mine, "--hedge", "btc"], input="n\n")
    assert refused.exit_code == 1  # not confirmed: nothing recorded
    bad = runner.invoke(main, ["flatten", *mine, "--hedge", "eth", "--yes"])
    assert bad.exit_code == 2 and "no hedge named eth" in bad.output  # the demo's, not mine
    ok = runner.invoke(main, ["flatten", *mine, "--hedge", "btc", "--yes"])
    assert ok.exit_code == 0, ok.output
    assert "flattened: btc" in ok.output and "no daemon runs" in ok.output
    resumed = runner.invoke(main, ["resume"])
    assert "still flattened: btc" in resumed.output
    typo = runner.invoke(main, ["resume", "--hedge", "btx"])
    assert typo.exit_code == 2 and len(typo.output.splitlines()) == 1, typo.output
    assert "no hedge named btx" in typo.output and "hedging again" not in typo.output
    again = runner.invoke(main, ["resume", "--hedge", "btc"])
    assert again.exit_code == 0 and "hedging again: btc" in again.output
    events = runner.invoke(main, ["events", "--format", "csv"]).output
    assert "flattened" in events and "unflattened" in events
