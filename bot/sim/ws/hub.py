"""The websocket endpoints of the simulator, speaking Bybit v5's protocol:

- ``{"op": "auth", "args": [apiKey, expires, signature]}`` with signature =
  hex(HMAC_SHA256(secret, "GET/realtime" + expires)) and expires (ms) in the future;
- ``{"op": "subscribe"|"unsubscribe", "req_id": ..., "args": [topics]}`` answered by
  ``{"success", "ret_msg", "conn_id", "req_id", "op"}``;
- ``{"op": "ping"}``: public sockets answer ``{"success": true, "ret_msg": "pong", ..., "op":
  "ping"}``, the private one ``{"req_id", "op": "pong", "args": [ms], "conn_id"}``.

The hub sits in front of the REST app as a middleware: a websocket upgrade on one of the three
paths is served here, every other request goes through and, unless a GET, is followed by a
publication of what changed (``changes.py``). Faults (``faults.py`` websocket kinds) act on topic
messages only, per socket, in order: each socket has one writer task and a queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from bot.sim.bybit_auth import Credentials
from bot.sim.faults import Faults
from bot.sim.venue import Venue
from bot.sim.ws.changes import PRIVATE_TOPICS, ChangeTracker, Message

PATHS = {"/v5/public/linear": "linear", "/v5/public/spot": "spot", "/v5/private": "private"}
log = logging.getLogger("bot.sim.ws")


def wall_ms() -> int:
    return int(time.time() * 1000)


def realtime_signature(secret: str, expires: str) -> str:
    return hmac.new(secret.encode(), f"GET/realtime{expires}".encode(), hashlib.sha256).hexdigest()


@dataclass(eq=False)
class Connection:
    ws: web.WebSocketResponse
    request: web.Request
    kind: str  # "linear", "spot" or "private"
    conn_id: str
    topics: set[str] = field(default_factory=set)
    authed: bool = False
    silent: bool = False
    queue: asyncio.Queue[tuple[Message, bool]] = field(default_factory=asyncio.Queue)
    unsent: int = 0  # queued messages not yet written (or dropped by a fault)

    def abort(self) -> None:
        if self.request.transport is not None:
            self.request.transport.abort()

    def go_silent(self) -> None:
        """A dead peer: nothing read from here on, so no pong and no answer to a close frame
        either (aiohttp answers that one by itself while the socket is read)."""
        self.silent = True
        if self.request.transport is not None:
            self.request.transport.pause_reading()


class WsHub:
    def __init__(
        self,
        venue: Venue,
        credentials: Credentials,
        faults: Faults | None = None,
        clock_ms: Callable[[], int] = wall_ms,
    ) -> None:
        self.venue = venue
        self.faults = faults or Faults(websocket=True)
        self.tracker = ChangeTracker(venue)
        self.connections: set[Connection] = set()
        self.opened = 0  # sockets ever accepted, for tests of reconnection
        # a slow venue: subscribe requests are acknowledged (and start) this many seconds late
        self.subscribe_lag = 0.0
        self.sent: Counter[str] = Counter()  # topic messages written, by socket kind
        self._creds = credentials
        self._clock_ms = clock_ms
        self._ids = itertools.count(1)

    def __repr__(self) -> str:
        return f"WsHub(connections={len(self.connections)})"

    def subscribers(self, topic: str) -> int:
        """Live ones: a silent socket stays open (its peer is gone) but listens to nothing."""
        return sum(topic in c.topics and not c.silent for c in self.connections)

    def idle(self) -> bool:
        """Nothing queued or being written on any socket (tests wait for it before a cycle)."""
        return all(c.unsent == 0 for c in self.connections)

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path in PATHS and request.headers.get("Upgrade", "").lower() == "websocket":
            return await self.serve(request)
        response = await handler(request)
        if request.method != "GET":
            self.publish()
        return response

    def publish(self) -> None:
        """Send every subscriber what changed since the last publication."""
        for message in self.tracker.private():
            self._push("private", message["topic"], message)
        wanted = {(c.kind, t) for c in self.connections if c.kind != "private" for t in c.topics}
        for kind, topic in sorted(wanted):
            ticker = self.tracker.ticker(kind, topic.split(".", 1)[1], snapshot=False)
            if ticker is not None:
                self._push(kind, topic, ticker)

    async def close(self) -> None:
        for conn in list(self.connections):
            conn.abort()
        self.connections.clear()

    # ---- one socket ---------------------------------------------------------------------------
    async def serve(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=False)  # a silent socket must not answer pings
        await ws.prepare(request)
        conn = Connection(ws, request, PATHS[request.path], f"sim-conn-{next(self._ids)}")
        self.connections.add(conn)
        self.opened += 1
        writer = asyncio.create_task(self._write(conn))
        try:
            async for msg in ws:
                if conn.silent:
                    continue
                if msg.type == WSMsgType.PING:
                    await ws.pong(msg.data)
                elif msg.type == WSMsgType.TEXT:
                    self._on_text_later(conn, msg.data)
        finally:
            self.connections.discard(conn)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        return ws

    async def _write(self, conn: Connection) -> None:
        while True:
            message, is_topic = await conn.queue.get()
            try:
                if not await self._write_one(conn, message, is_topic):
                    return
            finally:
                conn.unsent -= 1

    async def _write_one(self, conn: Connection, message: Message, is_topic: bool) -> bool:
        """Write one message, faults applied; False once the socket is gone."""
        if conn.silent:
            return True
        rule = self.faults.pick("WS", conn.request.path) if is_topic else None
        if rule is not None:
            log.info("websocket fault %s on %s", rule.kind, conn.conn_id)
            if rule.kind == "drop":
                conn.abort()
                return False
            if rule.kind == "silent":
                conn.go_silent()
                return True
            if rule.kind == "delay":
                await asyncio.sleep(float(rule.param or 0) / 1000)
        try:
            await conn.ws.send_str(json.dumps(message, separators=(",", ":")))
        except ConnectionError:
            return False
        if is_topic:
            self.sent[conn.kind] += 1
        return True

    def _push(self, kind: str, topic: str, message: Message) -> None:
        for conn in self.connections:
            if conn.kind == kind and topic in conn.topics and not conn.silent:
                self._queue(conn, message, True)

    def _reply(self, conn: Connection, message: Message) -> None:
        self._queue(conn, message, False)

    @staticmethod
    def _queue(conn: Connection, message: Message, is_topic: bool) -> None:
        conn.unsent += 1
        conn.queue.put_nowait((message, is_topic))

    def _on_text_later(self, conn: Connection, text: str) -> None:
        if self.subscribe_lag and '"subscribe"' in text:  # pings meanwhile are answered
            asyncio.get_running_loop().call_later(self.subscribe_lag, self._on_text, conn, text)
        else:
            self._on_text(conn, text)

    def _on_text(self, conn: Connection, text: str) -> None:
        try:
            request = json.loads(text)
            op = request.get("op")
        except (ValueError, AttributeError):
            request, op = {}, None
        req_id = request.get("req_id")
        args = request.get("args") or []
        if op == "ping":
            self._reply(conn, self._pong(conn, req_id))
        elif op == "auth":
            self._auth(conn, args)
        elif op in ("subscribe", "unsubscribe"):
            self._subscribe(conn, op, req_id, [str(a) for a in args])
        else:
            self._reply(conn, self._ack(conn, op or "", req_id, "error:invalid op"))

    def _ack(self, conn: Connection, op: str, req_id: Any, error: str = "") -> Message:
        out: Message = {"success": not error, "ret_msg": error, "conn_id": conn.conn_id}
        if req_id is not None:
            out["req_id"] = req_id
        out["op"] = op
        return out

    def _pong(self, conn: Connection, req_id: Any) -> Message:
        if conn.kind == "private":
            out: Message = {"req_id": req_id} if req_id is not None else {}
            return {**out, "op": "pong", "args": [str(self._clock_ms())], "conn_id": conn.conn_id}
        return {**self._ack(conn, "ping", req_id), "ret_msg": "pong"}

    def _auth(self, conn: Connection, args: list[Any]) -> None:
        ok = conn.kind == "private" and len(args) == 3
        if ok:
            key, expires, signature = (str(a) for a in args)
            ok = (
                hmac.compare_digest(key, self._creds.api_key)
                and expires.isdigit()
                and int(expires) > self._clock_ms()
                and hmac.compare_digest(
                    signature, realtime_signature(self._creds.api_secret, expires)
                )
            )
        conn.authed = conn.authed or ok
        self._reply(conn, self._ack(conn, "auth", None, "" if ok else "Request not authorized"))

    def _subscribe(self, conn: Connection, op: str, req_id: Any, topics: list[str]) -> None:
        if op == "unsubscribe":
            conn.topics.difference_update(topics)
            self._reply(conn, self._ack(conn, op, req_id))
            return
        error = next((e for e in (self._refuse(conn, t) for t in topics) if e), "")
        self._reply(conn, self._ack(conn, op, req_id, error))
        if error:
            return
        for topic in topics:
            conn.topics.add(topic)
            if conn.kind != "private":  # Bybit opens a ticker subscription with a snapshot
                snap = self.tracker.ticker(conn.kind, topic.split(".", 1)[1], snapshot=True)
                self._queue(conn, snap or {}, True)

    def _refuse(self, conn: Connection, topic: str) -> str:
        if topic in conn.topics:
            return f"error:already subscribed,topic:{topic}"
        if conn.kind == "private":
            if not conn.authed:
                return "Request not authorized"
            return "" if topic in PRIVATE_TOPICS else f"error:handler not found,topic:{topic}"
        name, _, symbol = topic.partition(".")
        known = {m.symbol for m in self.venue.instruments(conn.kind)}
        if name != "tickers" or symbol not in known:
            return f"error:handler not found,topic:{topic}"
        return ""
