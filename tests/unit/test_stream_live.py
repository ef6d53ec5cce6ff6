"""When the stream reports its socket live (bot/exchange/ccxt_stream.py): once the venue has
acknowledged one subscription per watch, or, failing that, once CONNECT_TIMEOUT has passed since
it started waiting, however often updates arrive meanwhile."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.exchange import ccxt_stream
from bot.exchange.ccxt_stream import CcxtTriggerStream


class FakeSocket:
    def __init__(self) -> None:
        self.connected: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.connected.set_result(True)


class FakeClient:
    """ccxt.pro's surface the stream uses: each watch answers the next update put for it."""

    def __init__(self) -> None:
        self.socket = FakeSocket()
        self.clients = {"ws://venue/v5/private": self.socket}
        self.updates: dict[str, asyncio.Queue[int]] = {
            k: asyncio.Queue() for k in ("balance", "position", "order", "fill")
        }

    def handle_message(self, client: Any, message: Any) -> None:
        pass

    async def load_markets(self) -> None:
        pass

    async def watch_balance(self) -> int:
        return await self.updates["balance"].get()

    async def watch_positions(self) -> int:
        return await self.updates["position"].get()

    async def watch_orders(self) -> int:
        return await self.updates["order"].get()

    async def watch_my_trades(self) -> int:
        return await self.updates["fill"].get()


async def until(condition: Any, seconds: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.005)


async def test_live_once_every_watch_has_its_acknowledgement() -> None:
    client, live = FakeClient(), []
    stream = CcxtTriggerStream(client, print, print, print, lambda: live.append(None))
    task = asyncio.create_task(stream.run())
    try:
        for n in range(4):
            await asyncio.sleep(0.05)  # a slow venue between acknowledgements
            assert live == []
            client.handle_message(client.socket, {"success": True, "op": "subscribe", "n": n})
        await until(lambda: live == [None])
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_without_acknowledgements_live_after_the_timeout_despite_updates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Updates arriving more often than CONNECT_TIMEOUT must not restart its count."""
    monkeypatch.setattr(ccxt_stream, "CONNECT_TIMEOUT", 0.3)
    client, live, events = FakeClient(), [], []
    stream = CcxtTriggerStream(client, events.append, print, print, lambda: live.append(None))
    task = asyncio.create_task(stream.run())
    try:
        loop = asyncio.get_running_loop()
        start = loop.time()
        while not live:
            assert loop.time() - start < 3, "never reported live"
            for updates in client.updates.values():  # every watch updated every 50 ms
                updates.put_nowait(1)
            await asyncio.sleep(0.05)
        assert live == [None] and events
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
