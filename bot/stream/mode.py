"""Starting and stopping the stream beside the daemon loop (bot/cli.py ``run``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from bot.logging import get_logger
from bot.stream.trigger import CycleTrigger

log = get_logger("bot.stream")


@contextlib.asynccontextmanager
async def stream_trigger(
    connection: Any, mode: str, ping_seconds: float, confirm_seconds: float = 1.0
) -> AsyncIterator[CycleTrigger | None]:
    """In stream mode, a CycleTrigger fed by the venue's private streams; otherwise None. The
    stream's failures never end the daemon: polling goes on and the stream reconnects."""
    if mode != "stream" or connection is None:
        yield None
        return
    if connection.venue != "bybit":  # a split account (Binance) would need two streams
        log.warning("stream mode is implemented for bybit only; polling", venue=connection.venue)
        yield None
        return
    from bot.exchange.ccxt_stream import CcxtTriggerStream, stream_client

    trigger = CycleTrigger(confirm_seconds)
    stream = CcxtTriggerStream(
        stream_client(connection, ping_seconds),
        on_event=trigger.fire,
        on_lost=lambda kind: trigger.lost("lost"),
        on_reconnect=trigger.reconnected,
        on_live=lambda: trigger.fire("live"),  # the first cycle ran before the stream was live
    )
    trigger.source = stream
    task = asyncio.create_task(_run(stream))
    log.info("stream mode: private streams trigger cycles", ping_seconds=ping_seconds)
    try:
        yield trigger
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await stream.close()


async def _run(stream: Any) -> None:
    while True:
        try:
            await stream.run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # e.g. markets not loadable yet: polling carries on
            log.warning("stream stopped; retrying", error=f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(5.0)
