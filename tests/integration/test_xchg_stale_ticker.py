"""Issue 7.7: stale market data is caught on the production path (ccxt + HTTP simulator).

Bybit's ticker rows carry no time; the bot stamps them with the answer's server time. A feed that
freezes while the bot's clock moves on is refused, without a single sleep: the bot's clock is
injected (the venue's time plus a skew the test sets)."""

from __future__ import annotations

from datetime import timedelta

from bot.domain import IntentPurpose
from tests.integration.xchg_rig import PERP, hedged, http_bot


async def test_tickers_are_stamped_with_the_venues_time(tmp_path):
    async with http_bot(tmp_path) as rig:
        await rig.advance(timedelta(minutes=3))
        tickers = await rig.app.port.fetch_tickers([PERP, "BTC/USDT"])
        assert {s: t.ts for s, t in tickers.items()} == {
            PERP: rig.venue.now,
            "BTC/USDT": rig.venue.now,
        }


async def test_a_frozen_feed_is_refused_and_trading_resumes_when_it_moves(tmp_path):
    async with http_bot(tmp_path) as rig:
        await hedged(rig)
        hedges_before = len(await rig.app.store.intents(purpose=IntentPurpose.HEDGE))
        await rig.set_wallet("BTC", "1")  # the user sold half the BTC meanwhile
        # the venue stands still (its clock and its ticker) while ours runs on for 5 minutes
        rig.skew = timedelta(minutes=5)
        outcome = await rig.app.engine.run_cycle()
        assert outcome.outcome == "skipped"
        assert "stale price" in outcome.summary["reason"]
        assert len(await rig.app.store.intents(purpose=IntentPurpose.HEDGE)) == hedges_before
        # the feed catches up: the same gap is now acted on
        await rig.advance(rig.skew)
        rig.skew = timedelta(0)
        outcomes = [await rig.cycle() for _ in range(3)]
        assert all(o.outcome == "ok" for o in outcomes), outcomes
        assert len(await rig.app.store.intents(purpose=IntentPurpose.HEDGE)) > hedges_before
