"""Every decision says why: per hedge, the reason no order went out (cycle summary, log line,
`status`); a risk refusal logged at warning once, not every cycle; state changes loud, with a
remedy."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal as D
from pathlib import Path

from bot.domain import IntentPurpose, IntentStatus, TradingState
from bot.logging import configure_logging
from bot.review.queries import status_rows
from bot.why import unresolved
from tests.integration.paper import DEMO, make_paper

BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"


def _logs() -> io.StringIO:
    buf = io.StringIO()
    configure_logging(stream=buf)
    return buf


def _lines(buf: io.StringIO, text: str) -> list[str]:
    return [line for line in buf.getvalue().splitlines() if text in line]


async def test_risk_refusal_is_explained_and_logged_once(tmp_path: Path) -> None:
    paper = await make_paper(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    try:
        await paper.store.set_trading_state(TradingState.HALTED, "operator halt")
        buf = _logs()
        for _ in range(3):
            outcome = await paper.cycle()
        assert outcome.summary["why"] == {
            "btc": "risk guard: trading halted: operator halt",
            "eth": "risk guard: trading halted: operator halt",
        }
        assert len(_lines(buf, "order refused by a risk guard")) == 2  # once per hedge
        assert "why=" in _lines(buf, "cycle done")[-1]
        await paper.store.set_trading_state(TradingState.ACTIVE, "resumed")
        outcome = await paper.cycle()
        assert outcome.summary["orders"] == 2 and outcome.summary["why"] == {}
        assert len(_lines(buf, "risk guard no longer refusing")) == 2
    finally:
        await paper.close()


async def test_cooldown_and_band_are_explained_in_status(tmp_path: Path) -> None:
    config = DEMO.replace("cooldown_seconds = 0", "cooldown_seconds = 600")
    paper = await make_paper(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}", config=config)
    try:
        await paper.cycle()  # both hedged: the cooldown starts
        paper.venue.deposit("BTC", D(1))  # BTC's target moves out of the band a minute later
        outcome = await paper.cycle()
        btc = outcome.summary["why"]["btc"]
        assert btc == "cooldown (540s left)", btc
        assert "eth" not in outcome.summary["why"]  # at its target: nothing to explain
        hedges = {r["hedge"]: r for r in (await status_rows(paper.store))["hedges"]}
        assert hedges["btc"]["why_no_order"] == btc and hedges["eth"]["why_no_order"] == ""

        paper.venue.deposit("ETH", D("0.1"))  # target -30.1 against -30: inside the 2% band
        outcome = await paper.cycle(timedelta(minutes=11))
        eth = outcome.summary["why"]["eth"]
        assert eth.startswith("within rebalance band (-30") and "band 0.02" in eth, eth
    finally:
        await paper.close()


async def test_kill_switch_is_one_loud_line_with_the_remedy(tmp_path: Path) -> None:
    paper = await make_paper(f"sqlite+aiosqlite:///{tmp_path / 'k.db'}")
    try:
        buf = _logs()
        paper.engine.kill_switch = lambda: True
        for _ in range(2):
            await paper.cycle()
        (line,) = _lines(buf, "] trading halted ")
        assert "kill switch engaged" in line and "hedgebot resume" in line
    finally:
        await paper.close()


async def test_halt_comes_before_a_cooldown(tmp_path: Path) -> None:
    """Halted, nothing may go out: the reason is the halt, not the cooldown that also runs."""
    config = DEMO.replace("cooldown_seconds = 0", "cooldown_seconds = 600")
    paper = await make_paper(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}", config=config)
    try:
        await paper.cycle()  # both hedged: the cooldown starts
        paper.venue.deposit("BTC", D(1))
        await paper.store.set_trading_state(TradingState.HALTED, "operator halt")
        outcome = await paper.cycle()
        assert outcome.summary["why"] == {"btc": "risk guard: trading halted: operator halt"}
        hedges = {r["hedge"]: r for r in (await status_rows(paper.store))["hedges"]}
        assert hedges["btc"]["why_no_order"] == "risk guard: trading halted: operator halt"
    finally:
        await paper.close()


async def test_an_open_order_is_named_as_the_unresolved_intent(tmp_path: Path) -> None:
    """An order still open on the venue blocks its symbol: the reason names it and its age, as
    for a pending one; a resting stop-loss blocks nothing and is not named."""
    paper = await make_paper(f"sqlite+aiosqlite:///{tmp_path / 'o.db'}")
    try:
        for _ in range(2):  # the second cycle finds the first one's orders filled
            await paper.cycle()
        store = paper.store
        (hedge,) = await store.intents(symbol=BTC, purpose=IntentPurpose.HEDGE)
        stops = await store.intents(symbol=ETH, purpose=IntentPurpose.STOP)
        assert IntentStatus.OPEN in {s.status for s in stops}
        await store.add_intents([replace(hedge.to_intent(), client_order_id="t-open-1")])
        await store.update_intent("t-open-1", IntentStatus.OPEN, venue_order_id="v1")
        (opened,) = [i for i in await store.intents(symbol=BTC) if i.client_order_id == "t-open-1"]
        blocked = await unresolved(store, {BTC, ETH})
        assert blocked == {
            BTC: f"unresolved intent t-open-1 (open since {opened.created_at:%Y-%m-%d %H:%M:%S} UTC)"
        }
    finally:
        await paper.close()
