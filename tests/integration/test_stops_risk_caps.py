"""Risk caps trim instead of refusing, and a delisted market no longer stops the bot (issue 7.4),
through ccxt's bybit class against the HTTP simulator."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

from bot.domain import IntentPurpose, IntentStatus, OrderIntent, OrderKind, Side
from bot.sim.manual import ManualFeed
from bot.sim.markets import VenueConfig
from bot.sim.venue import Venue
from bot.store import Store
from bot.store.migrate import upgrade
from tests.integration.paper import START, make_paper

BTC, DOGE = "BTC/USDT:USDT", "DOGE/USDT:USDT"


def _venue() -> Venue:
    feed = ManualFeed({"BTC": 60000}, start=START - timedelta(days=1))
    wallet = {"USDT": "100000", "BTC": "2"}
    return Venue(feed, START, VenueConfig.for_bases(["BTC"], wallet=wallet))


def _hedge(name: str, asset: str, ratio: str = "1") -> str:
    return (
        f'[[hedges]]\nname = "{name}"\nspot_asset = "{asset}"\nperp = "{asset}/USDT:USDT"\n'
        f"[hedges.params]\nratio = {ratio}\n"
    )


async def test_a_ratio_above_max_overhedge_hedges_up_to_the_cap_without_a_rejection(tmp_path):
    cfg = "[planner]\ncooldown_seconds = 0\n[risk]\nmax_overhedge = 1.05\n" + _hedge(
        "btc", "BTC", "1.2"
    )
    paper = await make_paper(
        f"sqlite+aiosqlite:///{tmp_path / 'cap.db'}", venue=_venue(), config=cfg, transport="http"
    )
    try:
        for _ in range(4):
            assert (await paper.cycle()).outcome == "ok"
        pos = (await paper.port.fetch_positions())[BTC]
        assert pos.size == D("-2.1")  # 1.05 x the 2 BTC held, not 0 (the whole order refused)
        assert paper.engine.limits.spot_is_collateral  # Bybit: one unified account
        assert await paper.store.rejections() == []
        (note,) = await paper.store.events(kind="risk_note")  # said once, not every cycle
        assert "trimmed to max_overhedge 1.05" in note.message
    finally:
        await paper.close()


async def test_a_market_no_longer_listed_closes_its_intents_instead_of_failing_every_start(
    tmp_path,
):
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'delisted.db'}"
    await upgrade(db_url)
    store = Store.from_url(db_url)
    # written while DOGE was listed: a stop resting on it, and one never resolved
    await store.add_intents(
        [
            OrderIntent(
                "hb-t001-5-DOGEUSDT-s0",
                "stop-loss",
                5,
                DOGE,
                Side.BUY,
                D(1000),
                OrderKind.STOP_MARKET,
                reduce_only=True,
                purpose=IntentPurpose.STOP,
                trigger_price=D("0.2"),
            ),
            OrderIntent("hb-t001-6-DOGEUSDT-h0", "doge", 6, DOGE, Side.SELL, D(1000)),
        ]
    )
    await store.update_intent("hb-t001-5-DOGEUSDT-s0", IntentStatus.OPEN, venue_order_id="v1")
    await store.close()
    cfg = "[planner]\ncooldown_seconds = 0\n" + _hedge("btc", "BTC") + _hedge("doge", "DOGE")
    venue = _venue()
    for _ in range(2):  # every start, not just the first
        paper = await make_paper(db_url, venue=venue, config=cfg, transport="http")
        try:
            assert (await paper.cycle()).outcome == "ok"
            assert (await paper.cycle()).outcome == "ok"
            assert (await paper.port.fetch_positions())[BTC].size == D(-2)  # the others go on
        finally:
            await paper.close()
    store = Store.from_url(db_url)
    try:
        doge = await store.intents(symbol=DOGE)
        assert {i.status for i in doge} == {IntentStatus.CANCELLED}
        assert all("no longer listed as active" in (i.reason or "") for i in doge)
        warnings = [e.message for e in await store.events(kind="market_unlisted")]
        assert any(m.startswith("hedge doge: DOGE/USDT:USDT not listed") for m in warnings)
    finally:
        await store.close()
