"""Bybit's request limits, enforced by the simulator as Bybit answers past them.

The windows are Bybit's documented v5 limits (``bot.exchange.limits``, one table for the bot's
pacing and for this check): per endpoint a rolling one-second window (batch endpoints count each
order), and 600 requests per 5 s for all traffic. Past an endpoint window: HTTP 200 with retCode
10006 "Too many visits!"; past the IP window: HTTP 403 "access too frequent" (Bybit's rate-limit
page; ccxt maps both to RateLimitExceeded). Endpoint answers carry X-Bapi-Limit (the window),
X-Bapi-Limit-Status (what is left) and X-Bapi-Limit-Reset-Timestamp (ms, when it has room again).
A refused request does not count. ``refused`` keeps what was refused, for tests.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.exchange.limits import IP_LIMIT, cost, endpoint

IP_REFUSED = "access too frequent"


class _Log:
    def __init__(self, limit: int, period: float) -> None:
        self.limit, self.period = limit, period
        self.times: deque[float] = deque()

    def room(self, now: float) -> int:
        while self.times and self.times[0] <= now - self.period:
            self.times.popleft()
        return self.limit - len(self.times)

    def reset_at(self, now: float) -> float:
        return self.times[0] + self.period if self.times else now


@dataclass
class Verdict:
    status: int = 200  # 403: IP window exceeded
    ret_code: int = 0  # 10006: endpoint window exceeded
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class SimLimits:
    clock: Callable[[], float] = time.monotonic
    wall_ms: Callable[[], int] = lambda: int(time.time() * 1000)
    refused: Counter[str] = field(default_factory=Counter)
    _ip: _Log = field(init=False)
    _endpoints: dict[str, _Log] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._ip = _Log(*IP_LIMIT)

    def check(self, path: str, params: Mapping[str, Any]) -> Verdict:
        now = self.clock()
        if self._ip.room(now) < 1:
            self.refused["ip"] += 1
            return Verdict(status=403)
        window = endpoint(path, params)
        if window is None:
            self._ip.times.append(now)
            return Verdict()
        log = self._endpoints.get(window.key)
        if log is None:
            log = self._endpoints[window.key] = _Log(window.limit, 1.0)
        units = cost(path, params)
        room = log.room(now)
        ok = units <= room
        if ok:
            self._ip.times.append(now)
            log.times.extend([now] * units)
            room -= units
        else:
            self.refused[window.key] += 1
        reset_ms = self.wall_ms() + int(max(0.0, log.reset_at(now) - now) * 1000)
        headers = {
            "X-Bapi-Limit": str(window.limit),
            "X-Bapi-Limit-Status": str(max(0, room)),
            "X-Bapi-Limit-Reset-Timestamp": str(reset_ms),
        }
        return Verdict(ret_code=0 if ok else 10006, headers=headers)
