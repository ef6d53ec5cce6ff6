"""Issue 7.5: client order ids never repeat, also after a database restore; an order found under
a reused id stands in for an intent only when it is that order (ccxt + HTTP simulator)."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from decimal import Decimal as D

import pytest

from bot.app import build_app
from bot.domain import (
    IntentPurpose,
    IntentStatus,
    MarketInfo,
    MarketKind,
    OrderIntent,
    OrderKind,
    Side,
)
from bot.errors import OrderRejected
from bot.execution import send_intents
from bot.planner import MAX_CLIENT_ID, client_order_id, start_tag
from bot.settings import RuntimeSettings, parse_config
from tests.integration.xchg_rig import BTC_CONFIG, Rig, hedged, http_bot


def _copy(src: str, dst: str) -> None:
    """An online backup (or restore) of a SQLite database file."""
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    a.close()
    b.close()


def _path(rig: Rig) -> str:
    return rig.db_url.removeprefix("sqlite+aiosqlite:///")


async def _one_stop_rests(rig: Rig) -> None:
    size = -rig.venue.account.positions["BTCUSDT"].size
    stops = rig.resting_stops()
    assert [o.qty for o in stops] == [size], (size, stops)


def test_ids_fit_bybits_limit_and_differ_per_start():
    market = MarketInfo(
        "X", "1000PEPEUSDT", "PEPE", "USDT", MarketKind.PERP, D(1), D(1), D(1), D(1)
    )
    for purpose in IntentPurpose:
        cid = client_order_id(start_tag(), 9_999_999, market, purpose, 12)
        assert len(cid) <= MAX_CLIENT_ID and cid.startswith("hb-")
    assert client_order_id(start_tag(), 12, market, IntentPurpose.HEDGE, 0).endswith(
        "-1000PEPEUSDT-h0"
    )
    tags = {start_tag(1_800_000_000) for _ in range(20)}
    assert len(tags) > 1 and all(len(t) == 9 and t.isalnum() for t in tags)
    assert start_tag(1_800_000_000) < start_tag(1_800_000_001)  # the second leads


async def _replace_stop_by_hand(rig: Rig) -> None:
    """Someone cancels the resting stop on the venue: the bot re-places it in its next cycle,
    a stop placement on a cycle without a hedge order."""
    for o in rig.resting_stops():
        rig.venue.cancel_order("linear", o.symbol, order_id=o.order_id)


async def _run(rig: Rig, holdings: list[str]) -> None:
    for amount in holdings:
        await rig.set_wallet("BTC", amount)  # the stop moves with the hedge's size
        for _ in range(2):
            await rig.cycle()
            await _one_stop_rests(rig)
        await _replace_stop_by_hand(rig)
        await rig.cycle()
        await _one_stop_rests(rig)


async def test_a_stop_rests_on_every_cycle_after_the_database_is_restored(tmp_path):
    async with http_bot(tmp_path) as rig:
        await hedged(rig)
        backup = str(tmp_path / "backup.db")
        _copy(_path(rig), backup)
        at_backup = {i.client_order_id for i in await rig.stop_intents()}
        await _run(rig, ["1.5", "1.2", "0.9"])
        moved = {i.client_order_id for i in await rig.stop_intents()}
        # a resize amends the stop in place (same id); each re-placement after the hand cancel
        # is a new order with a new id
        assert len(moved - at_backup) >= 3
        await rig.app.close()
        _copy(backup, _path(rig))  # the operator restores the backup: cycle numbers come again
        rig.app = await build_app(
            RuntimeSettings(mode="paper", venue_url=rig.sim.url, database_url=rig.db_url),
            parse_config(BTC_CONFIG),
            clock=rig.bot_clock,
        )
        await _run(rig, ["1.2", "1.5", "1.8"])
        again = {i.client_order_id for i in await rig.stop_intents()} - at_backup
        assert again and again.isdisjoint(moved)  # no id the account has seen is sent again
        assert rig.venue.account.positions["BTCUSDT"].size == D("-1.8")


async def test_an_order_found_under_our_id_counts_only_if_it_is_ours(tmp_path):
    """A lookup by id that finds another order (an id reused) refuses the create; a cancelled
    order found under the id is recorded cancelled, never taken for a resting stop."""
    async with http_bot(tmp_path) as rig:
        await rig.advance(timedelta(minutes=1))
        port = rig.app.port

        stop = OrderIntent(
            "hb-reused-1", "stop-loss", 1, "BTC/USDT:USDT", Side.BUY, D("0.5"),
            kind=OrderKind.STOP_MARKET, reduce_only=True, purpose=IntentPurpose.STOP,
            trigger_price=D(70000),
        )  # fmt: skip
        sell = OrderIntent("hb-reused-0", "btc", 1, "BTC/USDT:USDT", Side.SELL, D("0.5"))
        await port.create_order(sell)
        await port.create_order(stop)
        assert await port.cancel_order("BTC/USDT:USDT", "hb-reused-1")
        again = await port.create_order(stop)
        assert again.status == IntentStatus.CANCELLED
        with pytest.raises(OrderRejected, match="another order"):
            await port.create_order(
                OrderIntent("hb-reused-0", "btc", 2, "BTC/USDT:USDT", Side.BUY, D("0.2"))
            )


async def test_a_matching_order_older_than_the_intent_is_not_taken_for_it(tmp_path):
    """Same side, quantity and kind, but created an hour before the intent was written: another
    order under a reused id, refused rather than taken for the new one."""
    async with http_bot(tmp_path) as rig:
        await rig.advance(timedelta(minutes=1))
        old = OrderIntent("hb-reused-h0", "btc", 1, "BTC/USDT:USDT", Side.SELL, D("0.5"))
        await rig.app.store.add_intents([old])
        sent = await send_intents(rig.app.port, rig.app.store, [old], 1, rig.venue.now)
        assert sent.sent == ["hb-reused-h0"]
        await rig.advance(timedelta(hours=1))
        again = OrderIntent("hb-reused-h0", "btc", 9, "BTC/USDT:USDT", Side.SELL, D("0.5"))
        result = await send_intents(rig.app.port, rig.app.store, [again], 9, rig.venue.now)
        assert not result.sent and "older order" in result.rejected[0].reason
        assert rig.venue.account.positions["BTCUSDT"].size == D("-0.5")  # one order, not two
