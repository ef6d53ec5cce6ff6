"""The cycle end to end on the paper venue, on SQLite and Postgres, over both ports: the ccxt
adapter against the Bybit HTTP simulator (the production path) and the in-process port; and in
stream mode ("stream": the HTTP path plus the bot's ccxt.pro stream on the simulator's websockets,
where each ``paper.cycle()`` is followed by every cycle the stream starts at once)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest

from bot.domain import IntentPurpose, IntentStatus, TradingState
from tests.integration.faulty import Crash, FaultyPort
from tests.integration.http_rig import TRANSPORTS
from tests.integration.paper import DEMO, make_paper, make_venue

BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"
BAND = D("0.02")


@pytest.fixture(params=[*TRANSPORTS, "stream"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def positions(paper):
    return {s: p.size for s, p in (await paper.port.fetch_positions()).items()}


def within_band(size, target):
    return abs(size - target) <= BAND * abs(target)


async def test_cycles_bring_every_hedge_within_its_band_and_protect_it(db_url, transport):
    paper = await make_paper(db_url, transport=transport)
    try:
        for _ in range(3):
            outcome = await paper.cycle()
            assert outcome.outcome == "ok", outcome.summary
        pos = await positions(paper)
        assert within_band(pos[BTC], D(-2)) and within_band(pos[ETH], D(-30))
        stops = [o for o in await paper.port.fetch_open_orders(None) if o.trigger_price]
        assert sorted((o.symbol, o.qty) for o in stops) == [(BTC, -pos[BTC]), (ETH, -pos[ETH])]
        hedges = await paper.store.intents(purpose=IntentPurpose.HEDGE)
        assert {i.status for i in hedges} == {IntentStatus.FILLED}
        assert len(await paper.store.fills()) >= 2
    finally:
        await paper.close()


async def test_restart_on_the_same_database_resumes_without_resending(db_url, transport):
    venue = make_venue()
    first = await make_paper(db_url, venue=venue, transport=transport)
    for _ in range(2):
        await first.cycle()
    sent_before = len(await first.store.intents())
    pos_before = await positions(first)
    last = (await first.store.cycles(limit=1))[0].number  # 2, or 3 with the stream's follow-up
    await first.close()

    second = await make_paper(db_url, venue=venue, transport=transport)
    try:
        for _ in range(2):
            assert (await second.cycle()).outcome == "ok"
        assert await positions(second) == pos_before
        assert len(await second.store.intents()) == sent_before
        assert (await second.store.cycles(limit=1))[0].number == last + 2  # numbering continues
    finally:
        await second.close()


@pytest.mark.parametrize("fault", ["crash_before_send", "crash_after_accept"])
async def test_crash_at_submit_then_restart_converges_without_a_second_hedge(
    tmp_path, fault, transport
):
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'crash.db'}"
    venue = make_venue()
    first = await make_paper(db_url, venue=venue, transport=transport)
    faulty = FaultyPort(first.port)
    setattr(faulty, fault, 1)
    first.engine.port = faulty
    with pytest.raises(Crash):
        await first.cycle()
    await first.close()

    second = await make_paper(db_url, venue=venue, transport=transport)
    try:
        for _ in range(3):
            await second.cycle()
        pos = await positions(second)
        assert within_band(pos[BTC], D(-2)) and within_band(pos[ETH], D(-30))
        assert pos[BTC] >= D("-2.04") and pos[ETH] >= D("-30.6")  # never a second hedge
        statuses = [i.status for i in await second.store.intents(purpose=IntentPurpose.HEDGE)]
        expected = IntentStatus.LOST if fault == "crash_before_send" else IntentStatus.FILLED
        assert expected in statuses
        assert not any(s.unresolved for s in statuses)
    finally:
        await second.close()


async def test_ambiguous_submit_is_resolved_by_client_id_not_resent(tmp_path, transport):
    paper = await make_paper(f"sqlite+aiosqlite:///{tmp_path / 'amb.db'}", transport=transport)
    faulty = FaultyPort(paper.port)
    faulty.ambiguous_after_accept = 1
    paper.engine.port = faulty
    try:
        outcome = await paper.cycle()
        first_cid = faulty.creates[0].client_order_id  # the venue took it; its answer was lost
        assert outcome.summary["unknown"] == 1
        if paper.stream is None:
            unknown = await paper.store.intents(statuses=[IntentStatus.UNKNOWN])
            assert [i.client_order_id for i in unknown] == [first_cid]
            await paper.cycle()
        else:  # the order's stream update started the next cycle at once: it resolved the intent
            assert paper.stream.follow_ups >= 1
        assert await paper.store.intents(statuses=[IntentStatus.UNKNOWN]) == []
        resolved = [i for i in await paper.store.intents() if i.client_order_id == first_cid]
        assert resolved[0].status == IntentStatus.FILLED
        hedge_creates = [i for i in faulty.creates if i.purpose == IntentPurpose.HEDGE]
        assert len(hedge_creates) == 2  # one per perp, none resent
        pos = await positions(paper)
        assert within_band(pos[BTC], D(-2)) and within_band(pos[ETH], D(-30))
    finally:
        await paper.close()


async def test_rejected_order_is_recorded_with_the_venue_reason(tmp_path, transport):
    # spot coins are the only collateral: at 1x the BTC short uses it all, the ETH one is refused
    venue = make_venue({"USDT": "0", "BTC": "2", "ETH": "30"})
    cfg = DEMO + "\n[risk]\nleverage = 1\n"
    paper = await make_paper(
        f"sqlite+aiosqlite:///{tmp_path / 'rej.db'}", venue=venue, config=cfg, transport=transport
    )
    try:
        await paper.cycle()
        rejected = await paper.store.intents(statuses=[IntentStatus.REJECTED])
        assert rejected, await paper.store.intents()
        assert "110007" in (rejected[0].reason or "")
        events = await paper.store.events(kind="order_rejected")
        assert events and "110007" in events[0].message
    finally:
        await paper.close()


async def test_strategy_failure_skips_only_its_hedge_and_keeps_its_share(tmp_path, transport):
    from bot.domain import HedgeTarget

    cfg = DEMO + (
        '\n[[hedges]]\nname = "broken"\nspot_asset = "ETH"\nperp = "BTC/USDT:USDT"\n'
        'strategy = "cross"\nenabled = true\n'
    )
    paper = await make_paper(
        f"sqlite+aiosqlite:///{tmp_path / 'iso.db'}", config=cfg, transport=transport
    )

    def explode(*_a, **_k):
        raise ZeroDivisionError("boom")

    paper.engine.strategies["broken"].targets = explode  # a strategy with a bug
    try:
        outcome = await paper.cycle()
        assert "ZeroDivisionError" in outcome.summary["failures"]["broken"]
        pos = await positions(paper)
        assert within_band(pos[ETH], D(-30))  # an unrelated hedge goes on
        # the BTC perp is shared with the broken hedge, whose share is unknown: not traded
        assert BTC not in pos
        # once its last target is known, that share stands while it is broken
        paper.engine.previous[("broken", BTC)] = HedgeTarget("broken", BTC, D("-0.1"), "earlier")
        await paper.cycle()
        assert within_band((await positions(paper))[BTC], D("-2.1"))
    finally:
        await paper.close()


async def test_halted_state_survives_restart_and_blocks_orders(tmp_path, transport):
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'halt.db'}"
    venue = make_venue()
    first = await make_paper(db_url, venue=venue, transport=transport)
    await first.store.set_trading_state(TradingState.HALTED, "operator halt")
    await first.close()
    second = await make_paper(db_url, venue=venue, transport=transport)
    try:
        outcome = await second.cycle()
        assert outcome.outcome == "halted"
        assert await positions(second) == {}
        reasons = [r.reason for r in await second.store.rejections()]
        assert reasons and all(r == "trading halted: operator halt" for r in reasons)
    finally:
        await second.close()


async def test_a_manual_trade_is_drift_skipped_for_a_cycle_then_rehedged(tmp_path, transport):
    from bot.sim.model import OrderRequest

    paper = await make_paper(f"sqlite+aiosqlite:///{tmp_path / 'drift.db'}", transport=transport)
    try:
        await paper.cycle()
        await paper.cycle()
        # someone buys back 0.5 BTC of the short by hand, outside the bot
        paper.venue.place_order(
            OrderRequest(
                "linear", "BTCUSDT", "Buy", "Market", D("0.5"), link_id="manual-1", reduce_only=True
            )
        )
        outcome = await paper.cycle()
        assert "not trusted" in outcome.summary["failures"]["btc"]
        drift = await paper.store.events(kind="drift")
        assert drift and "BTC/USDT:USDT moved by 0.5" in drift[0].message
        if paper.stream is None:
            assert (await positions(paper))[BTC] == D("-1.5")  # not re-hedged on untrusted state
            await paper.cycle()
        else:
            # the skipped cycle resized the stop to the 1.5 left; the stream saw that order and
            # started the next cycle at once: a second REST answer, which confirms the move (the
            # rule is "seen twice", not "a polling interval later") and re-hedges
            after = [o for o in paper.stream.outcomes if o.number == outcome.number + 1]
            assert after and "btc" not in after[0].summary["failures"]
            assert D(outcome.summary["positions"][BTC]) == D("-1.5")
            assert outcome.summary["orders"] == 0  # not re-hedged on untrusted state
        assert within_band((await positions(paper))[BTC], D(-2))
    finally:
        await paper.close()


# half hedged, the account is long overall: the venue reports no liquidation price above the mark,
# so the stop sits at stop_entry_multiple x entry (a 40% rally, within max_price_jump)
HALF_HEDGED_HALT = """
[planner]
cooldown_seconds = 0
[risk]
on_stop_fill = "halt"
stop_entry_multiple = 1.4
[[hedges]]
name = "btc"
spot_asset = "BTC"
perp = "BTC/USDT:USDT"
[hedges.params]
ratio = 0.5
"""


def _manual_venue(funding="0.0001"):
    from bot.sim.manual import ManualFeed
    from bot.sim.markets import VenueConfig
    from bot.sim.venue import Venue
    from tests.integration.paper import START

    feed = ManualFeed({"BTC": 60000, "ETH": 3000}, START, funding_rate=funding)
    cfg = VenueConfig.for_bases(["BTC", "ETH"], wallet={"USDT": "100000", "BTC": "2", "ETH": "30"})
    return feed, Venue(feed, START, cfg)


async def test_a_short_receives_positive_funding_and_it_is_recorded(tmp_path, transport):
    from datetime import timedelta

    _feed, venue = _manual_venue(funding="0.0001")
    paper = await make_paper(
        f"sqlite+aiosqlite:///{tmp_path / 'fund.db'}", venue=venue, transport=transport
    )
    try:
        await paper.cycle()
        await paper.cycle(advance=timedelta(hours=8))  # crosses the 08:00 settlement
        payments = await paper.store.funding()
        by_symbol = {p.symbol: p.amount for p in payments}
        # positive rate: longs pay shorts, so our shorts receive rate x notional
        assert by_symbol[BTC] == D("0.0001") * 2 * 60000
        assert by_symbol[ETH] == D("0.0001") * 30 * 3000
        await paper.cycle()
        assert len(await paper.store.funding()) == 2  # idempotent on the venue's ids
    finally:
        await paper.close()


async def test_a_fired_stop_loss_halts_until_resumed(tmp_path, transport):
    from datetime import timedelta

    feed, venue = _manual_venue()
    paper = await make_paper(
        f"sqlite+aiosqlite:///{tmp_path / 'stop.db'}",
        venue=venue,
        transport=transport,
        config=HALF_HEDGED_HALT,
    )
    try:
        await paper.cycle()
        await paper.cycle()
        stops = {o.symbol: o for o in await paper.port.fetch_open_orders(None) if o.trigger_price}
        entry = (await paper.port.fetch_positions())[BTC].entry_price
        assert abs(stops[BTC].trigger_price / (entry * D("1.4")) - 1) < D("0.01")  # no liq price
        trigger = stops[BTC].trigger_price
        feed.set(venue.now + timedelta(seconds=30), "BTC", trigger + 200)  # the price runs through
        outcome = await paper.cycle()
        assert (await positions(paper)).get(BTC, D(0)) == 0
        assert outcome.outcome == "halted"
        state, reason = await paper.store.trading_state()
        assert state == TradingState.HALTED and reason == "stop-loss fired on BTC/USDT:USDT"
        assert await paper.store.events(kind="stop_fired")
        await paper.cycle()
        assert (await positions(paper)).get(BTC, D(0)) == 0  # no re-hedge while halted
        await paper.store.set_trading_state(TradingState.ACTIVE, "operator resume")
        await paper.cycle()
        assert within_band((await positions(paper))[BTC], D(-1))
    finally:
        await paper.close()


async def test_after_a_long_absence_every_funding_payment_is_recorded(tmp_path, transport):
    from datetime import timedelta

    _feed, venue = _manual_venue(funding="0.0001")
    paper = await make_paper(
        f"sqlite+aiosqlite:///{tmp_path / 'gap.db'}", venue=venue, transport=transport
    )
    try:
        await paper.cycle()
        await paper.cycle(advance=timedelta(hours=8))  # one settlement: the cursor is set
        assert len(await paper.store.funding()) == 2
        await paper.cycle(advance=timedelta(days=9))  # away for 27 settlements, more than the
        for _ in range(3):  # venue answers at once (7 days): caught up over the next reads
            await paper.cycle(advance=timedelta(hours=2))
        payments = await paper.store.funding()
        assert len(payments) == 2 * 28
        assert all(p.amount > 0 for p in payments)
    finally:
        await paper.close()


async def test_cross_hedge_under_the_correlation_floor_holds_and_records_an_event(
    tmp_path, transport
):
    from bot.domain import HedgeTarget
    from tests.integration.paper import make_venue

    venue = make_venue(correlation=0.0)  # ETH and BTC returns independent
    cfg = (
        '[[hedges]]\nname = "eth-x"\nspot_asset = "ETH"\nperp = "BTC/USDT:USDT"\n'
        'strategy = "cross"\n[hedges.params]\nwindow = 48\nmin_correlation = 0.6\n'
    )
    paper = await make_paper(
        f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", venue=venue, config=cfg, transport=transport
    )
    try:
        earlier = HedgeTarget("eth-x", BTC, D("-1.2"), "earlier", ratio=D("0.8"))
        paper.engine.previous[("eth-x", BTC)] = earlier
        await paper.cycle()
        # the ratio is held and re-sized with the holding (30 ETH), not the size
        now = paper.engine.previous[("eth-x", BTC)]
        assert now.ratio == D("0.8") and now.details["held"] == "low_correlation"
        tickers = await paper.port.fetch_tickers(["ETH/USDT", BTC])
        expected = D("-0.8") * 30 * tickers["ETH/USDT"].price / tickers[BTC].price
        assert abs(now.size - expected) < D("1e-6")
        held = await paper.store.events(kind="target_held")
        assert held and "held previous ratio 0.8: corr=" in held[0].message
    finally:
        await paper.close()


async def test_a_failed_read_skips_the_cycle_and_a_fatal_one_halts(tmp_path, transport):
    from bot.errors import FatalExchangeError, TransientError

    paper = await make_paper(f"sqlite+aiosqlite:///{tmp_path / 'reads.db'}", transport=transport)
    faulty = FaultyPort(paper.port)
    paper.engine.port = faulty
    try:
        faulty.read_errors["fetch_positions"] = [TransientError("503", operation="fetch_positions")]
        outcome = await paper.cycle()
        assert outcome.outcome == "skipped" and "503" in outcome.summary["reason"]
        assert (await paper.cycle()).outcome == "ok"
        faulty.read_errors["fetch_balances"] = [FatalExchangeError("10003 API key is invalid.")]
        with pytest.raises(FatalExchangeError):
            await paper.cycle()
        state, reason = await paper.store.trading_state()
        assert state == TradingState.HALTED and "API key is invalid" in reason
    finally:
        await paper.close()


async def test_a_refused_stop_replacement_keeps_the_old_stop(tmp_path, transport):
    from bot.sim.model import OrderRequest

    paper = await make_paper(f"sqlite+aiosqlite:///{tmp_path / 'keep.db'}", transport=transport)
    faulty = FaultyPort(paper.port)
    paper.engine.port = faulty
    try:
        await paper.cycle()
        await paper.cycle()
        # the short grows by hand, so the stop must be resized; the venue refuses the new one
        paper.venue.place_order(
            OrderRequest("linear", "BTCUSDT", "Sell", "Market", D("0.5"), link_id="manual-2")
        )
        faulty.reject_stops = 1
        await paper.cycle()
        stops = [
            o for o in await faulty.fetch_open_orders(None) if o.trigger_price and o.symbol == BTC
        ]
        assert len(stops) == 1 and stops[0].qty == D("2")  # the old one still rests
        rejected = await paper.store.intents(statuses=[IntentStatus.REJECTED])
        assert rejected and rejected[0].reason == "110017 forced rejection"
    finally:
        await paper.close()


async def test_a_price_jump_skips_only_that_symbol_until_confirmed(tmp_path, transport):
    from datetime import timedelta

    feed, venue = _manual_venue()
    paper = await make_paper(
        f"sqlite+aiosqlite:///{tmp_path / 'jump.db'}", venue=venue, transport=transport
    )
    try:
        await paper.cycle()
        await paper.cycle()
        feed.set(venue.now + timedelta(seconds=30), "ETH", 1400)  # -53% in a minute
        venue.deposit("BTC", D(1))  # and the BTC holding grows: that hedge must still follow
        outcome = await paper.cycle()
        assert "not trusted" in outcome.summary["failures"]["eth"]
        assert within_band((await positions(paper))[BTC], D(-3))
        assert await paper.store.events(kind="data_untrusted")
        outcome = await paper.cycle()  # the new ETH price is confirmed: decisions resume
        assert "eth" not in outcome.summary["failures"]
    finally:
        await paper.close()


async def test_a_stop_fill_halts_once_not_again_after_resume(tmp_path, transport):
    from datetime import timedelta

    feed, venue = _manual_venue()
    paper = await make_paper(
        f"sqlite+aiosqlite:///{tmp_path / 'once.db'}",
        venue=venue,
        transport=transport,
        config=HALF_HEDGED_HALT,
    )
    try:
        await paper.cycle()
        await paper.cycle()
        feed.set(venue.now + timedelta(seconds=30), "BTC", 84500)  # through 1.4 x entry
        assert (await paper.cycle()).outcome == "halted"
        await paper.store.set_trading_state(TradingState.ACTIVE, "operator resume")
        for _ in range(3):
            assert (await paper.cycle()).outcome == "ok"
        assert len(await paper.store.events(kind="stop_fired")) == 1
    finally:
        await paper.close()


async def test_basis_sends_both_legs_with_distinct_ids(tmp_path, transport):
    _feed, venue = _manual_venue(funding="0.001")  # about 110% a year: worth carrying
    venue.deposit("USDT", D(100000))
    cfg = (
        '[planner]\ncooldown_seconds = 0\n[[hedges]]\nname = "carry"\nspot_asset = "ETH"\n'
        'perp = "ETH/USDT:USDT"\nstrategy = "basis"\n[hedges.params]\nqty = "40"\n'
    )
    paper = await make_paper(
        f"sqlite+aiosqlite:///{tmp_path / 'basis.db'}", venue=venue, config=cfg, transport=transport
    )
    try:
        await paper.cycle()
        ids = [i.client_order_id for i in await paper.store.intents(purpose=IntentPurpose.HEDGE)]
        assert len(ids) == 2 and len(set(ids)) == 2
        await paper.cycle()
        assert (await positions(paper))[ETH] == D(-40)
        # 40 bought on top of the 30 ETH the wallet held: basis never trades the user's spot;
        # the 0.1% buy fee is paid in ETH, as on Bybit, so 39.96 arrive
        assert (await paper.port.fetch_balances())["ETH"].total == D("69.96")
    finally:
        await paper.close()


async def test_margin_driven_reducing_lifts_by_itself(tmp_path, transport):
    paper = await make_paper(f"sqlite+aiosqlite:///{tmp_path / 'red.db'}", transport=transport)
    try:
        await paper.cycle()
        await paper.cycle()
        paper.engine.limits = replace(paper.engine.limits, max_margin_ratio=D("0.0001"))
        paper.venue.deposit("BTC", D(1))
        await paper.cycle()
        assert within_band((await positions(paper))[BTC], D(-2))  # reducing: no increase
        assert (await paper.store.trading_state())[0] == TradingState.ACTIVE  # not persisted
        assert await paper.store.events(kind="trading_state")
        paper.engine.limits = replace(paper.engine.limits, max_margin_ratio=D("0.5"))
        await paper.cycle()
        assert within_band((await positions(paper))[BTC], D(-3))  # lifted without an operator
    finally:
        await paper.close()
