"""Stream mode end to end: the daemon loop, the ccxt.pro stream and the simulator's websockets.
A wallet change starts a cycle at once (the polling interval is an hour here); every stream fault
ends in the state polling reaches, with no order doubled or lost."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import ccxt
import pytest

from bot.exchange.ccxt_stream import CcxtTriggerStream
from bot.sim.control_client import SimControl
from tests.integration.paper import make_paper, make_venue
from tests.integration.stream_rig import (
    perp_orders,
    perp_size,
    pro_client,
    stream_bot,
    until,
)

PERP, SPOT = "BTC/USDT:USDT", "BTC/USDT"

NEW_BTC = "2.2"  # +10%: under the holding-jump confirmation threshold (cycle_memory.py)


async def poll_reference(db_url: str) -> tuple[Decimal, int]:
    """What polling reaches: a cycle, the wallet change, a cycle."""
    paper = await make_paper(db_url.replace(".db", "-ref.db"), venue=make_venue())
    try:
        await paper.engine.run_cycle()
        paper.venue.set_wallet("BTC", Decimal(NEW_BTC))
        await paper.engine.run_cycle()
        return perp_size(paper.venue), len(perp_orders(paper.venue))
    finally:
        await paper.close()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'stream.db'}"


@pytest.mark.parametrize(
    "ws_faults", [None, "private:drop:1", "private:silent:1", "private:delay=400:1"]
)
async def test_a_wallet_change_is_hedged_at_once_whatever_the_stream_does(
    sqlite_url: str, ws_faults: str | None
) -> None:
    target, orders = await poll_reference(sqlite_url)
    assert target == Decimal("-2.2") and orders == 3  # two hedge orders, a stop amended in place
    paper = await make_paper(sqlite_url, venue=make_venue(), transport="http")
    assert paper.sim is not None and paper.sim.ws is not None
    paper.sim.ws.faults.load(ws_faults)
    try:
        async with stream_bot(paper, ping_seconds=0.2) as bot, SimControl(bot.sim.url) as ctl:
            ws = bot.sim.ws
            assert ws is not None
            await until(lambda: perp_size(paper.venue) == Decimal(-2))
            await bot.ready()
            await ctl.wallet("BTC", NEW_BTC)
            await until(lambda: perp_size(paper.venue) == target, 20)
            assert bot.task.done() is False  # the hour-long poll never ran: the stream did it
            assert bot.trigger.reasons["balance"] + bot.trigger.reasons["lost"] >= 1
            if ws_faults is not None:
                assert ws.faults.fired == [(ws_faults.split(":")[1].split("=")[0], "private")]
            if ws_faults in ("private:drop:1", "private:silent:1"):
                await until(lambda: bot.trigger.reasons["reconnect"] >= 1)
                assert ws.opened >= 2
        links = perp_orders(paper.venue)
        assert perp_size(paper.venue) == target and len(links) == orders
        assert len(set(links)) == len(links)
    finally:
        await paper.close()


async def _ticker_watcher(ex: Any, symbol: str, seen: list[object]) -> None:
    """Another consumer of the simulator's public tickers (the bot watches none): records each
    ticker it gets, or the error that ends it."""
    while True:
        try:
            seen.append(await ex.watch_ticker(symbol))
        except Exception as exc:
            seen.append(exc)
            return


@pytest.mark.parametrize("kind", ["drop", "silent", "delay=400"])
async def test_a_faulted_public_ticker_socket_does_not_disturb_the_bot(
    sqlite_url: str, kind: str
) -> None:
    """The bot decides nothing from tickers, so it opens no public socket: a dropped, silent or
    delayed `tickers` socket on /v5/public/linear and /v5/public/spot (another consumer's) leaves
    its private stream, its cycles and its end state as they are without the fault."""
    target, orders = await poll_reference(sqlite_url)
    paper = await make_paper(sqlite_url, venue=make_venue(), transport="http")
    assert paper.sim is not None and paper.sim.ws is not None
    ws = paper.sim.ws
    ws.faults.load(f"public/linear:{kind}:1;public/spot:{kind}:1")
    watcher = pro_client(paper.sim.url, keep_alive_ms=200)  # a silent socket is seen in 0.4 s
    seen: dict[str, list[object]] = {PERP: [], SPOT: []}
    try:
        async with stream_bot(paper, ping_seconds=0.2) as bot, SimControl(bot.sim.url) as ctl:
            await until(lambda: perp_size(paper.venue) == Decimal(-2))
            await bot.ready()
            tasks = [asyncio.create_task(_ticker_watcher(watcher, s, seen[s])) for s in seen]
            # the fault hits each public socket's first topic message: its ticker snapshot
            await until(lambda: all(seen.values()), 10)
            assert sorted(ws.faults.fired) == sorted(
                [(kind.split("=")[0], "public/linear"), (kind.split("=")[0], "public/spot")]
            )
            for got in seen.values():
                if kind == "delay=400":
                    assert isinstance(got[0], dict) and got[0]["last"] > 0  # late, but whole
                else:  # the other consumer lost its socket (silent: to its missing pongs)
                    wanted = ccxt.RequestTimeout if kind == "silent" else ccxt.NetworkError
                    assert isinstance(got[0], wanted), got
            await ctl.wallet("BTC", NEW_BTC)
            await until(lambda: perp_size(paper.venue) == target, 20)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            assert bot.trigger.reasons["balance"] >= 1
            assert bot.trigger.reasons["lost"] == bot.trigger.reasons["reconnect"] == 0
            assert isinstance(bot.trigger.source, CcxtTriggerStream)
            assert all("/v5/private" in url for url in bot.trigger.source.client.clients)
        links = perp_orders(paper.venue)
        assert perp_size(paper.venue) == target and len(links) == orders
        assert len(set(links)) == len(links)
    finally:
        await watcher.close()
        await paper.close()


async def test_a_change_while_the_stream_first_subscribes_starts_a_cycle(sqlite_url: str) -> None:
    """The first cycle runs at once, while a slow venue has not yet acknowledged the stream's
    subscriptions: a wallet change then reaches neither that cycle nor the stream. The cycle the
    stream starts once it is live reads it, instead of the hour-long poll."""
    paper = await make_paper(sqlite_url, venue=make_venue(), transport="http")
    assert paper.sim is not None and paper.sim.ws is not None
    ws = paper.sim.ws
    ws.subscribe_lag = 2.0
    try:
        async with stream_bot(paper) as bot, SimControl(bot.sim.url) as ctl:
            await until(lambda: perp_size(paper.venue) == Decimal(-2))
            assert ws.subscribers("wallet") == 0  # the venue has not taken the subscription yet
            await ctl.wallet("BTC", NEW_BTC)
            await until(lambda: perp_size(paper.venue) == Decimal("-2.2"), 10)
            assert bot.trigger.reasons["live"] == 1
    finally:
        await paper.close()


async def test_a_reconnect_is_reported_once_the_new_subscriptions_are_live(
    sqlite_url: str,
) -> None:
    """After a dropped socket the full REST reconcile must read the venue after the new socket's
    subscriptions started, or a change in between is seen by neither until the poll."""
    paper = await make_paper(sqlite_url, venue=make_venue(), transport="http")
    assert paper.sim is not None and paper.sim.ws is not None
    ws = paper.sim.ws
    try:
        async with stream_bot(paper) as bot, SimControl(bot.sim.url) as ctl:
            await until(lambda: perp_size(paper.venue) == Decimal(-2))
            await until(lambda: ws.subscribers("wallet") == 1)
            subscribed_at_report: list[int] = []
            fire = bot.trigger.fire

            def report(reason: str) -> None:
                if reason == "reconnect":
                    subscribed_at_report.append(ws.subscribers("wallet"))
                fire(reason)

            bot.trigger.fire = report  # type: ignore[method-assign]
            ws.faults.load("private:drop:1")
            ws.subscribe_lag = 2.0
            await ctl.wallet("BTC", NEW_BTC)  # its update drops the socket; the loss re-reads
            await until(lambda: perp_size(paper.venue) == Decimal("-2.2"))
            await until(lambda: any(r["reconnect"] for r in bot.finished), 10)  # its cycle ran
            assert subscribed_at_report == [1]
            await ctl.wallet("BTC", "2.4")
            await until(lambda: perp_size(paper.venue) == Decimal("-2.4"), 10)
    finally:
        await paper.close()
