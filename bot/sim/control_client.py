"""A small async client of the simulator's control routes (``control.py``), signing each request
as Bybit v5 private routes are signed. For tests and for operators rehearsing a scenario:

    async with SimControl(url) as sim:
        await sim.price("BTC", "42000")
        await sim.advance(3600)
        state = await sim.state()
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bot.sim.bybit_auth import DEFAULT_RECV_WINDOW, sign
from bot.sim.server import DEFAULT_API_KEY, DEFAULT_API_SECRET


class SimControlError(Exception):
    def __init__(self, ret_code: int, message: str) -> None:
        self.ret_code = ret_code
        super().__init__(f"simulator refused ({ret_code}): {message}")


class SimControl:
    def __init__(
        self,
        url: str,
        api_key: str = DEFAULT_API_KEY,
        api_secret: str = DEFAULT_API_SECRET,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self._key = api_key
        self._secret = api_secret
        self._session = session
        self._own_session = session is None

    def __repr__(self) -> str:
        return f"SimControl({self.url!r})"  # never the credentials

    async def __aenter__(self) -> SimControl:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
        self._session = None

    # ---- routes -------------------------------------------------------------------------------
    async def advance(self, seconds: float | int | Decimal | str) -> dict[str, Any]:
        return await self.post("/sim/advance", {"seconds": str(seconds)})

    async def price(
        self, coin: str, price: Decimal | int | str, basis: Decimal | str | None = None
    ) -> dict[str, Any]:
        body = {"coin": coin, "price": str(price)}
        if basis is not None:
            body["basis"] = str(basis)
        return await self.post("/sim/price", body)

    async def wallet(self, coin: str, amount: Decimal | int | str) -> dict[str, Any]:
        return await self.post("/sim/wallet", {"coin": coin, "amount": str(amount)})

    async def state(self) -> dict[str, Any]:
        return await self.get("/sim/state")

    # ---- signing ------------------------------------------------------------------------------
    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        payload = json.dumps(body, separators=(",", ":"))
        return await self._call("POST", path, payload, payload)

    async def get(self, path: str, query: dict[str, str] | None = None) -> dict[str, Any]:
        qs = urlencode(query or {})
        return await self._call("GET", path + (f"?{qs}" if qs else ""), None, qs)

    def headers(self, payload: str) -> dict[str, str]:
        ts, window = str(int(time.time() * 1000)), str(DEFAULT_RECV_WINDOW)
        return {
            "X-BAPI-API-KEY": self._key,
            "X-BAPI-TIMESTAMP": ts,
            "X-BAPI-RECV-WINDOW": window,
            "X-BAPI-SIGN": sign(self._secret, ts, self._key, window, payload),
            "Content-Type": "application/json",
        }

    async def _call(
        self, method: str, target: str, data: str | None, payload: str
    ) -> dict[str, Any]:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        async with self._session.request(
            method, self.url + target, data=data, headers=self.headers(payload)
        ) as resp:
            body = await resp.json(content_type=None)
        if body.get("retCode") != 0:
            raise SimControlError(int(body.get("retCode", -1)), str(body.get("retMsg", "")))
        result: dict[str, Any] = body["result"]
        return result
