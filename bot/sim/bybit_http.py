"""The Bybit v5 REST front of the simulator: an aiohttp application over one ``Venue``.

Every answer is the v5 envelope ``{"retCode", "retMsg", "result", "retExtInfo", "time"}``; venue
rejections keep Bybit's retCode (HTTP 200), a bad key is HTTP 401 with 10003. ``time`` is the
venue's (simulated) clock, except on /v5/market/time, which reports the wall clock that ccxt signs
with. Faults (``faults.py``) are applied per request before or after the venue handles it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from aiohttp import web

from bot.sim import bybit_batch, bybit_private, bybit_public, control
from bot.sim.bars import to_ms
from bot.sim.bybit_auth import AuthError, Credentials, verify
from bot.sim.bybit_batch import BatchAnswer
from bot.sim.bybit_params import Params
from bot.sim.errors import VenueError, params_error
from bot.sim.faults import MESSAGES, FaultRule, Faults
from bot.sim.ratelimit import IP_REFUSED, SimLimits, Verdict
from bot.sim.venue import Venue

Handler = Callable[[Venue, Params], Any]
DEFAULT_HANG_SECONDS = 30.0


def wall_ms() -> int:
    return int(time.time() * 1000)


class BybitFront:
    def __init__(
        self,
        venue: Venue,
        credentials: Credentials,
        faults: Faults | None = None,
        clock_ms: Callable[[], int] = wall_ms,
    ) -> None:
        self.venue = venue
        self.faults = faults or Faults()
        self._creds = credentials
        self._clock_ms = clock_ms
        self._stopping = asyncio.Event()
        self.limits: SimLimits | None = None  # Bybit's request windows, when enforced
        # (method, path) -> requests received, so tests can count what a bot cycle costs
        self.requests: Counter[tuple[str, str]] = Counter()
        self._routes: dict[tuple[str, str], tuple[Handler, bool]] = {
            **{("GET", path): (h, False) for path, h in bybit_public.ROUTES.items()},
            **{("GET", path): (h, True) for path, h in bybit_private.GET_ROUTES.items()},
            **{("POST", path): (h, True) for path, h in bybit_private.POST_ROUTES.items()},
            **{("POST", path): (h, True) for path, h in bybit_batch.POST_ROUTES.items()},
            ("GET", "/v5/user/query-api"): (self._query_api, True),
            # scenario control (control.py), signed like the private routes
            **{("GET", path): (h, True) for path, h in control.GET_ROUTES.items()},
            **{("POST", path): (h, True) for path, h in control.POST_ROUTES.items()},
        }

    def __repr__(self) -> str:
        return f"BybitFront(routes={len(self._routes)})"

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/v5/market/time", self._time)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    def release_hung(self) -> None:
        """Let requests held by a ``timeout`` fault end (at shutdown)."""
        self._stopping.set()

    def _envelope(self, result: Any, code: int = 0, message: str = "OK") -> dict[str, Any]:
        return {
            "retCode": code,
            "retMsg": message,
            "result": result,
            "retExtInfo": {},
            "time": to_ms(self.venue.now),
        }

    async def _time(self, request: web.Request) -> web.StreamResponse:
        self.requests[(request.method, request.path)] += 1
        rule = self.faults.pick(request.method, request.path)
        if rule is not None:
            early = await self._before(rule, request)
            if early is not None:
                return early
        now = self._clock_ms()
        result = {"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)}
        return web.json_response({**self._envelope(result), "time": now})

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests[(request.method, request.path)] += 1
        route = self._routes.get((request.method, request.path))
        if route is None:
            return web.Response(status=404, text="Not Found")
        rule = self.faults.pick(request.method, request.path)
        if rule is not None:
            early = await self._before(rule, request)
            if early is not None:
                return early
        handler, signed = route
        verdict = await self._limit(request)
        if verdict.status != 200:
            return web.Response(status=verdict.status, text=IP_REFUSED)
        if verdict.ret_code:
            body = self._envelope({}, verdict.ret_code, MESSAGES[verdict.ret_code])
            return web.json_response(body, headers=verdict.headers)
        try:
            body = await self._serve(request, handler, signed, rule)
        except AuthError as exc:
            return web.json_response(
                self._envelope({}, exc.ret_code, exc.message), status=exc.http_status
            )
        if rule is not None and rule.kind == "drop_after_accept":
            return self._drop(request)
        return web.json_response(body, headers=verdict.headers)

    async def _limit(self, request: web.Request) -> Verdict:
        if self.limits is None or request.path.startswith("/sim/"):
            return Verdict()  # scenario control is the simulator's own, not Bybit's traffic
        payload = await request.text() if request.method == "POST" else ""
        try:
            params = _parse(request, payload)
        except VenueError:
            params = {}  # a malformed body is refused by the handler, after counting
        return self.limits.check(request.path, params)

    async def _serve(
        self, request: web.Request, handler: Handler, signed: bool, rule: FaultRule | None
    ) -> dict[str, Any]:
        if request.method == "POST":
            payload = await request.text()
        else:
            payload = request.rel_url.raw_query_string
        if signed:
            verify(request.headers, payload, self._creds, self._clock_ms())
        try:
            params = Params(_parse(request, payload))
            if rule is not None and rule.kind == "partial":
                self.venue.queue_partial_fill(Decimal(str(rule.param)), params.get("symbol"))
            answer = handler(self.venue, params)
            if isinstance(answer, BatchAnswer):  # per-order codes ride in retExtInfo
                return {**self._envelope(answer.result), "retExtInfo": answer.ext}
            return self._envelope(answer)
        except VenueError as exc:
            return self._envelope({}, exc.ret_code, exc.message)

    async def _before(self, rule: FaultRule, request: web.Request) -> web.StreamResponse | None:
        """Apply a fault that acts before the venue; None lets the request through."""
        if rule.kind == "latency":
            await asyncio.sleep(float(rule.param or 0) / 1000)
            return None
        if rule.kind == "timeout":
            seconds = float(rule.param) if rule.param is not None else DEFAULT_HANG_SECONDS
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), seconds)
            return self._drop(request)
        if rule.kind == "reset":
            return self._drop(request)
        if rule.kind == "http":
            status = rule.status or 503
            return web.Response(status=status, text="Service Unavailable")
        if rule.kind in ("http429", "ratelimit"):
            body = self._envelope({}, 10006, MESSAGES[10006])
            return web.json_response(body, status=429 if rule.kind == "http429" else 200)
        if rule.kind == "reject":
            code = int(rule.param or 10016)
            return web.json_response(self._envelope({}, code, MESSAGES.get(code, "error")))
        return None  # partial and drop_after_accept act around the venue call

    def _drop(self, request: web.Request) -> web.StreamResponse:
        """Close the connection without an answer (the client sees a disconnect)."""
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=204)

    def _query_api(self, venue: Venue, p: Params) -> dict[str, Any]:
        return {
            "id": "1",
            "note": "hedgebot simulator",
            "apiKey": "***",  # never echo credentials
            "readOnly": 0,
            "secret": "",
            "permissions": {
                "ContractTrade": ["Order", "Position"],
                "Spot": ["SpotTrade"],
                "Wallet": ["AccountTransfer"],
                "Options": [],
                "Derivatives": [],
                "CopyTrading": [],
                "BlockTrade": [],
                "Exchange": [],
                "NFT": [],
                "Affiliate": [],
            },
            "ips": ["*"],
            "type": 1,
            "deadlineDay": -1,
            "expiredAt": "",
            "createdAt": "",
            "unified": 0,
            "uta": 1,
            "userID": 1,
            "inviterID": 0,
            "vipLevel": "No VIP",
            "mktMakerLevel": "0",
            "affiliateID": 0,
            "isMaster": True,
        }


def _parse(request: web.Request, payload: str) -> dict[str, Any]:
    if request.method != "POST":
        return {k: request.rel_url.query.get(k) for k in request.rel_url.query}
    if not payload:
        return {}
    try:
        data = json.loads(payload)
    except json.JSONDecodeError:
        raise params_error("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise params_error("the body must be a JSON object")
    return data
