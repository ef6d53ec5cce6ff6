"""The account's Bybit v5 private streams through ccxt.pro, reduced to triggers.

A stream update is never handed to the bot as data: each one only says "something changed, run a
cycle", and the cycle reads the venue over REST as always (see README "Stream mode"). Users report
that streams miss events around reconnects (ccxt issues 26945, 22719, 14121, 16398), so the
stream is a trigger, never the record. Watched: balance (``wallet``), positions (``position``),
orders (``order``) and fills (``execution``).

A socket that drops or goes silent makes ccxt reject the watches (ccxt pings every
``ping_seconds`` and gives up after two unanswered pings); each watch is then repeated, which
opens a new socket. ``on_lost`` is called at once, ``on_reconnect`` once the new socket is live:
the venue has acknowledged its subscriptions, so a change after the cycle it starts reads the
venue comes on the stream, and one before is in that read (reporting the bare connection left a
gap that neither saw). ``on_live`` likewise when the first socket is live: the daemon's first
cycle runs before that.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import ccxt.pro

from bot.exchange.factory import VenueConnection, _client, ccxt_client
from bot.exchange.venues import venue_profile
from bot.logging import get_logger

log = get_logger("bot.exchange.stream")
KINDS = ("balance", "position", "order", "fill")
RETRY_SECONDS = (0.05, 0.5, 2.0, 5.0)  # backoff after a failed watch: fast first, then calmer
CONNECT_TIMEOUT = 10.0
CLOSE_SECONDS = 1.0  # the venue's answer to our close frame, at most (then the socket is cut)


def stream_client(conn: VenueConnection, ping_seconds: float = 10.0) -> Any:
    """A ccxt.pro client configured like the REST one; with a venue URL (paper) its websocket
    URLs point at the same host and path, then Bybit's paths."""
    ccxt_client(conn)  # the same validation (live refused, keys present ...)
    profile = venue_profile(conn.venue)
    client = _client(profile.spot_class, profile, conn, module=ccxt.pro)
    if conn.url:
        parts = urlsplit(conn.url)
        # the venue URL's path too, as the REST URLs keep it (factory._point_at)
        ws = (
            f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}{parts.path.rstrip('/')}"
        )
        client.urls["api"]["ws"] = {
            "public": {k: f"{ws}/v5/public/{k}" for k in ("spot", "linear", "inverse", "option")},
            "private": {k: f"{ws}/v5/private" for k in ("contract", "usdc", "trade")},
        }
    client.streaming["keepAlive"] = int(ping_seconds * 1000)
    # the REST positions snapshot ccxt would load first is of no use to a trigger
    client.options["watchPositions"] = {"fetchPositionsSnapshot": False}
    return client


class CcxtTriggerStream:
    def __init__(
        self,
        client: Any,
        on_event: Callable[[str], None],
        on_lost: Callable[[str], None],
        on_reconnect: Callable[[], None],
        on_live: Callable[[], None] = lambda: None,
    ) -> None:
        self.client = client
        self._on_event = on_event
        self._on_lost = on_lost
        self._on_reconnect = on_reconnect
        self._on_live = on_live
        self._lost = False
        self._live = False  # the current socket's subscriptions are acknowledged
        self._acks: dict[Any, int] = {}  # subscribe acknowledgements by ccxt websocket client
        self._waiting_since: float | None = None  # when the wait for a live socket began
        self.events = 0
        self.reconnects = 0
        handle = client.handle_message  # ccxt has no hook for acks: look at them on the way

        def observe(ws_client: Any, message: Any) -> Any:
            if (
                isinstance(message, dict)
                and message.get("op") == "subscribe"
                and message.get("success")
            ):
                self._acks[ws_client] = self._acks.get(ws_client, 0) + 1
            return handle(ws_client, message)

        client.handle_message = observe  # its websocket clients are made later, with this

    def __repr__(self) -> str:
        return f"CcxtTriggerStream(events={self.events}, reconnects={self.reconnects})"

    async def run(self) -> None:
        """Watch until cancelled (the caller owns the task and closes the client)."""
        await self.client.load_markets()
        watches: dict[str, Callable[[], Awaitable[Any]]] = {
            "balance": self.client.watch_balance,
            "position": self.client.watch_positions,
            "order": self.client.watch_orders,
            "fill": self.client.watch_my_trades,
        }
        await asyncio.gather(*(self._watch(kind, watch) for kind, watch in watches.items()))

    async def close(self) -> None:
        """ccxt closes a socket by waiting up to aiohttp's 10 s for the venue's close frame, which
        a dead socket never sends: the handshake is cut short here, so a stop stays prompt."""
        sockets = list((getattr(self.client, "clients", None) or {}).values())
        open_ = [s.connection for s in sockets if getattr(s, "connection", None) is not None]
        await asyncio.gather(*(_close_within(c, CLOSE_SECONDS) for c in open_ if not c.closed))
        await self.client.close()

    async def _watch(self, kind: str, watch: Callable[[], Awaitable[Any]]) -> None:
        failures = 0
        while True:
            pending = asyncio.ensure_future(watch())
            if self._lost or not self._live:
                await self._confirm_live(pending)
            try:
                await pending
            except asyncio.CancelledError:
                pending.cancel()
                raise
            except Exception as exc:  # any failure: the socket is replaced
                delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                failures += 1
                if not self._lost:
                    self._lost, self._live = True, False
                    self._acks.clear()
                    self._waiting_since = None
                    log.warning("stream lost; REST reconcile until it is back", error=str(exc))
                    self._on_lost(kind)
                await asyncio.sleep(delay)
                continue
            failures = 0
            self.events += 1
            self._on_event(kind)

    async def _confirm_live(self, pending: asyncio.Future[Any]) -> None:
        """Report the socket once the venue acknowledged one subscription per watch (after
        CONNECT_TIMEOUT, once it is connected at all: better late than never). The time counts
        from the first wait, not from each call: updates may end every call sooner."""
        loop = asyncio.get_running_loop()
        if self._waiting_since is None:
            self._waiting_since = loop.time()
        deadline = self._waiting_since + CONNECT_TIMEOUT
        while (self._lost or not self._live) and not pending.done():
            clients = list((getattr(self.client, "clients", None) or {}).values())
            up = [c for c in clients if c.connected is not None and c.connected.done()]
            up = [c for c in up if not c.connected.cancelled() and c.connected.exception() is None]
            late = loop.time() > deadline
            if any(self._acks.get(c, 0) >= len(KINDS) for c in up) or (up and late):
                self._live, self._waiting_since = True, None
                if self._lost:
                    self._lost = False
                    self.reconnects += 1
                    log.info("stream reconnected; next cycle is a full REST reconcile")
                    self._on_reconnect()
                else:
                    log.info("stream live")
                    self._on_live()
                return
            await asyncio.sleep(0.01)  # a bounded wait on ccxt's state, while (re)connecting


async def _close_within(connection: Any, seconds: float) -> None:
    # aiohttp's close, cancelled by the timeout, drops the transport instead
    with contextlib.suppress(Exception):
        await asyncio.wait_for(connection.close(), seconds)
