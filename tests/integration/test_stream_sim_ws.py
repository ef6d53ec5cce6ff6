"""The simulator's websocket front against the unmodified ccxt.pro bybit client: every topic the
bot watches is subscribed and received, in shapes ccxt parses."""

from __future__ import annotations

import asyncio

import aiohttp

from bot.sim.control_client import SimControl
from tests.integration.stream_rig import hub, pro_sim, until

PERP, SPOT = "BTC/USDT:USDT", "BTC/USDT"


async def test_every_private_topic_reaches_ccxt_pro() -> None:
    async with pro_sim() as (sim, _feed, ex):
        ex.options["watchPositions"] = {"fetchPositionsSnapshot": False}
        await ex.load_markets()
        balance = asyncio.create_task(ex.watch_balance())
        positions = asyncio.create_task(ex.watch_positions())
        orders = asyncio.create_task(ex.watch_orders())
        trades = asyncio.create_task(ex.watch_my_trades())
        ws = hub(sim)
        await until(
            lambda: all(ws.subscribers(t) for t in ("wallet", "position", "order", "execution"))
        )
        await ex.create_order(PERP, "market", "sell", 0.5, None, {"clientOrderId": "h-1"})
        done = await asyncio.wait_for(asyncio.gather(balance, positions, orders, trades), 10)
        bal, (pos,), (order,), (trade,) = done
        assert pos["symbol"] == PERP and pos["side"] == "short" and pos["contracts"] == 0.5
        assert order["clientOrderId"] == "h-1" and order["status"] == "closed"
        assert order["filled"] == 0.5
        assert trade["order"] == order["id"] and trade["amount"] == 0.5 and trade["side"] == "sell"
        # ccxt takes "used" from Bybit's "locked" field, as the real wallet stream carries it
        assert bal["BTC"]["total"] == 2 and bal["USDT"]["total"] < 100000


async def test_watch_positions_with_ccxt_defaults_starts_from_the_rest_snapshot() -> None:
    async with pro_sim() as (_sim, _feed, ex):
        await ex.load_markets()
        await ex.create_order(PERP, "market", "sell", 0.5)
        (pos,) = await asyncio.wait_for(ex.watch_positions(), 10)  # linear and inverse lists
        assert pos["symbol"] == PERP and pos["contracts"] == 0.5


async def test_a_wallet_change_through_the_control_route_is_pushed() -> None:
    async with pro_sim() as (sim, _feed, ex), SimControl(sim.url) as control:
        await ex.load_markets()
        balance = asyncio.create_task(ex.watch_balance())
        await until(lambda: hub(sim).subscribers("wallet") == 1)
        await control.wallet("BTC", "2.5")
        bal = await asyncio.wait_for(balance, 10)
        assert bal["BTC"]["total"] == 2.5


async def test_tickers_snapshot_then_updates_on_both_public_paths() -> None:
    async with pro_sim() as (sim, _feed, ex), SimControl(sim.url) as control:
        await ex.load_markets()
        first = await asyncio.wait_for(ex.watch_tickers([PERP]), 10)
        assert first[PERP]["last"] == 60000 and first[PERP]["markPrice"] == 60000
        spot = await asyncio.wait_for(ex.watch_ticker(SPOT), 10)
        assert spot["last"] == 60000
        nxt = asyncio.create_task(ex.watch_tickers([PERP]))
        await control.price("BTC", "61000")
        moved = await asyncio.wait_for(nxt, 10)
        assert moved[PERP]["markPrice"] == 61000 and moved[PERP]["last"] == 61000


async def test_bad_signature_is_refused_like_bybit() -> None:
    async with pro_sim() as (_sim, _feed, ex):
        ex.secret = "wrong"
        await ex.load_markets()
        try:
            await asyncio.wait_for(ex.watch_balance(), 10)
        except Exception as exc:  # ccxt raises ExchangeError carrying Bybit's ret_msg
            assert "Request not authorized" in str(exc)
        else:
            raise AssertionError("a bad signature was accepted")


async def test_ping_is_answered_with_bybit_pong_shapes() -> None:
    async with pro_sim() as (sim, _feed, _ex):
        url = sim.url.replace("http://", "ws://")
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(url + "/v5/public/linear") as ws:
                await ws.send_json({"req_id": "7", "op": "ping"})
                pong = await ws.receive_json(timeout=5)
                assert pong["success"] is True and pong["ret_msg"] == "pong"
                assert pong["op"] == "ping" and pong["req_id"] == "7" and pong["conn_id"]
                await ws.send_json({"req_id": "8", "op": "subscribe", "args": ["tickers.NOPE"]})
                ack = await ws.receive_json(timeout=5)
                assert ack["success"] is False and ack["op"] == "subscribe"
            async with session.ws_connect(url + "/v5/private") as ws:
                await ws.send_json({"req_id": "9", "op": "ping"})
                pong = await ws.receive_json(timeout=5)
                assert pong["op"] == "pong" and pong["req_id"] == "9" and pong["args"][0].isdigit()
                await ws.send_json({"req_id": "10", "op": "subscribe", "args": ["wallet"]})
                ack = await ws.receive_json(timeout=5)
                assert ack == {
                    "success": False,
                    "ret_msg": "Request not authorized",
                    "conn_id": ack["conn_id"],
                    "req_id": "10",
                    "op": "subscribe",
                }
